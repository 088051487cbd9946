import type { PeerName } from '@weave-ts/core';

/**
 * One name record: "container `containerId` on peer `origin` answers to `hostname` at `addr`".
 * A name with several addresses is several entries. Identity is (hostname, origin, containerId, addr);
 * `version` and `tombstone` are the CRDT state that gossip merges.
 */
export interface Entry {
  /** The container the name belongs to (`weave:extern` for names added without one). */
  readonly containerId: string;
  /** The peer that owns the record; only it may change it. */
  readonly origin: PeerName;
  /** The IPv4 address as an unsigned 32-bit number. */
  readonly addr: number;
  /** The fully-qualified name as supplied (case preserved, trailing dot). */
  readonly hostname: string;
  /** Bumped by the origin on every delete and resurrection; the higher version wins a merge. */
  readonly version: number;
  /** Unix seconds when it was deleted; 0 while it is live. */
  readonly tombstone: number;
}

/** Whether two entries are the same record (ignoring version and tombstone). */
export function sameRecord(a: Entry, b: Entry): boolean {
  return (
    a.hostname === b.hostname && a.origin === b.origin && a.containerId === b.containerId && a.addr === b.addr
  );
}

function compare<T extends string | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders entries by origin, container id then address: the tail shared by both orderings. */
function compareTail(a: Entry, b: Entry): number {
  return compare(a.origin, b.origin) || compare(a.containerId, b.containerId) || compare(a.addr, b.addr);
}

/**
 * The order gossip is encoded in (upstream sorts case-sensitively before encoding): hostname, origin,
 * container id, address.
 */
export function compareCaseSensitive(a: Entry, b: Entry): number {
  return compare(a.hostname, b.hostname) || compareTail(a, b);
}

/**
 * The storage order: lower-cased hostname, origin, container id, address, then the exact hostname,
 * so names differing only in case still have a strict order (upstream leaves that tie open).
 */
export function compareCaseInsensitive(a: Entry, b: Entry): number {
  return (
    compare(a.hostname.toLowerCase(), b.hostname.toLowerCase()) ||
    compareTail(a, b) ||
    compare(a.hostname, b.hostname)
  );
}

/**
 * Folds `incoming` into `current` (the same record): the higher version wins; at equal versions the
 * later tombstone wins. Returns the merged entry, or `undefined` when `incoming` changes nothing.
 */
export function mergeEntry(current: Entry, incoming: Entry): Entry | undefined {
  if (incoming.version > current.version) {
    return { ...current, version: incoming.version, tombstone: incoming.tombstone };
  }
  if (incoming.version === current.version && incoming.tombstone > current.tombstone) {
    return { ...current, tombstone: incoming.tombstone };
  }
  return undefined;
}

/** `entry` deleted at `nowSeconds` (version bumped), or `undefined` if it already was. */
export function tombstoned(entry: Entry, nowSeconds: number): Entry | undefined {
  if (entry.tombstone > 0) return undefined;
  return { ...entry, version: entry.version + 1, tombstone: nowSeconds };
}
