import type { PeerName } from '@weave-ts/core';

/**
 * Where fastdp looks up short IDs (the 12-bit peer numbers in the VNI). A core `Router` has them in
 * its topology; {@link shortIdsOfRouter} adapts one. The overlay is built before the router, so the
 * directory is read lazily, on every lookup.
 */
export interface ShortIdDirectory {
  /** Our own short ID. */
  localShortId(): number;
  /** The short ID of `peer`, when it has one. */
  shortIdOf(peer: PeerName): number | undefined;
  /** The peer that owns `shortId`, if any. */
  peerOf(shortId: number): PeerName | undefined;
}

/** The parts of a core `Router` that {@link shortIdsOfRouter} reads. */
export interface ShortIdSource {
  /** Our own peer. */
  readonly ourself: ShortIdPeer;
  /** The topology's peers. */
  readonly peers: ShortIdPeers;
}

/** A peer as {@link ShortIdSource} sees it. */
export interface ShortIdPeer {
  /** Its name. */
  readonly name: PeerName;
  /** Its short ID. */
  readonly shortId: number;
  /** Whether it announced one (routers without the `ShortID` feature do not). */
  readonly hasShortId?: boolean;
}

/** Peer lookups of {@link ShortIdSource} (core's `Peers`). */
export interface ShortIdPeers {
  /** The peer named `name`. */
  fetch(name: PeerName): ShortIdPeer | undefined;
  /** The peer owning `shortId`. */
  fetchByShortId(shortId: number): ShortIdPeer | undefined;
}

/**
 * A directory over a core `Router` (or anything shaped like one); pass a getter when the router is
 * built after the overlay.
 */
export function shortIdsOfRouter(source: ShortIdSource | (() => ShortIdSource)): ShortIdDirectory {
  const get = typeof source === 'function' ? source : () => source;
  return {
    localShortId: () => get().ourself.shortId,
    shortIdOf: (peer) => {
      const router = get();
      if (peer === router.ourself.name) return router.ourself.shortId;
      const p = router.peers.fetch(peer);
      return p && p.hasShortId !== false ? p.shortId : undefined;
    },
    peerOf: (shortId) => get().peers.fetchByShortId(shortId)?.name,
  };
}
