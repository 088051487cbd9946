import {
  type NetworkOverlay,
  OverlaySwitch,
  type PeerName,
  peerNameFromNumber,
  Router,
  type RouterOptions,
} from '@weave-ts/core';
import {
  MemoryLocalPort,
  parseFrame,
  pingFrame,
  SeededRandom,
  SimNetwork,
  simRouterOptions,
  startAndConverge,
} from '@weave-ts/core/testing';
import { expect } from 'vitest';
import { SimulatedUnderlay, SleeveOverlay, type UnderlayPath } from '../src/index.js';

/**
 * Real core Routers over the sleeve, all in memory on one virtual clock: TCP over core's SimNetwork,
 * UDP over our SimulatedUnderlay, containers played by core's MemoryLocalPort.
 */

export const nameOf = (n: number): PeerName => peerNameFromNumber(0x0a0000000000 + n);
export const ipOf = (n: number) => `10.0.0.${n}`;
/** The MAC and IP of the container on host `n`. */
export const macOf = (n: number) => `02:42:0a:20:00:${n.toString(16).padStart(2, '0')}`;
export const cipOf = (n: number) => `10.32.0.${n}`;

/** How a router's overlay is built: the sleeve alone (a compat peer) or inside an OverlaySwitch. */
export type OverlayMode = 'switch' | 'standalone';

export interface SimNode {
  readonly n: number;
  readonly name: PeerName;
  readonly router: Router;
  readonly sleeve: SleeveOverlay;
  readonly port: MemoryLocalPort;
  readonly logs: string[];
}

export interface SimMeshOptions {
  /** Per node (1-based index → mode); default 'switch' for all. */
  readonly mode?: (n: number) => OverlayMode;
  readonly password?: string;
  /** Properties of every underlay path. */
  readonly path?: UnderlayPath;
}

export interface SimMesh {
  readonly sim: SimNetwork;
  readonly underlay: SimulatedUnderlay;
  readonly nodes: SimNode[];
}

function makeNode(sim: SimNetwork, underlay: SimulatedUnderlay, n: number, options: SimMeshOptions): SimNode {
  const name = nameOf(n);
  const logs: string[] = [];
  const sleeve = new SleeveOverlay({
    localPeer: name,
    socket: underlay.bind({ host: ipOf(n), port: 6783 }),
    clock: sim.clock,
    logger: (m) => logs.push(m),
  });
  const overlay: NetworkOverlay =
    (options.mode?.(n) ?? 'switch') === 'switch'
      ? new OverlaySwitch([{ name: 'sleeve', overlay: sleeve }])
      : sleeve;
  const port = new MemoryLocalPort();
  const routerOptions: RouterOptions = {
    ...simRouterOptions(sim, n, name, ipOf(n), overlay),
    localPort: port,
    peerDiscovery: false,
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
    ...(options.password ? { password: options.password } : {}),
  };
  return { n, name, router: new Router(routerOptions), sleeve, port, logs };
}

/**
 * Starts `count` routers, connects `links` ([from, to]: `from` dials `to`), and runs the simulation
 * until every router has a route to every other (the far end of a line may need periodic gossip).
 */
export async function simMesh(
  count: number,
  links: readonly [number, number][],
  options: SimMeshOptions = {},
): Promise<SimMesh> {
  const sim = new SimNetwork();
  const underlay = new SimulatedUnderlay({
    clock: sim.clock,
    random: new SeededRandom(99),
    ...(options.path ? { defaultPath: options.path } : {}),
  });
  const nodes = Array.from({ length: count }, (_, i) => makeNode(sim, underlay, i + 1, options));
  const converged = await startAndConverge(
    sim,
    nodes.map((x) => x.router),
    links,
    ipOf,
  );
  const state = () => nodes.map((x) => `host${x.n}:\n${x.router.connectionsText()}`).join('');
  expect(converged, state()).toBe(true);
  return { sim, underlay, nodes };
}

/** Stops every router (and so its overlay, socket and port). */
export async function stopAll(mesh: SimMesh): Promise<void> {
  for (const node of mesh.nodes) await node.router.stop();
}

/** A ping between the containers of hosts `from` and `to`. */
export function ping(from: number, to: number, extra: { seq?: number; size?: number; df?: boolean } = {}) {
  return pingFrame({
    srcMac: macOf(from),
    dstMac: macOf(to),
    srcIp: cipOf(from),
    dstIp: cipOf(to),
    ...extra,
  });
}

/** The ping reply from `to` back to `from`. */
export function pong(from: number, to: number, seq = 1) {
  return pingFrame({
    srcMac: macOf(to),
    dstMac: macOf(from),
    srcIp: cipOf(to),
    dstIp: cipOf(from),
    seq,
    reply: true,
  });
}

/** What each node's containers received since the last call, as `src MAC > dst MAC`. */
export function drain(nodes: readonly SimNode[]): string[][] {
  return nodes.map((node) =>
    node.port.takeInjected().map((f) => {
      const p = parseFrame(f);
      return `${p.src} > ${p.dst}`;
    }),
  );
}
