import type { PeerName, Random } from '@weave-ts/core';
import { type Address, formatAddress, type Range } from './address.js';
import {
  DifferentRangeError,
  DifferentSeedsError,
  EntryInMyRangeError,
  InconsistentEntryError,
  MergeResultInvalidError,
  NewerVersionError,
  RingPreconditionError,
} from './errors.js';
import {
  entryAt,
  firstTokenAfter,
  indexOfToken,
  insertEntry,
  type RingEntry,
  type RingState,
  ringDistance,
  ringInvariantError,
} from './ring-entries.js';

/** Answers "do I hold allocations in any of these ranges?" for {@link Ring.merge}. */
export type HasAllocations = (ranges: readonly Range[]) => boolean;

/** One owned span for status/report output (spans crossing the range end are split in two). */
export interface RangeInfo {
  /** The owning peer. */
  readonly peer: PeerName;
  /** The range. */
  readonly range: Range;
  /** The version of the entry that starts it. */
  readonly version: number;
}

/** Versions added by {@link Ring.transfer}, so an admin takeover beats concurrent edits. */
export const TRANSFER_VERSION_BUMP = 100;

/**
 * The IPAM ring CRDT (upstream `ipam/ring`): the allocation range divided into spans, each owned by
 * one peer. Tokens are never removed; ownership moves by version bumps. The whole ring is gossiped and
 * merged with {@link Ring.merge}; every peer must compute the same result, so the arithmetic here
 * follows upstream exactly.
 */
export class Ring {
  /** First address of the ring's range. */
  readonly start: Address;
  /** One past the last address of the ring's range. */
  readonly end: Address;
  /** The local peer: the only one that edits its own entries. */
  readonly peer: PeerName;
  #entries: RingEntry[] = [];
  #seeds: PeerName[] = [];
  #reasserted = false;
  #ties: { token: Address; peer: PeerName }[] = [];

  /** An empty ring over `[start, end)` held by `peer`. @throws RingPreconditionError unless start < end */
  constructor(start: Address, end: Address, peer: PeerName) {
    if (!(start < end)) throw new RingPreconditionError(`empty ring range ${start}-${end}`);
    this.start = start;
    this.end = end;
    this.peer = peer;
  }

  /**
   * A ring restored from plain data (persisted or decoded), held by `state.peer`.
   * @throws InvalidRingError if the entries break an invariant
   */
  static fromState(state: RingState): Ring {
    const ring = new Ring(state.start, state.end, state.peer);
    const error = ringInvariantError(ring.range, state.entries);
    if (error) throw error;
    ring.#entries = state.entries.map((e) => ({ ...e }));
    ring.#seeds = [...state.seeds];
    return ring;
  }

  /** The allocation range `[start, end)`. */
  get range(): Range {
    return { start: this.start, end: this.end };
  }

  /** Peers the ring was seeded with (empty until known). */
  get seeds(): readonly PeerName[] {
    return this.#seeds;
  }

  /** Copies of the entries, sorted by token. */
  entries(): RingEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  /** A snapshot as plain data (for the wire and persistence). */
  toState(): RingState {
    return {
      start: this.start,
      end: this.end,
      peer: this.peer,
      entries: this.entries(),
      seeds: [...this.#seeds],
    };
  }

  /** True before the ring was ever divided (no tokens). */
  isEmpty(): boolean {
    return this.#entries.length === 0;
  }

  /** True when `addr` is inside the allocation range. */
  contains(addr: Address): boolean {
    return addr >= this.start && addr < this.end;
  }

  /** The peer owning `addr`, or `undefined` on an empty ring. @throws RingPreconditionError if outside */
  owner(addr: Address): PeerName | undefined {
    if (!this.contains(addr)) throw new RingPreconditionError(`address ${formatAddress(addr)} not in ring`);
    if (this.isEmpty()) return undefined;
    return entryAt(this.#entries, firstTokenAfter(this.#entries, addr) - 1).peer;
  }

  /** Every peer named by an entry. */
  peerNames(): Set<PeerName> {
    return new Set(this.#entries.map((e) => e.peer));
  }

  /**
   * Divides an empty ring among `peers` (sorted, de-duplicated: the Paxos consensus) and records them as
   * seeds. Halves recursively, so for power-of-two ranges every share is CIDR-aligned.
   * @throws RingPreconditionError if the ring is not empty or `peers` is
   */
  claimForPeers(peers: readonly PeerName[]): void {
    if (!this.isEmpty()) throw new RingPreconditionError('claimForPeers on a ring that has entries');
    if (peers.length === 0) throw new RingPreconditionError('claimForPeers with no peers');
    this.#subdivide(this.start, this.end, peers);
    this.#seeds = [...peers];
  }

  #subdivide(from: Address, to: Address, peers: readonly PeerName[]): void {
    const share = to - from;
    if (share === 0) return;
    if (share === 1 || peers.length === 1) {
      insertEntry(this.#entries, { token: from, peer: peers[0]!, version: 0, free: share });
      return;
    }
    const mid = from + Math.floor(share / 2);
    const half = Math.floor(peers.length / 2);
    this.#subdivide(from, mid, peers.slice(0, half));
    this.#subdivide(mid + (share % 2), to, peers.slice(half));
  }

  /**
   * Gives `[start, end)`, which we must own, to `peer`: up to two tokens are inserted (at `start`, and
   * at `end` to keep the remainder ours). Free counts are set to the spans' sizes.
   * @throws RingPreconditionError if the range is empty, outside the ring, or not all ours
   */
  grantRangeToHost(start: Address, end: Address, peer: PeerName): void {
    const entries = this.#entries;
    if (!(start < end) || start < this.start || end > this.end || entries.length === 0) {
      throw new RingPreconditionError(`cannot grant ${formatAddress(start)}-${formatAddress(end)}`);
    }
    let preceding = firstTokenAfter(entries, start) - 1;
    for (let pos = preceding; pos < entries.length && entryAt(entries, pos).token < end; pos++) {
      if (entryAt(entries, pos).peer !== this.peer) {
        throw new RingPreconditionError(`cannot grant ${formatAddress(start)}: not owned by ${this.peer}`);
      }
    }

    const startFree = Math.min(
      ringDistance(this.range, start, entryAt(entries, preceding + 1).token),
      ringDistance(this.range, start, end),
    );
    const previous = entryAt(entries, preceding);
    if (previous.token === start) {
      bump(previous, peer, startFree);
    } else {
      insertEntry(entries, { token: start, peer, version: 0, free: startFree });
      preceding++;
      bump(previous, this.peer, ringDistance(this.range, previous.token, start));
    }

    let pos = preceding + 1;
    for (; pos < entries.length && entryAt(entries, pos).token < end; pos++) {
      const entry = entryAt(entries, pos);
      bump(entry, peer, Math.min(entry.free, ringDistance(this.range, entry.token, end)));
    }

    // The ring's end is exclusive, so a grant reaching it keeps ownership from the ring's start.
    const endToken = end === this.end ? this.start : end;
    if (indexOfToken(entries, endToken) >= 0) return;
    const endFree = ringDistance(this.range, endToken, entryAt(entries, pos).token);
    insertEntry(entries, { token: endToken, peer: this.peer, version: 0, free: endFree });
  }

  /**
   * Merges a received ring into ours (upstream `Ring.Merge`). Returns whether ours changed.
   * Rejects, leaving ours as it was: an invalid ring (`InvalidRingError`), other seeds
   * (`DifferentSeedsError`), another range (`DifferentRangeError`), and conflicts with what we own
   * (`EntryInMyRangeError`, `InconsistentEntryError`, `NewerVersionError`, `MergeResultInvalidError`).
   * `hasAllocations` decides whether a conflicting change to our own space can be accepted.
   */
  merge(incoming: RingState, hasAllocations: HasAllocations): boolean {
    const invalid = ringInvariantError({ start: incoming.start, end: incoming.end }, incoming.entries);
    if (invalid) throw invalid;
    if (incoming.seeds.length > 0 && this.#seeds.length > 0 && !sameNames(incoming.seeds, this.#seeds)) {
      throw new DifferentSeedsError([...incoming.seeds], [...this.#seeds]);
    }
    if (incoming.start !== this.start || incoming.end !== this.end) {
      throw new DifferentRangeError({ start: incoming.start, end: incoming.end }, this.range);
    }

    this.#reasserted = false;
    this.#ties = [];
    const { result, updated } = this.#mergeEntries(incoming.entries, hasAllocations);

    // Accepting a repair can leave one of our entries claiming more than its (now shorter) span.
    for (let i = 0; i < result.length; i++) {
      const entry = result[i]!;
      const distance = ringDistance(this.range, entry.token, entryAt(result, i + 1).token);
      if (entry.peer === this.peer && entry.free > distance) entry.free = distance;
    }
    const invalidResult = ringInvariantError(this.range, result);
    if (invalidResult) throw new MergeResultInvalidError(invalidResult);

    if (this.#seeds.length === 0) this.#seeds = [...incoming.seeds];
    this.#entries = result;
    return updated;
  }

  /**
   * Whether the last {@link Ring.merge} re-asserted one of our entries above a stale copy (an edit that
   * does not count as an update, but must be persisted and spread).
   */
  get reasserted(): boolean {
    return this.#reasserted;
  }

  /**
   * Entries of ours that the last {@link Ring.merge} kept only because of the tie rule: the incoming
   * copy has the same version and free count but names `peer` (two takeovers of the same range).
   */
  get ties(): readonly {
    /** The token of our entry. */
    readonly token: Address;
    /** The peer the incoming copy of the entry named. */
    readonly peer: PeerName;
  }[] {
    return this.#ties;
  }

  #mergeEntries(
    other: readonly Readonly<RingEntry>[],
    hasAllocations: HasAllocations,
  ): { result: RingEntry[]; updated: boolean } {
    const mine = this.#entries;
    const result: RingEntry[] = [];
    let updated = false;
    // Owner of the span we are walking through, while it comes from our side of the merge.
    let previousOwner: PeerName | undefined;
    const keepMine = (e: RingEntry) => {
      result.push({ ...e });
      previousOwner = e.peer;
    };
    const takeTheirs = (e: Readonly<RingEntry>) => {
      result.push({ ...e });
      updated = true;
      previousOwner = undefined;
    };
    const splitsMyRange = (theirs: Readonly<RingEntry>) =>
      previousOwner === this.peer && theirs.peer !== this.peer;

    let i = 0;
    let j = 0;
    while (i < mine.length && j < other.length) {
      const m = mine[i]!;
      const t = other[j]!;
      if (m.token < t.token) {
        keepMine(m);
        i++;
      } else if (m.token > t.token) {
        if (splitsMyRange(t) && hasAllocations(this.#makeRanges(t.token, m.token))) {
          throw new EntryInMyRangeError(t.peer, t.token);
        }
        takeTheirs(t);
        j++;
      } else {
        if (m.version >= t.version) {
          if (m.version === t.version && m.peer !== t.peer) {
            const mySpan = () => this.#makeRanges(t.token, entryAt(mine, i + 1).token);
            if (m.peer === this.peer && hasAllocations(mySpan())) {
              throw new InconsistentEntryError(m.token, m.peer, t.peer);
            }
            // Same version, different owner: the entry reporting more free space wins (ours on a tie).
            if (m.free >= t.free) {
              keepMine(m);
              if (m.peer === this.peer && m.free === t.free)
                this.#ties.push({ token: m.token, peer: t.peer });
            } else takeTheirs(t);
          } else {
            keepMine(m);
          }
        } else if (m.peer === this.peer) {
          const mySpan = this.#makeRanges(m.token, entryAt(mine, i + 1).token);
          if (t.peer !== this.peer && !hasAllocations(mySpan)) {
            // Repair: someone gave our unused span away; accept it.
            takeTheirs(t);
          } else if (t.peer === this.peer) {
            // A stale copy of our own entry came back with a higher version: re-assert ours above it.
            // Like upstream this edits our entry in place and does not count as an update.
            m.version = t.version + 1;
            result.push({ ...m });
            this.#reasserted = true;
          } else {
            throw new NewerVersionError(m.token, m.version, t.peer, t.version);
          }
        } else {
          takeTheirs(t);
        }
        i++;
        j++;
      }
    }
    for (; i < mine.length; i++) result.push({ ...mine[i]! });
    for (; j < other.length; j++) {
      const t = other[j]!;
      if (splitsMyRange(t)) throw new EntryInMyRangeError(t.peer, t.token);
      takeTheirs(t);
    }
    return { result, updated };
  }

  /** `[start, end)` on the ring as ranges in address order (split in two if it wraps past the end). */
  #makeRanges(start: Address, end: Address): Range[] {
    return this.#splitRangesOverZero([{ start, end }]);
  }

  /** Fixes the last of address-ordered ranges when it wraps past the end of the ring. */
  #splitRangesOverZero(ranges: Range[]): Range[] {
    const last = ranges[ranges.length - 1];
    if (!last) return ranges;
    if (last.end === this.start) {
      ranges[ranges.length - 1] = { start: last.start, end: this.end };
    } else if (last.end <= last.start) {
      ranges[ranges.length - 1] = { start: last.start, end: this.end };
      ranges.unshift({ start: this.start, end: last.end });
    }
    return ranges;
  }

  /** Ranges we own, in address order. */
  ownedRanges(): Range[] {
    return this.ownedRangesOfPeer(this.peer);
  }

  /** Ranges `peer` owns, in address order (a span wrapping past the end is split in two). */
  ownedRangesOfPeer(peer: PeerName): Range[] {
    const ranges: Range[] = [];
    this.#entries.forEach((e, i) => {
      if (e.peer === peer) ranges.push({ start: e.token, end: entryAt(this.#entries, i + 1).token });
    });
    return this.#splitRangesOverZero(ranges);
  }

  /** The addresses the entry at `token` spans (two ranges if it wraps past the end), or none. */
  spanOf(token: Address): Range[] {
    const i = indexOfToken(this.#entries, token);
    if (i < 0) return [];
    return this.#makeRanges(token, entryAt(this.#entries, i + 1).token);
  }

  /** Every span with its owner and version, for status and report. */
  allRangeInfo(): RangeInfo[] {
    return this.#entries.flatMap((e, i) =>
      this.#makeRanges(e.token, entryAt(this.#entries, i + 1).token).map((range) => ({
        peer: e.peer,
        range,
        version: e.version,
      })),
    );
  }

  /**
   * Records how many addresses are free in each of our spans, keyed by span start as
   * {@link Ring.ownedRanges} gives them (the piece split off at the ring's start is folded back).
   * Bumps the version of each entry whose count changed; returns whether any did.
   * @throws RingPreconditionError for a key that is not one of our tokens, or a count above the span
   */
  reportFree(freespace: ReadonlyMap<Address, number>): boolean {
    const entries = this.#entries;
    if (entries.length === 0) throw new RingPreconditionError('reportFree on an empty ring');
    const report = new Map(freespace);
    const wrapped = report.get(this.start);
    if (wrapped !== undefined && entries[0]!.token !== this.start) {
      const lastToken = entries[entries.length - 1]!.token;
      const lastFree = report.get(lastToken);
      if (lastFree === undefined)
        throw new RingPreconditionError('reportFree: wrapped span without its start');
      report.set(lastToken, lastFree + wrapped);
      report.delete(this.start);
    }
    let updated = false;
    for (const [start, free] of report) {
      const i = indexOfToken(entries, start);
      const entry = entries[i];
      if (!entry || entry.peer !== this.peer) {
        throw new RingPreconditionError(`reportFree: ${formatAddress(start)} is not a token of ours`);
      }
      if (free > ringDistance(this.range, entry.token, entryAt(entries, i + 1).token)) {
        throw new RingPreconditionError(`reportFree: ${free} free exceeds span at ${formatAddress(start)}`);
      }
      if (entry.free === free) continue;
      entry.free = free;
      entry.version++;
      updated = true;
    }
    return updated;
  }

  /**
   * Peers that report free space in spans overlapping `[start, end)`, excluding us, in random order
   * weighted by their total free space there (upstream: weight = free × uniform random, highest first).
   */
  choosePeersToAskForSpace(start: Address, end: Address, random: Random): PeerName[] {
    const entries = this.#entries;
    const freeByPeer = new Map<PeerName, number>();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      // Skip spans ending before `start` (upstream computes next-1 in uint32, so a 0 token wraps).
      if (i + 1 < entries.length && (entries[i + 1]!.token - 1) >>> 0 < start) continue;
      if (entry.token >= end) break;
      if (entry.free === 0 || entry.peer === this.peer) continue;
      freeByPeer.set(entry.peer, (freeByPeer.get(entry.peer) ?? 0) + entry.free);
    }
    return [...freeByPeer]
      .map(([peer, free]) => ({ peer, weight: free * random.float() }))
      .sort((a, b) => b.weight - a.weight)
      .map((w) => w.peer);
  }

  /** The first other peer named in the ring that `isValid` accepts (an heir on shutdown), if any. */
  pickPeerForTransfer(isValid: (peer: PeerName) => boolean): PeerName | undefined {
    return this.#entries.find((e) => e.peer !== this.peer && isValid(e.peer))?.peer;
  }

  /**
   * Re-assigns every entry of `from` to `to` (`rmpeer`), adding {@link TRANSFER_VERSION_BUMP} to each
   * version and zeroing its free count (advisory; the new owner reports its own). Returns the ranges that changed hands, in address order.
   */
  transfer(from: PeerName, to: PeerName): Range[] {
    const ranges: Range[] = [];
    this.#entries.forEach((e, i) => {
      if (e.peer !== from) return;
      e.peer = to;
      e.version += TRANSFER_VERSION_BUMP;
      // The new owner reports the real count. Keeping the old one could make another peer's merge
      // invalid, should the old owner have split the span meanwhile (its free count then exceeds it).
      e.free = 0;
      ranges.push({ start: e.token, end: entryAt(this.#entries, i + 1).token });
    });
    return this.#splitRangesOverZero(ranges);
  }

  /**
   * Hands our entries whose span `choose` accepts to `to`, adding {@link TRANSFER_VERSION_BUMP} to each
   * version (giving reclaimed ranges back). Returns the ranges that changed hands, in address order.
   */
  transferOwn(to: PeerName, choose: (span: readonly Range[]) => boolean): Range[] {
    const ranges: Range[] = [];
    this.#entries.forEach((e, i) => {
      if (e.peer !== this.peer) return;
      const span = this.#makeRanges(e.token, entryAt(this.#entries, i + 1).token);
      if (!choose(span)) return;
      e.peer = to;
      e.version += TRANSFER_VERSION_BUMP;
      e.free = 0;
      ranges.push(...span);
    });
    return ranges.sort((a, b) => a.start - b.start);
  }

  /** `Ring [start, end)` then one `token -> peer (nick) (vN)` line per entry. */
  format(nicknames: ReadonlyMap<PeerName, string> = new Map()): string {
    const lines = this.#entries.map((e) => {
      const nick = nicknames.get(e.peer);
      return `\n  ${formatAddress(e.token)} -> ${e.peer}${nick === undefined ? '' : ` (${nick})`} (v${e.version})`;
    });
    return `Ring [${formatAddress(this.start)}, ${formatAddress(this.end)})${lines.join('')}`;
  }

  /** Same as {@link Ring.format} without nicknames. */
  toString(): string {
    return this.format();
  }
}

function bump(entry: RingEntry, peer: PeerName, free: number): void {
  entry.peer = peer;
  entry.version++;
  entry.free = free;
}

function sameNames(a: readonly PeerName[], b: readonly PeerName[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
