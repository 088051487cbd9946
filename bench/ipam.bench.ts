// IPAM allocator: allocations per second on one peer (quorum 1, in-memory store, and a bounded run on
// the fsyncing FileStore for contrast), and time to the first address in simulated clusters of 2 and
// 50 peers (Paxos election + ring creation + allocation), in virtual and wall-clock milliseconds.
// No upstream baseline exists for these; the in-memory rate is the reference for the FileStore rate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gossiper, type PeerName, peerNameFromNumber, Router } from '../packages/core/src/index.js';
import { SeededRandom, SimNetwork, simRouterOptions } from '../packages/core/src/testing/index.js';
import {
  Allocator,
  createRouterAllocator,
  FileStore,
  MemoryStore,
  parseInitMode,
  type Store,
} from '../packages/ipam/src/index.js';

const silentGossiper: Gossiper = {
  registerChannel: (name) => ({
    name,
    gossipUnicast: () => {},
    gossipBroadcast: () => {},
    gossipNeighbourSubset: () => {},
  }),
};

function soloAllocator(store: Store): Allocator {
  const alloc = new Allocator({
    ourName: peerNameFromNumber(0x0a0000000001),
    ourUid: 1n,
    range: '10.32.0.0/12',
    mode: parseInitMode('consensus=1'),
    gossiper: silentGossiper,
    isKnownPeer: () => true,
    store,
  });
  alloc.start();
  return alloc;
}

async function allocationsPerSecond(store: Store, count: number): Promise<number> {
  const alloc = soloAllocator(store);
  await alloc.allocate('warm-up');
  const start = performance.now();
  for (let i = 0; i < count; i++) await alloc.allocate(`c${i}`);
  const seconds = (performance.now() - start) / 1000;
  alloc.stop();
  return count / seconds;
}

async function timeToFirstAddress(size: number): Promise<{ virtualMs: number; wallMs: number }> {
  const sim = new SimNetwork();
  const nameOf = (n: number): PeerName => peerNameFromNumber(0x0a0000000000 + n);
  const ipOf = (n: number) => `10.0.${n >> 8}.${n & 0xff}`;
  const peers: { router: Router; allocator: Allocator }[] = [];
  for (let n = 1; n <= size; n++) {
    const router = new Router(simRouterOptions(sim, n, nameOf(n), ipOf(n)));
    const allocator = createRouterAllocator(router, {
      range: '10.32.0.0/12',
      mode: parseInitMode(`consensus=${size}`),
      random: new SeededRandom(n + 1000),
      store: new MemoryStore(),
    });
    allocator.start();
    await router.start();
    if (n > 1) router.connect([ipOf(1)]);
    peers.push({ router, allocator });
  }
  await sim.runUntilQuiet({ horizonMs: 30_000 });

  const virtualStart = sim.clock.now();
  const wallStart = performance.now();
  let virtualMs = -1;
  let wallMs = -1;
  peers[size - 1]!.allocator.allocate('first').then(() => {
    virtualMs = sim.clock.now() - virtualStart;
    wallMs = performance.now() - wallStart;
  });
  for (let i = 0; i < 600 && virtualMs < 0; i++) await sim.runUntilQuiet({ horizonMs: 100 });
  for (const p of peers) {
    p.allocator.stop();
    await p.router.stop();
  }
  return { virtualMs, wallMs };
}

export async function bench(): Promise<void> {
  const memory = await allocationsPerSecond(new MemoryStore(), 20_000);
  console.log(`allocate, one peer, in-memory store, 20000 containers: ${Math.round(memory)} allocations/s`);

  const dir = mkdtempSync(join(tmpdir(), 'ipam-bench-'));
  try {
    const file = await allocationsPerSecond(new FileStore(join(dir, 'data.json')), 300);
    console.log(
      `allocate, one peer, FileStore (fsync per allocation): ${Math.round(file)} allocations/s (${(file / memory).toFixed(4)}x in-memory)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  for (const size of [2, 50]) {
    const { virtualMs, wallMs } = await timeToFirstAddress(size);
    console.log(
      `time to first address, ${size} peers (quorum ${Math.floor(size / 2) + 1}): ${virtualMs} ms virtual, ${wallMs.toFixed(1)} ms wall`,
    );
  }
}
