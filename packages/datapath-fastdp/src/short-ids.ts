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
  readonly ourself: { readonly name: PeerName; readonly shortId: number };
  readonly peers: {
    fetch(name: PeerName): { readonly shortId: number; readonly hasShortId: boolean } | undefined;
    fetchByShortId(shortId: number): { readonly name: PeerName } | undefined;
  };
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
      return p?.hasShortId ? p.shortId : undefined;
    },
    peerOf: (shortId) => get().peers.fetchByShortId(shortId)?.name,
  };
}
