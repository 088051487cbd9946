import type { Router } from '@weave-ts/core';
import { Allocator, type AllocatorOptions } from './allocator.js';
import { quorumFromTargets } from './init-mode.js';

/** What {@link createRouterAllocator} needs besides the router. */
export type RouterAllocatorOptions = Omit<
  AllocatorOptions,
  'ourName' | 'ourUid' | 'gossiper' | 'isKnownPeer' | 'clock'
> & {
  /** Default: upstream's guess from the router's active direct targets, `(targets + 1)/2 + 1`. */
  readonly quorum?: () => number;
};

/**
 * An allocator wired to a router the way weaver does it: our name, UID and nickname from the router,
 * gossip on its channel `IPallocation`, topology membership for reachability, the router's clock, and
 * nickname clean-up when the router forgets a peer. Call `start()` on it, before or after the router's.
 */
export function createRouterAllocator(router: Router, options: RouterAllocatorOptions): Allocator {
  const allocator = new Allocator({
    ourName: router.name,
    ourUid: router.ourself.uid,
    nickname: router.ourself.nickname,
    gossiper: router,
    isKnownPeer: (name) => router.hasPeer(name),
    quorum: () => quorumFromTargets(router.connectionMaker.targets(true).length),
    clock: router.clock,
    ...options,
  });
  router.on('peersRemoved', (names) => {
    for (const name of names) allocator.peerGone(name);
  });
  return allocator;
}
