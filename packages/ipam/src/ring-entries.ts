import type { PeerName } from '@weave-ts/core';
import type { Address, Range } from './address.js';
import {
  type InvalidRingError,
  RingNotSortedError,
  RingPreconditionError,
  TokenOutOfRangeError,
  TokenRepeatedError,
  TooMuchFreeSpaceError,
} from './errors.js';

/**
 * One token on the ring: `peer` owns `[token, next token)` (wrapping past the end of the range).
 * Only the owner edits its entries, bumping `version`; `free` is advisory, reported by the owner.
 */
export interface RingEntry {
  /** First address of the owned span. */
  token: Address;
  /** Owner of the span. */
  peer: PeerName;
  /** Bumped on every change; the higher version wins a merge. */
  version: number;
  /** Free addresses the owner reports in the span. */
  free: number;
}

/** Plain data of a ring: what is gossiped, persisted and merged. */
export interface RingState {
  /** The allocation range `[start, end)` (the `--ipalloc-range`). */
  readonly start: Address;
  /** One past the last address of the ring's range. */
  readonly end: Address;
  /** The peer holding this copy (on the wire: the sender). */
  readonly peer: PeerName;
  /** Entries sorted by token, tokens unique. */
  readonly entries: readonly Readonly<RingEntry>[];
  /** Peers the ring was first divided among; empty if unknown. */
  readonly seeds: readonly PeerName[];
}

/** Distance from token `a` forward to token `b` on the ring `[start, end)`; `a === b` is a full turn. */
export function ringDistance(range: Range, a: Address, b: Address): number {
  return b > a ? b - a : range.end - a + (b - range.start);
}

/** The entry at index `i`, wrapping in both directions (as the ring does). */
export function entryAt<E>(entries: readonly E[], i: number): E {
  const n = entries.length;
  return entries[((i % n) + n) % n]!;
}

/** Index of the first entry whose token is greater than `token` (binary search). */
export function firstTokenAfter(entries: readonly Readonly<RingEntry>[], token: Address): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.token > token) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Index of the entry with exactly this token, or -1. */
export function indexOfToken(entries: readonly Readonly<RingEntry>[], token: Address): number {
  const i = firstTokenAfter(entries, token) - 1;
  return i >= 0 && entries[i]!.token === token ? i : -1;
}

/** Inserts `entry` at its sorted place. @throws RingPreconditionError if its token exists already */
export function insertEntry(entries: RingEntry[], entry: RingEntry): void {
  const i = firstTokenAfter(entries, entry.token);
  if (i > 0 && entries[i - 1]!.token === entry.token) {
    throw new RingPreconditionError('Trying to insert an existing token!');
  }
  entries.splice(i, 0, entry);
}

/**
 * Checks the ring invariants upstream enforces on every ring it accepts, in upstream's order: sorted,
 * no repeated token, tokens inside `[start, end)`, no entry reporting more free addresses than it spans.
 * Returns the first violation, or `undefined`.
 */
export function ringInvariantError(
  range: Range,
  entries: readonly Readonly<RingEntry>[],
): InvalidRingError | undefined {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.token < entries[i - 1]!.token) return new RingNotSortedError();
  }
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.token === entries[i - 1]!.token) return new TokenRepeatedError();
  }
  if (entries.length === 0) return undefined;
  if (entries[0]!.token < range.start || entries[entries.length - 1]!.token >= range.end) {
    return new TokenOutOfRangeError();
  }
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const next = entryAt(entries, i + 1);
    const distance = ringDistance(range, entry.token, next.token);
    if (entry.free > distance)
      return new TooMuchFreeSpaceError(entry.token, next.token, entry.free, distance);
  }
  return undefined;
}
