import { describe, expect, it } from 'vitest';
import {
  type DatapathConnection,
  type FlowOffer,
  type FrameConsumer,
  type ForwardResult,
  type NetworkOverlay,
  NotANetworkOverlayError,
  type OverlayFrame,
  OverlaySwitch,
  type PeerName,
  Router,
  type RouterOptions,
  type SendFlowOffer,
  attachNetworkRouter,
  peerNameFromNumber,
} from '@weave-ts/core';
import {
  L2Forwarder,
  type L2ForwarderOptions,
  MacCache,
  type MacMove,
  parseMac,
} from '@weave-ts/core/protocol';
import {
  MemoryDatapath,
  MemoryLocalPort,
  MemoryWire,
  SimNetwork,
  VirtualClock,
  arpFrame,
  ethernetFrame,
  parseFrame,
  pingFrame,
  simRouterOptions,
  startAndConverge,
} from '@weave-ts/core/testing';

const nameOf = (n: number): PeerName => peerNameFromNumber(0x0a0000000000 + n);
const ipOf = (n: number) => `10.0.0.${n}`;
/** The MAC and IP of container `c` on host `n`. */
const macOf = (n: number, c = 1) =>
  `02:42:0a:20:${n.toString(16).padStart(2, '0')}:${c.toString(16).padStart(2, '0')}`;
const cipOf = (n: number, c = 1) => `10.32.${n}.${c}`;

interface Node {
  n: number;
  name: PeerName;
  router: Router;
  datapath: MemoryDatapath;
  port: MemoryLocalPort;
  net: ReturnType<typeof attachNetworkRouter>;
}

function makeNode(
  sim: SimNetwork,
  wire: MemoryWire,
  n: number,
  opts: { switch?: boolean } & Partial<RouterOptions> = {},
): Node {
  const name = nameOf(n);
  const datapath = new MemoryDatapath({
    wire,
    clock: sim.clock,
    localPeer: name,
    name: opts.switch ? 'fastdp' : 'memory',
  });
  const overlay = opts.switch
    ? new OverlaySwitch([
        { name: 'fastdp', overlay: datapath },
        {
          name: 'sleeve',
          overlay: new MemoryDatapath({ wire, clock: sim.clock, localPeer: name, name: 'sleeve', mtu: 1438 }),
        },
      ])
    : datapath;
  const router = new Router({ ...simRouterOptions(sim, n, name, ipOf(n), overlay), ...opts });
  const port = new MemoryLocalPort();
  const net = attachNetworkRouter(router, { port });
  return { n, name, router, datapath, port, net };
}

/** Starts `count` routers, connects the given pairs (no discovery unless asked) and lets them converge. */
async function mesh(
  count: number,
  links: [number, number][],
  opts: { switch?: boolean; discovery?: boolean } = {},
): Promise<{ sim: SimNetwork; wire: MemoryWire; nodes: Node[] }> {
  const sim = new SimNetwork();
  const wire = new MemoryWire();
  const nodes = Array.from({ length: count }, (_, i) =>
    makeNode(sim, wire, i + 1, { switch: opts.switch ?? false, peerDiscovery: opts.discovery ?? false }),
  );
  expect(
    await startAndConverge(
      sim,
      nodes.map((x) => x.router),
      links,
      ipOf,
    ),
  ).toBe(true);
  return { sim, wire, nodes };
}

const arpRequest = (n: number, target: number) =>
  arpFrame({ op: 'request', senderMac: macOf(n), senderIp: cipOf(n), targetIp: cipOf(target) });
const ping = (from: number, to: number, seq = 1, toMac = macOf(to)) =>
  pingFrame({ srcMac: macOf(from), dstMac: toMac, srcIp: cipOf(from), dstIp: cipOf(to), seq });

/** Frames each node's containers received since the last call, as `src MAC > dst MAC`. */
function drain(nodes: Node[]): string[][] {
  return nodes.map((node) =>
    node.port.takeInjected().map((f) => {
      const p = parseFrame(f);
      return `${p.src} > ${p.dst}`;
    }),
  );
}

async function stopAll(nodes: Node[]): Promise<void> {
  for (const node of nodes) {
    node.net.detach();
    await node.router.stop();
  }
}

describe('L2 forwarding over routers and the memory datapath', () => {
  it('floods an unknown destination to every peer once, then unicasts the learnt reply', async () => {
    const { sim, nodes } = await mesh(3, [
      [2, 1],
      [3, 1],
      [3, 2],
    ]);
    for (const node of nodes) expect(node.router.statusText()).toContain('Connections: 2 (2 established)');
    nodes[0]!.port.capture([arpRequest(1, 2)]);
    await sim.runUntilQuiet();
    const bcast = `${macOf(1)} > ff:ff:ff:ff:ff:ff`;
    expect(drain(nodes)).toEqual([[], [bcast], [bcast]]);

    // Host 2 learnt where macOf(1) lives: the reply goes to host 1 only.
    nodes[1]!.port.capture([
      arpFrame({
        op: 'reply',
        senderMac: macOf(2),
        senderIp: cipOf(2),
        targetMac: macOf(1),
        targetIp: cipOf(1),
      }),
    ]);
    await sim.runUntilQuiet();
    expect(drain(nodes)).toEqual([[`${macOf(2)} > ${macOf(1)}`], [], []]);
    expect(nodes[0]!.net.macs.lookup(parseMac(macOf(2)))).toBe(nameOf(2));
    expect(nodes[2]!.net.macs.lookup(parseMac(macOf(1)))).toBe(nameOf(1));
    expect(nodes[2]!.net.macs.lookup(parseMac(macOf(2)))).toBeUndefined();
    await stopAll(nodes);
  });

  it('a broadcast follows the broadcast tree: every peer gets it exactly once', async () => {
    // A ring 1-2-3-4-5-1 plus a chord 2-4: the tree is not simply "everyone direct".
    const { sim, wire, nodes } = await mesh(5, [
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
      [5, 1],
      [2, 4],
    ]);
    for (let origin = 1; origin <= 5; origin++) {
      const before = wire.stats.delivered;
      nodes[origin - 1]!.port.capture([arpRequest(origin, 99)]);
      await sim.runUntilQuiet();
      const got = drain(nodes).map((frames) => frames.length);
      expect(got).toEqual(nodes.map((node) => (node.n === origin ? 0 : 1)));
      // A spanning tree: n-1 transmissions, no duplicates anywhere.
      expect(wire.stats.delivered - before).toBe(4);
    }
    await stopAll(nodes);
  });

  it('relays through the middle peer of a line A–B–C, unicast both ways, without injecting at B', async () => {
    const { sim, nodes } = await mesh(
      3,
      [
        [1, 2],
        [3, 2],
      ],
      { switch: true },
    );
    const [a, b, c] = nodes as [Node, Node, Node];
    expect(a.router.routes.unicast(c.name)).toBe(b.name);
    a.port.capture([arpRequest(1, 3)]);
    await sim.runUntilQuiet();
    expect(drain(nodes).map((f) => f.length)).toEqual([0, 1, 1]);

    c.port.capture([ping(3, 1, 1), ping(3, 1, 2)]);
    await sim.runUntilQuiet();
    const injected = a.port.takeInjected().map((f) => parseFrame(f).ipv4!.icmp!.seq);
    expect(injected).toEqual([1, 2]);
    expect(drain(nodes)).toEqual([[], [], []]);
    const relay = b.net.forwarder.stats();
    expect(relay.injected).toBe(1); // only the broadcast
    expect(relay.received).toBe(3);
    expect(relay.forwarded).toBe(3);
    // One forward call per next hop and key: the two pings went as one batch.
    expect(c.net.forwarder.stats().forwardCalls).toBe(1);
    expect(b.router.connectionsText()).toMatch(/fastdp/);
    await stopAll(nodes);
  });

  it('a MAC that shows up at another peer moves: routes are invalidated and traffic follows it', async () => {
    const { sim, nodes } = await mesh(3, [
      [2, 1],
      [3, 1],
      [3, 2],
    ]);
    const [a, b, c] = nodes as [Node, Node, Node];
    const roaming = '02:42:0a:20:99:01';
    // Host 2's container becomes known everywhere.
    b.port.capture([arpRequest(2, 1)]);
    await sim.runUntilQuiet();
    drain(nodes);
    // The roaming container talks to host 2's container from host 1 (unicast: only host 2 learns it) …
    const fromRoaming = (seq: number) =>
      pingFrame({ srcMac: roaming, dstMac: macOf(2), srcIp: '10.32.9.1', dstIp: cipOf(2), seq });
    a.port.capture([fromRoaming(1)]);
    await sim.runUntilQuiet();
    expect(b.net.macs.lookup(parseMac(roaming))).toBe(a.name);
    // … then from host 3.
    const moves: MacMove[] = [];
    b.net.forwarder.on('macsMoved', (m) => moves.push(...m));
    const before = b.datapath.invalidations.routes;
    c.port.capture([fromRoaming(2)]);
    await sim.runUntilQuiet();
    expect(moves).toEqual([{ mac: parseMac(roaming), from: a.name, to: c.name }]);
    expect(b.datapath.invalidations.routes).toBe(before + 1);
    expect(drain(nodes).map((f) => f.length)).toEqual([0, 2, 0]);
    // Replies to the roaming MAC now go to host 3.
    b.port.capture([
      pingFrame({ srcMac: macOf(2), dstMac: roaming, srcIp: cipOf(2), dstIp: '10.32.9.1', seq: 3 }),
    ]);
    await sim.runUntilQuiet();
    expect(drain(nodes).map((f) => f.length)).toEqual([0, 0, 1]);
    await stopAll(nodes);
  });

  it('drops STP frames, frames for local MACs and frames from MACs known at another peer', async () => {
    const { sim, nodes } = await mesh(2, [[2, 1]]);
    const [a, b] = nodes as [Node, Node];
    b.port.capture([arpRequest(2, 1)]);
    await sim.runUntilQuiet();
    drain(nodes);
    const callsBefore = a.net.forwarder.stats().forwardCalls;
    a.port.capture([
      ethernetFrame({
        dst: '01:80:c2:00:00:00',
        src: macOf(1),
        etherType: 0x0026,
        payload: new Uint8Array(40),
      }),
      // macOf(1) is local now: a frame to it is not forwarded.
      ethernetFrame({ dst: macOf(1), src: macOf(1, 2), etherType: 0x0800, payload: new Uint8Array(40) }),
      // macOf(2) lives at host 2: seeing it captured here is a conflict.
      ethernetFrame({
        dst: 'ff:ff:ff:ff:ff:ff',
        src: macOf(2),
        etherType: 0x0806,
        payload: new Uint8Array(28),
      }),
      new Uint8Array(10),
    ]);
    await sim.runUntilQuiet();
    const stats = a.net.forwarder.stats();
    expect(stats).toMatchObject({ droppedStp: 1, droppedLocal: 1, droppedConflict: 1, droppedShort: 1 });
    expect(stats.forwardCalls).toBe(callsBefore);
    expect(drain(nodes)).toEqual([[], []]);
    await stopAll(nodes);
  });

  it('invalidates datapath routes when routes change and forgets the MACs of collected peers', async () => {
    const { sim, nodes } = await mesh(3, [
      [2, 1],
      [3, 2],
    ]);
    const [a, , c] = nodes as [Node, Node, Node];
    expect(a.datapath.invalidations.routes).toBeGreaterThan(0);
    c.port.capture([arpRequest(3, 1)]);
    await sim.runUntilQuiet();
    expect(a.net.macs.lookup(parseMac(macOf(3)))).toBe(c.name);
    const before = a.datapath.invalidations.routes;
    c.net.detach();
    await c.router.stop();
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    expect(a.router.hasPeer(c.name)).toBe(false);
    expect(a.datapath.invalidations.routes).toBeGreaterThan(before);
    expect(a.net.macs.lookup(parseMac(macOf(3)))).toBeUndefined();
    await stopAll(nodes.slice(0, 2));
  });

  it('counts frames the datapath could not take (no connection to the next hop)', async () => {
    const { sim, nodes } = await mesh(2, [[2, 1]]);
    const [a, b] = nodes as [Node, Node];
    b.port.capture([arpRequest(2, 1)]);
    await sim.runUntilQuiet();
    a.datapath.connectionTo(b.name)!.stop();
    a.port.capture([ping(1, 2, 1), ping(1, 2, 2)]);
    expect(a.net.forwarder.stats().droppedDatapath).toBe(2);
    await stopAll(nodes);
  });

  it('refuses a router whose overlay has no datapath side', () => {
    const sim = new SimNetwork();
    const router = new Router({ name: nameOf(1), transport: sim.transport(ipOf(1)), clock: sim.clock });
    expect(() => attachNetworkRouter(router, { port: new MemoryLocalPort() })).toThrow(
      NotANetworkOverlayError,
    );
  });
});

/**
 * A forwarder for host 1 over a scripted datapath: host 2 is a neighbour, host 3 is reached through
 * host 2 and host 4 is a direct neighbour whose connection refuses frames. `log` records the order of
 * inject, forward, invalidate and offer calls.
 */
function offerHarness(opts: { offers?: boolean } = {}) {
  const [us, p2, p3, p4] = [nameOf(1), nameOf(2), nameOf(3), nameOf(4)];
  const macs = new MacCache({ clock: new VirtualClock() });
  const log: string[] = [];
  const offers: FlowOffer[][] = [];
  const forwards: { src: PeerName; dst: PeerName; via: PeerName | undefined; frames: number }[] = [];
  let consumer: FrameConsumer = () => {};
  const datapath: L2ForwarderOptions['datapath'] = {
    forward: (key, frames, options): ForwardResult => {
      log.push('forward');
      forwards.push({ src: key.srcPeer, dst: key.dstPeer, via: options?.via, frames: frames.length });
      return options?.via === p4 ? 'no-connection' : 'forwarded';
    },
    onFramesReceived: (c) => {
      consumer = c;
    },
    invalidateRoutes: () => log.push('invalidate'),
    ...(opts.offers === false
      ? {}
      : {
          offerFlows: (o: readonly FlowOffer[]) => {
            log.push('offer');
            offers.push([...o]);
          },
        }),
  };
  class LoggingPort extends MemoryLocalPort {
    override inject(frames: readonly Uint8Array[]): void {
      log.push('inject');
      super.inject(frames);
    }
  }
  const port = new LoggingPort();
  const hops = new Map([
    [p2, p2],
    [p3, p2],
    [p4, p4],
  ]);
  const forwarder = new L2Forwarder({
    ourName: us,
    routes: { unicast: (peer) => hops.get(peer), broadcast: (origin) => (origin === us ? [p2, p4] : []) },
    datapath,
    port,
    macs,
  });
  forwarder.start();
  // Host 1's containers 1 and 2 are local; host n's container 1 lives at host n.
  macs.add(parseMac(macOf(1)), us);
  macs.add(parseMac(macOf(1, 2)), us);
  for (const [n, peer] of [
    [2, p2],
    [3, p3],
    [4, p4],
  ] as const) {
    macs.add(parseMac(macOf(n)), peer);
  }
  const receive = (frames: OverlayFrame[]) => consumer(frames);
  const from = (src: PeerName, dst: PeerName, frame: Uint8Array): OverlayFrame => ({ src, dst, frame });
  return { us, p2, p3, p4, macs, log, offers, forwards, port, forwarder, receive, from };
}

const mac = (n: number, c = 1) => parseMac(macOf(n, c));

describe('L2 forwarder: flow offers', () => {
  it('offers each forwarded captured unicast flow once, in one call, after sending', () => {
    const h = offerHarness();
    const pingFrom = (c: number, to: number, seq: number) =>
      pingFrame({ srcMac: macOf(1, c), dstMac: macOf(to), srcIp: cipOf(1, c), dstIp: cipOf(to), seq });
    h.port.capture([ping(1, 2, 1), ping(1, 2, 2), ping(1, 3, 3), pingFrom(2, 2, 4), ping(1, 2, 5)]);
    expect(h.forwards).toEqual([
      { src: h.us, dst: h.p2, via: h.p2, frames: 4 },
      { src: h.us, dst: h.p3, via: h.p2, frames: 1 },
    ]);
    const send = (src: number, dst: number, dstPeer: PeerName): SendFlowOffer => ({
      kind: 'send',
      srcMac: src,
      dstMac: dst,
      key: { srcPeer: h.us, dstPeer },
      via: h.p2,
    });
    expect(h.offers).toEqual([
      [send(mac(1), mac(2), h.p2), send(mac(1, 2), mac(2), h.p2), send(mac(1), mac(3), h.p3)],
    ]);
    expect(h.log).toEqual(['forward', 'forward', 'offer']);
  });

  it('offers nothing for floods, local or conflicting frames, or batches the datapath refused', () => {
    const h = offerHarness();
    h.port.capture([
      arpRequest(1, 2),
      ping(1, 9, 1), // unknown destination MAC: flooded
      ping(1, 2, 2, 'ff:ff:ff:ff:ff:ff'),
      ping(1, 1, 3, macOf(1, 2)), // local destination
      ping(2, 1, 4), // macOf(2) lives at host 2: conflict
      ping(1, 4, 5), // host 4's connection refuses it
    ]);
    expect(h.forwards).toEqual([
      { src: h.us, dst: h.p2, via: h.p2, frames: 3 },
      { src: h.us, dst: h.p4, via: h.p4, frames: 3 },
      { src: h.us, dst: h.p4, via: h.p4, frames: 1 },
    ]);
    expect(h.forwarder.stats()).toMatchObject({ droppedLocal: 1, droppedConflict: 1, droppedDatapath: 4 });
    expect(h.offers).toEqual([]);
    expect(h.log).not.toContain('offer');
  });

  it('offers a deliver flow for unicast frames injected for a local MAC, once per flow', () => {
    const h = offerHarness();
    h.receive([
      h.from(h.p2, h.us, ping(2, 1, 1)),
      h.from(h.p2, h.us, ping(2, 1, 2)),
      h.from(h.p3, h.us, ping(3, 1, 3, macOf(1, 2))),
    ]);
    expect(h.port.takeInjected()).toHaveLength(3);
    expect(h.offers).toEqual([
      [
        { kind: 'deliver', srcPeer: h.p2, srcMac: mac(2), dstMac: mac(1) },
        { kind: 'deliver', srcPeer: h.p3, srcMac: mac(3), dstMac: mac(1, 2) },
      ],
    ]);
    expect(h.log).toEqual(['inject', 'offer']);
  });

  it('offers no deliver flow for relayed or flooded frames', () => {
    const h = offerHarness();
    h.receive([
      h.from(h.p2, h.p3, ping(2, 3, 1)), // relayed to host 3 via host 2
      h.from(h.p2, h.us, ping(2, 9, 2)), // unknown destination MAC: injected and flooded
      h.from(h.p2, h.us, arpRequest(2, 1)), // broadcast
    ]);
    expect(h.port.takeInjected()).toHaveLength(2);
    expect(h.forwards).toEqual([{ src: h.p2, dst: h.p3, via: h.p2, frames: 1 }]);
    expect(h.offers).toEqual([]);
  });

  it('offers no deliver flow for a MAC that moved in the batch, even from before the move', () => {
    const h = offerHarness();
    h.receive([
      h.from(h.p2, h.us, ping(2, 1, 1)), // still at host 2 …
      h.from(h.p3, h.us, ping(2, 1, 2)), // … now at host 3
      h.from(h.p3, h.us, ping(3, 1, 3)),
    ]);
    expect(h.macs.lookup(mac(2))).toBe(h.p3);
    expect(h.offers).toEqual([[{ kind: 'deliver', srcPeer: h.p3, srcMac: mac(3), dstMac: mac(1) }]]);
    expect(h.log).toEqual(['inject', 'invalidate', 'offer']);
    // A batch whose only flow moved offers nothing at all.
    h.receive([h.from(h.p4, h.us, ping(2, 1, 4))]);
    expect(h.offers).toHaveLength(1);
  });

  it('works as before with a datapath that takes no offers', () => {
    const h = offerHarness({ offers: false });
    h.port.capture([ping(1, 2, 1), ping(1, 3, 2)]);
    h.receive([h.from(h.p2, h.us, ping(2, 1, 3)), h.from(h.p2, h.p3, ping(2, 3, 4))]);
    expect(h.port.takeInjected()).toHaveLength(1);
    expect(h.forwarder.stats()).toMatchObject({ forwarded: 3, injected: 1, droppedDatapath: 0 });
    expect(h.log).toEqual(['forward', 'forward', 'inject', 'forward']);
  });

  it('offers reach the forwarder carrying the flow through an overlay switch', async () => {
    const { sim, nodes } = await mesh(2, [[2, 1]], { switch: true });
    const [a, b] = nodes as [Node, Node];
    // Host 2's container becomes known at host 1.
    b.port.capture([arpRequest(2, 1)]);
    await sim.runUntilQuiet();
    drain(nodes);
    const sends: SendFlowOffer[][] = [];
    const conn: DatapathConnection = a.datapath.connectionTo(b.name)!;
    conn.offerFlows = (offers) => sends.push([...offers]);
    const delivers: FlowOffer[][] = [];
    const overlay: NetworkOverlay = b.datapath;
    overlay.offerFlows = (offers) => delivers.push([...offers]);
    a.port.capture([ping(1, 2, 1), ping(1, 2, 2)]);
    await sim.runUntilQuiet();
    expect(drain(nodes)).toEqual([[], [`${macOf(1)} > ${macOf(2)}`, `${macOf(1)} > ${macOf(2)}`]]);
    expect(sends).toEqual([
      [
        {
          kind: 'send',
          srcMac: mac(1),
          dstMac: mac(2),
          key: { srcPeer: a.name, dstPeer: b.name },
          via: b.name,
        },
      ],
    ]);
    expect(delivers).toEqual([[{ kind: 'deliver', srcPeer: a.name, srcMac: mac(1), dstMac: mac(2) }]]);
    await stopAll(nodes);
  });
});
