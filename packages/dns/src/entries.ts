import type { PeerName } from '@weave-ts/core';
import { compareCaseInsensitive, type Entry, mergeEntry, sameRecord, tombstoned } from './entry.js';

/** Told about every change: `before` absent for an insertion, `after` absent for a removal. */
export type EntryChangeListener = (before: Entry | undefined, after: Entry | undefined) => void;

/**
 * The sorted set of name entries one peer knows, in case-insensitive hostname order, with the
 * operations upstream's `Entries` offers (add, merge, tombstone, filter, lookup). Entries are
 * immutable values: a change replaces the stored object, so anything handed out stays a snapshot.
 */
export class Entries {
  readonly #list: Entry[] = [];
  /** Lower-cased hostnames, parallel to #list, so searches do not lower-case on every comparison. */
  readonly #lower: string[] = [];
  readonly #onChange: EntryChangeListener | undefined;

  /** An empty set; `onChange` hears about every insertion, update and removal. */
  constructor(onChange?: EntryChangeListener) {
    this.#onChange = onChange;
  }

  /** A set holding `entries` (any order; later duplicates of a record merge into earlier ones). */
  static of(entries: Iterable<Entry>): Entries {
    const set = new Entries();
    set.merge([...entries]);
    return set;
  }

  /** How many entries, tombstones included. */
  get size(): number {
    return this.#list.length;
  }

  /** Every entry, tombstones included, in storage order. */
  all(): Entry[] {
    return this.#list.slice();
  }

  /** The index of the first stored entry not ordered before `e`. */
  #search(e: Entry): number {
    let lo = 0;
    let hi = this.#list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareCaseInsensitive(this.#list[mid]!, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insert(i: number, e: Entry): void {
    this.#list.splice(i, 0, e);
    this.#lower.splice(i, 0, e.hostname.toLowerCase());
    this.#onChange?.(undefined, e);
  }

  #replace(i: number, e: Entry): void {
    const before = this.#list[i];
    this.#list[i] = e;
    this.#onChange?.(before, e);
  }

  /** The stored entry for the same record as `e`, if any. */
  findEqual(e: Entry): Entry | undefined {
    const found = this.#list[this.#search(e)];
    return found && sameRecord(found, e) ? found : undefined;
  }

  /**
   * Adds a live record, or brings a tombstoned one back to life (version + 1). Returns the stored
   * entry; an already-live record is left as it is.
   */
  add(hostname: string, containerId: string, origin: PeerName, addr: number): Entry {
    const entry: Entry = { hostname, containerId, origin, addr, version: 0, tombstone: 0 };
    const i = this.#search(entry);
    const found = this.#list[i];
    if (found && sameRecord(found, entry)) {
      if (found.tombstone > 0) this.#replace(i, { ...found, tombstone: 0, version: found.version + 1 });
      return this.#list[i]!;
    }
    this.#insert(i, entry);
    return entry;
  }

  /** Merges `incoming` (any order) into the set. Returns the incoming entries that changed something. */
  merge(incoming: readonly Entry[]): Entry[] {
    const changed: Entry[] = [];
    for (const entry of [...incoming].sort(compareCaseInsensitive)) {
      const i = this.#search(entry);
      const found = this.#list[i];
      if (found && sameRecord(found, entry)) {
        const merged = mergeEntry(found, entry);
        if (merged) {
          this.#replace(i, merged);
          changed.push(entry);
        }
      } else {
        this.#insert(i, entry);
        changed.push(entry);
      }
    }
    return changed;
  }

  /**
   * Deletes (tombstones at `nowSeconds`) the live entries owned by `ourName` that `match` selects.
   * Returns the new tombstones, to be gossiped.
   */
  tombstone(ourName: PeerName, nowSeconds: number, match: (e: Entry) => boolean): Entry[] {
    const done: Entry[] = [];
    this.#list.forEach((e, i) => {
      if (e.origin !== ourName || !match(e)) return;
      const dead = tombstoned(e, nowSeconds);
      if (dead) {
        this.#replace(i, dead);
        done.push(dead);
      }
    });
    return done;
  }

  /** Keeps only the entries `keep` accepts; returns the ones dropped. */
  filter(keep: (e: Entry) => boolean): Entry[] {
    const removed: Entry[] = [];
    let j = 0;
    for (let i = 0; i < this.#list.length; i++) {
      const e = this.#list[i]!;
      if (keep(e)) {
        this.#list[j] = e;
        this.#lower[j] = this.#lower[i]!;
        j++;
      } else {
        removed.push(e);
      }
    }
    this.#list.length = j;
    this.#lower.length = j;
    for (const e of removed) this.#onChange?.(e, undefined);
    return removed;
  }

  /** Every entry (tombstones included) whose hostname equals `hostname` ignoring case. */
  lookup(hostname: string): Entry[] {
    const lower = hostname.toLowerCase();
    let lo = 0;
    let hi = this.#lower.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#lower[mid]! < lower) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < this.#lower.length && this.#lower[end] === lower) end++;
    return this.#list.slice(lo, end);
  }

  /** The first entry in storage order that `match` selects. */
  first(match: (e: Entry) => boolean): Entry | undefined {
    return this.#list.find(match);
  }
}
