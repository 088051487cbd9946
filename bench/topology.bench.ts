// Simulated mesh convergence: N routers over a SimNetwork, each told about one random earlier
// router (as the router-sim test does). Converged = every router holds every other's current summary
// (same version, no placeholders) and its wanted connections are established. Two shapes:
// - "mesh": discovery on (the default), so routers connect to everyone up to the connection limit:
//   min(N − 1, 200) connections each. Full-state gossip makes this O(N²) bytes per router;
// - "sparse": discovery off (`--no-discovery`), the random tree of the given links: N − 1
//   connections, each change relayed over several hops.
// Reports convergence in virtual and wall seconds, CPU seconds, and stream bytes sent per peer
// (almost all of it topology gossip). Runs: TOPOLOGY_RUNS (default "mesh:100,sparse:100,sparse:1000";
// a 1000-router mesh would be 100 000 connections whose every change reaches 1000 routers). A run
// gives up once it has taken TOPOLOGY_BUDGET_S wall seconds (default 300) and reports how far it got.
// No baseline ratio: there is no other implementation to run in the same process.
import { DEFAULT_CONN_LIMIT, peerNameFromNumber, Router, type StreamConnection } from '@weave-ts/core';
import { SeededRandom, SimNetwork } from '@weave-ts/core/testing';

const ipOf = (n: number) => `10.0.${n >> 8}.${n & 0xff}`;
/** How often (virtual ms) the run checks for convergence. */
const CHECK_EVERY_MS = 100;
/** Virtual time after which a run that has not converged gives up. */
const VIRTUAL_LIMIT_MS = 3_600_000;

class OverBudget extends Error {}

/** Counts the bytes written on `conn`. */
function counted(conn: StreamConnection, sent: { bytes: number }): StreamConnection {
  const write = conn.write.bind(conn);
  conn.write = (chunk: Uint8Array) => {
    sent.bytes += chunk.length;
    write(chunk);
  };
  return conn;
}

interface Outcome {
  readonly n: number;
  readonly converged: boolean;
  readonly virtualS: number;
  readonly wallS: number;
  readonly cpuS: number;
  readonly bytesPerPeer: number;
  readonly progress: string;
}

type Shape = 'mesh' | 'sparse';

async function converge(shape: Shape, n: number, budgetS: number): Promise<Outcome> {
  const sim = new SimNetwork();
  const pick = new SeededRandom(7);
  const sent = { bytes: 0 };
  const routers = Array.from({ length: n }, (_, i) => {
    const transport = sim.transport(ipOf(i + 1));
    return new Router({
      name: peerNameFromNumber(0x0a0000000000 + i + 1),
      host: ipOf(i + 1),
      transport: {
        listen: (local, onAccept) => transport.listen(local, (c) => onAccept(counted(c, sent))),
        dial: async (remote) => counted(await transport.dial(remote), sent),
      },
      clock: sim.clock,
      random: new SeededRandom(i + 1),
      peerDiscovery: shape === 'mesh',
    });
  });
  for (const r of routers) await r.start();
  const established = (r: Router) => r.ourself.liveConnections().filter((c) => c.established).length;
  const wanted = (r: Router) =>
    shape === 'mesh' ? Math.min(n - 1, DEFAULT_CONN_LIMIT) : r.ourself.connectionCount;
  const current = (r: Router) =>
    routers.filter((o) => r.peers.fetch(o.name)?.version === o.ourself.version).length;
  const done = () => routers.every((r) => established(r) >= wanted(r) && current(r) === n);
  const progress = () =>
    `min current summaries ${Math.min(...routers.map(current))}/${n}, ` +
    `min established ${Math.min(...routers.map((r) => established(r) - wanted(r)))} vs wanted`;

  const virtualStart = sim.clock.now();
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  let convergedAt: number | undefined;
  const check = () => {
    if (done()) convergedAt = sim.clock.now();
    else if (performance.now() - wallStart > budgetS * 1000) throw new OverBudget();
    else sim.clock.setTimeout(check, CHECK_EVERY_MS);
  };
  sim.clock.setTimeout(check, CHECK_EVERY_MS);
  for (let i = 1; i < n; i++) routers[i]!.connect([ipOf(pick.int(i) + 1)]);
  try {
    // Quiet spells (every router waiting on a retry timer) end a run early: go on until converged.
    while (convergedAt === undefined && sim.clock.now() - virtualStart < VIRTUAL_LIMIT_MS) {
      await sim.runUntilQuiet({ horizonMs: 1_000, limitMs: VIRTUAL_LIMIT_MS });
    }
  } catch (e) {
    if (!(e instanceof OverBudget)) throw e;
  }
  const converged = convergedAt !== undefined;
  const cpu = process.cpuUsage(cpuStart);
  const outcome: Outcome = {
    n,
    converged,
    virtualS: ((convergedAt ?? sim.clock.now()) - virtualStart) / 1000,
    wallS: (performance.now() - wallStart) / 1000,
    cpuS: (cpu.user + cpu.system) / 1e6,
    bytesPerPeer: sent.bytes / n,
    progress: progress(),
  };
  await Promise.all(routers.map((r) => r.stop().catch(() => undefined)));
  return outcome;
}

/** Prints convergence time and gossip volume for each mesh size. */
export async function bench(): Promise<void> {
  const runs = (process.env.TOPOLOGY_RUNS ?? 'mesh:100,sparse:100,sparse:1000').split(',').map((run) => {
    const [shape, size] = run.split(':');
    if ((shape !== 'mesh' && shape !== 'sparse') || !Number.isInteger(Number(size)))
      throw new Error(`TOPOLOGY_RUNS: expected mesh:N or sparse:N, got ${JSON.stringify(run)}`);
    return { shape: shape as Shape, n: Number(size) };
  });
  const budgetS = Number(process.env.TOPOLOGY_BUDGET_S ?? 300);
  for (const { shape, n } of runs) {
    const o = await converge(shape, n, budgetS);
    const state = o.converged ? 'converged' : `NOT converged within ${budgetS} s wall (${o.progress})`;
    console.log(
      `topology ${shape} ${n} peers: ${state}; virtual ${o.virtualS.toFixed(1)} s, wall ${o.wallS.toFixed(1)} s, ` +
        `cpu ${o.cpuS.toFixed(1)} s, ${(o.bytesPerPeer / 1024).toFixed(0)} KiB sent per peer`,
    );
  }
}
