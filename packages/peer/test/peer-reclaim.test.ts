// ipam.reclaimAfterMs reaches the allocator: in a 3-peer simulation one peer stops for good and the
// lowest-named survivor takes its ranges over once it has been gone the configured time, not before.
import { SimNetwork } from '@weave-ts/core/testing';
import type { WeavePeer } from '@weave-ts/peer';
import { afterEach, describe, expect, it } from 'vitest';
import { runUntil, simIp, simName, simPeer } from './sim-helpers.js';

const RECLAIM_AFTER_MS = 40_000;
const peers: WeavePeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

const ownersOf = (p: WeavePeer) => new Set(p.ipam!.ringEntries().map((e) => e.peer));

async function startMesh(sim: SimNetwork, reclaimAfterMs?: number): Promise<WeavePeer[]> {
  const mesh = [1, 2, 3].map((n) =>
    simPeer(sim, n, {
      ipam: {
        range: '10.40.0.0/24',
        init: 'consensus=3',
        ...(reclaimAfterMs !== undefined ? { reclaimAfterMs } : {}),
      },
      ...(n > 1 ? { peers: [simIp(1)] } : {}),
    }),
  );
  peers.push(...mesh);
  for (const p of mesh) await p.start();
  await runUntil(sim, Promise.all(mesh.map((p) => p.whenConverged({ peers: 3, timeoutMs: 60_000 }))));
  // Every peer allocates once, so every peer owns part of the ring.
  for (const [i, p] of mesh.entries()) await runUntil(sim, p.allocate(`c${i}`));
  await runUntil(sim, () => mesh.every((p) => ownersOf(p).size === 3));
  return mesh;
}

/** Stops peer 3 for good; returns the virtual time once the others no longer know it. */
async function stopThird(sim: SimNetwork, mesh: WeavePeer[]): Promise<number> {
  await mesh[2]!.stop();
  await runUntil(sim, () => !mesh[0]!.router.hasPeer(simName(3)) && !mesh[1]!.router.hasPeer(simName(3)));
  return sim.clock.now();
}

describe('ipam.reclaimAfterMs', () => {
  it('a survivor takes a stopped peer ranges over after the configured time', async () => {
    const sim = new SimNetwork();
    const mesh = await startMesh(sim, RECLAIM_AFTER_MS);
    const gone = await stopThird(sim, mesh);
    // Half the time later, nothing is taken over yet.
    await runUntil(sim, () => sim.clock.now() >= gone + RECLAIM_AFTER_MS / 2);
    expect(ownersOf(mesh[0]!).has(simName(3))).toBe(true);
    await runUntil(sim, () => !ownersOf(mesh[0]!).has(simName(3)), 2 * RECLAIM_AFTER_MS);
    expect(sim.clock.now() - gone).toBeGreaterThanOrEqual(RECLAIM_AFTER_MS);
    await runUntil(sim, () => !ownersOf(mesh[1]!).has(simName(3)));
    expect([...ownersOf(mesh[0]!)].sort()).toEqual([simName(1), simName(2)]);
  }, 60_000);

  it('without it, a stopped peer keeps its ranges', async () => {
    const sim = new SimNetwork();
    const mesh = await startMesh(sim);
    const gone = await stopThird(sim, mesh);
    await runUntil(sim, () => sim.clock.now() >= gone + 2 * RECLAIM_AFTER_MS, 3 * RECLAIM_AFTER_MS);
    expect(ownersOf(mesh[0]!).has(simName(3))).toBe(true);
  }, 60_000);
});
