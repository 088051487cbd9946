import { SeededRandom, SimNetwork } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { formatAddress } from '../src/address.js';
import { parseInitMode } from '../src/init-mode.js';
import { MemoryStore } from '../src/store.js';
import { ipOf, nameOf, type SimPeer, startPeer } from './sim-cluster.js';

/**
 * Safety under churn, on real routers over the simulated network: random schedules of allocations,
 * frees, partitions, restarts (with persisted state) and permanent deaths followed by `rmpeer` on one
 * survivor. Invariant: no two live containers ever hold the same address. After healing, every
 * survivor has the same ring, and it agrees that each live container's peer owns its address.
 */

interface Live {
  readonly peer: number;
  readonly addr: number;
}

async function runSchedule(seed: number, steps: number): Promise<void> {
  const random = new SeededRandom(seed);
  const size = 3 + random.int(3);
  const sim = new SimNetwork();
  const range = '10.32.0.0/22';
  const mode = parseInitMode(`consensus=${size}`);
  const stores = new Map<number, MemoryStore>();
  const peers = new Map<number, SimPeer>();
  const dead = new Set<number>();
  const live = new Map<string, Live>(); // container id -> holder
  const violations: string[] = [];
  let restarts = 0;
  let containers = 0;

  const boot = async (n: number, incarnation: number) => {
    const store = stores.get(n) ?? new MemoryStore();
    stores.set(n, store);
    const peer = await startPeer(sim, n, { range, store, seed: n + 100 * incarnation, ipam: { mode } });
    peers.set(n, peer);
    return peer;
  };
  const alive = () => [...peers.keys()].sort((a, b) => a - b);
  const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!;

  // Every peer is told about every other (as `weave launch` with the full peer list), so partitions
  // heal however the topology was cut.
  const everyone = Array.from({ length: size }, (_, i) => ipOf(i + 1));
  for (let n = 1; n <= size; n++) (await boot(n, 0)).router.connect(everyone.filter((ip) => ip !== ipOf(n)));
  await sim.runUntilQuiet({ horizonMs: 5_000 });

  const record = (id: string, peerN: number, addr: number) => {
    for (const [other, holder] of live) {
      if (holder.addr === addr) violations.push(`${formatAddress(addr)} held by ${other} and ${id}`);
    }
    live.set(id, { peer: peerN, addr });
  };

  const first = peers.get(1)!.allocator.allocate('c-first');
  await sim.runUntilQuiet({ horizonMs: 10_000 });
  record('c-first', 1, (await first).addr);

  for (let step = 0; step < steps; step++) {
    const r = random.float();
    const up = alive();
    if (r < 0.45) {
      const n = pick(up);
      const peer = peers.get(n)!;
      const id = `c${containers++}`;
      peer.allocator.allocate(id).then(
        (cidr) => {
          // Only count it if that incarnation of the peer is still the live one.
          if (peers.get(n) === peer) record(id, n, cidr.addr);
        },
        () => {},
      );
    } else if (r < 0.6 && live.size > 0) {
      const [id, holder] = pick([...live]);
      const peer = peers.get(holder.peer);
      if (peer) {
        peer.allocator.freeAll(id);
        live.delete(id);
      }
    } else if (r < 0.7 && up.length >= 2) {
      const cut = 1 + random.int(up.length - 1);
      sim.partition(up.slice(0, cut).map(ipOf), up.slice(cut).map(ipOf));
    } else if (r < 0.8) {
      sim.heal();
    } else if (r < 0.9 && up.length > 0) {
      const n = pick(up);
      sim.kill(ipOf(n));
      await peers.get(n)!.router.stop();
      peers.get(n)!.allocator.stop();
      peers.delete(n);
      const p = await boot(n, ++restarts);
      p.router.connect(everyone.filter((ip) => ip !== ipOf(n)));
    } else if (up.length > 2) {
      // A peer dies for good; once the others have heard all it did, one survivor takes over its ranges.
      const n = pick(up);
      sim.kill(ipOf(n));
      await peers.get(n)!.router.stop();
      peers.get(n)!.allocator.stop();
      peers.delete(n);
      dead.add(n);
      for (const [id, holder] of [...live]) if (holder.peer === n) live.delete(id);
      sim.heal();
      await sim.runUntilQuiet({ horizonMs: 120_000 });
      const heir = peers.get(pick(alive()))!;
      heir.allocator.adminTakeoverRanges(nameOf(n), { force: true });
    }
    await sim.runUntilQuiet({ horizonMs: 500 + random.int(10_000) });
  }

  sim.heal();
  await sim.runUntilQuiet({ horizonMs: 600_000 });
  // The schedule must have exercised what it claims to.
  expect(containers).toBeGreaterThan(10);
  expect(restarts + dead.size).toBeGreaterThan(0);
  expect(violations).toEqual([]);

  const survivors = alive().map((n) => peers.get(n)!);
  const reference = survivors[0]!.allocator.ringEntries();
  for (const p of survivors) expect(p.allocator.ringEntries(), `ring of peer ${p.n}`).toEqual(reference);
  if (reference.length > 0) {
    const ownerOf = (addr: number) => {
      let owner = reference[reference.length - 1]!.peer;
      for (const e of reference) if (e.token <= addr) owner = e.peer;
      return owner;
    };
    for (const [id, holder] of live) {
      expect(ownerOf(holder.addr), `owner of ${id}`).toBe(nameOf(holder.peer));
      expect(
        peers
          .get(holder.peer)!
          .allocator.lookup(id)
          .map((c) => c.addr),
      ).toEqual([holder.addr]);
    }
  }
  for (const p of survivors) {
    expect(reference.every((e) => !dead.has(Number.parseInt(e.peer.slice(-2), 16)))).toBe(true);
    p.allocator.stop();
    await p.router.stop();
  }
}

describe('IPAM safety under partitions, restarts and rmpeer', () => {
  for (const seed of [11, 22, 33, 44, 55, 66]) {
    it(`schedule ${seed}: no address held twice, rings converge`, async () => {
      await runSchedule(seed, 40);
    });
  }
});
