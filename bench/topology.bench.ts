// Simulated mesh convergence: N routers over a SimNetwork, each told about one random earlier
// router (as the router-sim test does), run until every router knows every peer and holds
// min(N − 1, connection limit) established connections. Reports convergence in virtual and wall
// seconds, CPU seconds, and stream bytes sent per peer (almost all of it topology gossip).
// Sizes: TOPOLOGY_SIZES (comma-separated, default "100,1000"). A run gives up once it has taken
// TOPOLOGY_BUDGET_S wall seconds (default 120) and reports how far it got.
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

async function converge(n: number, budgetS: number): Promise<Outcome> {
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
    });
  });
  for (const r of routers) await r.start();
  const wanted = Math.min(n - 1, DEFAULT_CONN_LIMIT);
  const established = (r: Router) => r.ourself.liveConnections().filter((c) => c.established).length;
  const done = () => routers.every((r) => r.peers.size === n && established(r) >= wanted);
  const progress = () =>
    `min peers known ${Math.min(...routers.map((r) => r.peers.size))}/${n}, ` +
    `min established ${Math.min(...routers.map(established))}/${wanted}`;

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
  const sizes = (process.env.TOPOLOGY_SIZES ?? '100,1000').split(',').map(Number);
  const budgetS = Number(process.env.TOPOLOGY_BUDGET_S ?? 120);
  for (const n of sizes) {
    const o = await converge(n, budgetS);
    const state = o.converged ? 'converged' : `NOT converged within ${budgetS} s wall (${o.progress})`;
    console.log(
      `topology ${n} peers: ${state}; virtual ${o.virtualS.toFixed(1)} s, wall ${o.wallS.toFixed(1)} s, ` +
        `cpu ${o.cpuS.toFixed(1)} s, ${(o.bytesPerPeer / 1024).toFixed(0)} KiB sent per peer`,
    );
  }
}
