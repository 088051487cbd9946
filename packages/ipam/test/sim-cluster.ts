import { type PeerName, peerNameFromNumber, Router, type RouterOptions } from '@weave-ts/core';
import { SeededRandom, type SimNetwork } from '@weave-ts/core/testing';
import type { Allocator } from '../src/allocator.js';
import { createRouterAllocator, type RouterAllocatorOptions } from '../src/router-allocator.js';
import { MemoryStore, type Store } from '../src/store.js';

/** Peer n of a simulated cluster: name 0a:00:00:00:00:0n, nickname hostX, IP 10.0.0.n. */
export const nameOf = (n: number): PeerName => peerNameFromNumber(0x0a0000000000 + n);
export const ipOf = (n: number): string => `10.0.${n >> 8}.${n & 0xff}`;
export const nickOf = (n: number): string => (n <= 26 ? `host${String.fromCharCode(64 + n)}` : `host${n}`);

/** A router with an allocator on a simulated network. */
export interface SimPeer {
  readonly n: number;
  readonly router: Router;
  readonly allocator: Allocator;
  readonly store: Store;
}

export interface SimPeerOptions {
  readonly range?: string;
  readonly ipam?: Partial<RouterAllocatorOptions>;
  readonly router?: Partial<RouterOptions>;
  /** Reuse a store (a restart keeps its persisted data). */
  readonly store?: Store;
  /** Seed of the router's and allocator's randomness (default n). */
  readonly seed?: number;
}

/** Builds and starts router + allocator for peer `n`. */
export async function startPeer(sim: SimNetwork, n: number, options: SimPeerOptions = {}): Promise<SimPeer> {
  const seed = options.seed ?? n;
  const router = new Router({
    name: nameOf(n),
    nickname: nickOf(n),
    host: ipOf(n),
    transport: sim.transport(ipOf(n)),
    clock: sim.clock,
    random: new SeededRandom(seed),
    ...options.router,
  });
  const store = options.store ?? new MemoryStore();
  const allocator = createRouterAllocator(router, {
    range: options.range ?? '172.16.16.0/24',
    random: new SeededRandom(seed * 7919 + 1),
    store,
    ...options.ipam,
  });
  allocator.start();
  await router.start();
  return { n, router, allocator, store };
}

/** Stops allocator and router. */
export async function stopPeer(peer: SimPeer): Promise<void> {
  peer.allocator.stop();
  await peer.router.stop();
}

/** Awaits `promise` while the simulation runs (virtual time moves only while running). */
export async function settle<T>(sim: SimNetwork, promise: Promise<T>, horizonMs = 0): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  // The caller handles the outcome; don't let a rejection look unhandled while the simulation runs.
  tracked.catch(() => {});
  // Run in slices so a result that arrives early does not wait for the horizon.
  for (let elapsed = 0; !done && elapsed < 600_000; elapsed += 1_000) {
    await sim.runUntilQuiet({ horizonMs: 1_000 });
  }
  if (horizonMs > 0) await sim.runUntilQuiet({ horizonMs });
  return tracked;
}
