import { type PeerName, parsePeerName } from '@weave-ts/core';
import { type CIDR, formatCIDR, formatRange, type Range } from './address.js';
import { PersistedDataError } from './allocator-errors.js';
import { InvalidRingError } from './errors.js';
import { OwnedAddresses } from './owned.js';
import { Ring } from './ring.js';
import type { RingEntry, RingState } from './ring-entries.js';
import type { Store } from './store.js';

/**
 * Names and shapes of the records the allocator keeps in its `Store` (upstream's BoltDB keys):
 * `peername` (our name when the ring was saved), `ring` (a {@link RingState} as JSON) and, per
 * holder, `ownedAddresses/<container id>` (see `OwnedAddresses.recordOf`).
 */
export const RecordName = {
  /** Our peer name, to detect a data directory of another peer. */
  PeerName: 'peername',
  /** The ring. */
  Ring: 'ring',
  /** Prefix of the per-container owned-address records. */
  OwnedAddresses: 'ownedAddresses',
  /** Ranges taken over from other peers and held in trust for them (ours; upstream has no such record). */
  HeldInTrust: 'heldInTrust',
} as const;

/** The `heldInTrust` record: previous owner -> `[start, end)` pairs. */
export function heldToRecord(
  held: ReadonlyMap<PeerName, readonly Range[]>,
): Record<string, [number, number][]> {
  const record: Record<string, [number, number][]> = {};
  for (const [peer, ranges] of held) record[peer] = ranges.map((r) => [r.start, r.end]);
  return record;
}

/** Reads a `heldInTrust` record; anything malformed is dropped (the space then counts as ours). */
export function heldFromRecord(record: unknown): Map<PeerName, Range[]> {
  const held = new Map<PeerName, Range[]>();
  if (typeof record !== 'object' || record === null) return held;
  for (const [peer, pairs] of Object.entries(record)) {
    let name: PeerName;
    try {
      name = parsePeerName(peer);
    } catch {
      continue;
    }
    if (!Array.isArray(pairs)) continue;
    const ranges = pairs
      .filter(
        (p): p is [number, number] =>
          Array.isArray(p) && isUint32(p[0]) && isUint32Or2p32(p[1]) && (p[0] as number) < (p[1] as number),
      )
      .map(([start, end]) => ({ start, end }));
    if (ranges.length > 0) held.set(name, ranges);
  }
  return held;
}

const OWNED_PREFIX = `${RecordName.OwnedAddresses}/`;

/** The record name of what `ident` holds. */
export function ownedRecordName(ident: string): string {
  return OWNED_PREFIX + ident;
}

/** The holder a record name belongs to, or `undefined` for other records. */
export function identOfRecordName(name: string): string | undefined {
  return name.startsWith(OWNED_PREFIX) ? name.slice(OWNED_PREFIX.length) : undefined;
}

/** Reads a persisted ring. @throws PersistedDataError when the record is not a ring */
export function ringStateFromRecord(record: unknown): RingState {
  const bad = (why: string) => new PersistedDataError(RecordName.Ring, why);
  if (typeof record !== 'object' || record === null) throw bad('not an object');
  const { start, end, peer, entries, seeds } = record as Record<string, unknown>;
  if (!isUint32(start) || !isUint32Or2p32(end)) throw bad('bad range');
  if (!Array.isArray(entries) || !Array.isArray(seeds)) throw bad('bad entries or seeds');
  return {
    start,
    end,
    peer: name(peer, bad),
    entries: entries.map((e): RingEntry => {
      const { token, peer: owner, version, free } = (e ?? {}) as Record<string, unknown>;
      if (!isUint32(token) || !isUint32(version) || !isUint32(free)) throw bad('bad entry');
      return { token, peer: name(owner, bad), version, free };
    }),
    seeds: seeds.map((s) => name(s, bad)),
  };
}

function name(value: unknown, bad: (why: string) => Error): PeerName {
  if (typeof value !== 'string') throw bad('bad peer name');
  try {
    return parsePeerName(value);
  } catch {
    throw bad(`bad peer name ${value}`);
  }
}

function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

function isUint32Or2p32(value: unknown): value is number {
  return isUint32(value) || value === 2 ** 32;
}

/** What {@link loadPersistedState} found. */
export type PersistedState =
  | { readonly kind: 'loaded'; readonly ring: Ring; readonly owned: OwnedAddresses }
  | {
      readonly kind: 'stale';
      /** Why it is discarded (upstream's log line). */
      readonly reason: string;
      /** Holders whose records must be deleted along with it. */
      readonly staleIdents: readonly string[];
    };

/**
 * Reads what a previous run of peer `ourName` with allocation range `universe` stored. Data of
 * another peer name or another range is stale (upstream: `Deleting persisted data for …`), so that a
 * changed `--ipalloc-range` starts afresh. @throws PersistedDataError for records that cannot be read
 */
export function loadPersistedState(
  store: Store,
  ourName: PeerName,
  universe: CIDR,
  range: Range,
): PersistedState {
  const name = store.get(RecordName.PeerName);
  const ringRecord = store.get(RecordName.Ring);
  const ownedRecords = store.keys().flatMap((key) => {
    const ident = identOfRecordName(key);
    return ident === undefined ? [] : [[ident, store.get(key)] as const];
  });
  const stale = (reason: string): PersistedState => ({
    kind: 'stale',
    reason,
    staleIdents: ownedRecords.map(([ident]) => ident),
  });
  if (name === undefined || ringRecord === undefined) return stale('No valid persisted data');
  if (name !== ourName) return stale(`Deleting persisted data for peername ${String(name)}`);
  const state = ringStateFromRecord(ringRecord);
  if (state.start !== range.start || state.end !== range.end) {
    return stale(
      `Deleting persisted data for IPAM range ${formatRange(state)}; our range is ${formatCIDR(universe)}`,
    );
  }
  let ring: Ring;
  try {
    ring = Ring.fromState({ ...state, peer: ourName });
  } catch (error) {
    if (error instanceof InvalidRingError) throw new PersistedDataError(RecordName.Ring, error.message);
    throw error;
  }
  return { kind: 'loaded', ring, owned: OwnedAddresses.fromRecords(ownedRecords) };
}
