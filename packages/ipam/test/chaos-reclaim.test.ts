// Automatic reclaim (issue 17): 5 peers on the simulated network with `reclaimAfterMs`. Dead peers'
// ranges are taken over within the configured time and used; a partition's minority side never takes
// anything over; after the heal, nothing is held twice and the minority gets its ranges back.
import { formatAddress } from '../src/address.js';
import { parseInitMode } from '../src/init-mode.js';
import { SimNetwork } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { ipOf, nameOf, type SimPeer, settle, startPeer } from './sim-cluster.js';
import { runFor } from '../../../tools/chaos/world.js';

const RECLAIM_AFTER_MS = 60_000;

async function fivePeers(sim: SimNetwork, logs: string[]) {
  const peers: SimPeer[] = [];
  for (let n = 1; n <= 5; n++) {
    peers.push(
      await startPeer(sim, n, {
        range: '10.40.0.0/26',
        ipam: {
          mode: parseInitMode('consensus=5'),
          reclaimAfterMs: RECLAIM_AFTER_MS,
          logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
        },
      }),
    );
  }
  for (const p of peers) p.router.connect(peers.filter((q) => q !== p).map((q) => ipOf(q.n)));
  await runFor(sim, 5_000);
  // Every peer allocates once, so every peer owns part of the ring.
  const held = new Map<string, { peer: number; addr: number }>();
  await Promise.all(
    peers.map(async (p) =>
      held.set(`first-${p.n}`, {
        peer: p.n,
        addr: (await settle(sim, p.allocator.allocate(`first-${p.n}`))).addr,
      }),
    ),
  );
  return { peers, held };
}

const ownersOf = (p: SimPeer) => new Set(p.allocator.ringEntries().map((e) => e.peer));

function expectNoDuplicates(held: Map<string, { peer: number; addr: number }>) {
  const byAddr = new Map<number, string>();
  for (const [id, h] of held) {
    expect(
      byAddr.get(h.addr),
      `${formatAddress(h.addr)} held by ${byAddr.get(h.addr)} and ${id}`,
    ).toBeUndefined();
    byAddr.set(h.addr, id);
  }
}

describe('automatic reclaim of unreachable peers', () => {
  it('5 peers, 2 die: the 3 survivors take their ranges over within the configured time and keep allocating', async () => {
    const sim = new SimNetwork();
    const logs: string[] = [];
    const { peers, held } = await fivePeers(sim, logs);
    const dead = [peers[3]!, peers[4]!];
    for (const d of dead) {
      sim.kill(ipOf(d.n));
      d.allocator.stop();
      await d.router.stop();
      for (const [id, h] of [...held]) if (h.peer === d.n) held.delete(id); // its containers died with it
    }
    const killedAt = sim.clock.now();
    const survivors = peers.slice(0, 3);
    // Not before the configured time…
    await runFor(sim, RECLAIM_AFTER_MS - 10_000);
    for (const s of survivors) expect(ownersOf(s).has(nameOf(4))).toBe(true);
    // …but within it plus a tick and the topology's own detection of the dead peers.
    await runFor(sim, 25_000);
    for (const s of survivors) {
      expect(ownersOf(s).has(nameOf(4)), `peer ${s.n}`).toBe(false);
      expect(ownersOf(s).has(nameOf(5)), `peer ${s.n}`).toBe(false);
      expect(s.allocator.status()).toBe('ready');
    }
    // The lowest-named survivor, host1, is the heir; nobody else took anything over.
    const takeovers = logs.filter((l) => l.includes('taken over by'));
    expect(takeovers.length).toBe(2);
    expect(
      takeovers.every(
        (l) => l.startsWith(`[allocator ${nameOf(1)}]`) && l.endsWith(`taken over by ${nameOf(1)}`),
      ),
    ).toBe(true);
    expect(sim.clock.now() - killedAt).toBeLessThanOrEqual(RECLAIM_AFTER_MS + 15_000);

    // Keep allocating, well past what the survivors owned: 60 more addresses in a /26.
    for (let i = 0; i < 57; i++) {
      const s = survivors[i % 3]!;
      const cidr = await settle(sim, s.allocator.allocate(`more-${i}`));
      held.set(`more-${i}`, { peer: s.n, addr: cidr.addr });
    }
    expectNoDuplicates(held);
    expect(held.size).toBe(60);
    for (const s of survivors) {
      s.allocator.stop();
      await s.router.stop();
    }
  });

  it('a 2|3 partition never reclaims on the minority side; after the heal nothing is held twice', async () => {
    const sim = new SimNetwork();
    const logs: string[] = [];
    const { peers, held } = await fivePeers(sim, logs);
    const minority = [peers[0]!, peers[1]!]; // host1 and host2: the lowest names are on the small side
    const majority = peers.slice(2);
    sim.partition(
      minority.map((p) => ipOf(p.n)),
      majority.map((p) => ipOf(p.n)),
    );
    const allocateOn = async (p: SimPeer, id: string) => {
      const cidr = await settle(sim, p.allocator.allocate(id));
      held.set(id, { peer: p.n, addr: cidr.addr });
    };
    // Three reclaim periods apart, both sides keep allocating.
    for (let round = 0; round < 3; round++) {
      await runFor(sim, RECLAIM_AFTER_MS);
      for (const p of peers) await allocateOn(p, `r${round}-${p.n}`);
    }
    // The minority saw 2 of 5 owners: it never took anything over. The majority's heir (host3) did.
    for (const m of minority) {
      expect(
        logs.some((l) => l.startsWith(`[allocator ${nameOf(m.n)}]`) && l.includes('taken over by')),
      ).toBe(false);
      expect(ownersOf(m)).toEqual(new Set([1, 2, 3, 4, 5].map(nameOf)));
    }
    expect(logs.some((l) => l.includes(`taken over by ${nameOf(3)}`))).toBe(true);
    expectNoDuplicates(held);

    sim.heal();
    await runFor(sim, 180_000);
    // The heir gave the minority's ranges back; every ring agrees and every address is its holder's.
    expect(logs.some((l) => l.includes('is back: giving its ranges back'))).toBe(true);
    const ring = peers[0]!.allocator.ringEntries();
    for (const p of peers) expect(p.allocator.ringEntries(), `ring of host${p.n}`).toEqual(ring);
    const ownerOf = (addr: number) => {
      let owner = ring[ring.length - 1]!.peer;
      for (const e of ring) if (e.token <= addr) owner = e.peer;
      return owner;
    };
    for (const [id, h] of held) expect(ownerOf(h.addr), id).toBe(nameOf(h.peer));
    for (const p of peers) await allocateOn(p, `after-${p.n}`);
    expectNoDuplicates(held);
    for (const p of peers) {
      p.allocator.stop();
      await p.router.stop();
    }
  });
});
