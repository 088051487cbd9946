import { type GossipData, peerNameFromNumber, peerNameToNumber } from '@weave-ts/core';
import { decodeGob, encodeGob, type Infer, t } from '@weave-ts/core/protocol';
import { compareCaseSensitive, type Entry } from './entry.js';
import { Entries } from './entries.js';
import { InvalidNameGossipError } from './errors.js';

/**
 * The `nameserver` channel's wire form, as upstream declares it (checked against the type
 * definitions in captured 2.8.1 traffic):
 *
 * ```
 * GossipData { Timestamp int64; Entries []Entry }      // Entries is the named slice type `Entries`
 * Entry { ContainerID string; Origin uint64 (mesh.PeerName); Addr uint32 (address.Address);
 *         Hostname string; Version int; Tombstone int64 }
 * ```
 */
export const GobEntry = t.struct('Entry', {
  /** The container the name belongs to. */
  ContainerID: t.string,
  /** The peer that registered the name (its name as a number). */
  Origin: t.uint,
  /** The IPv4 address, as a 32-bit number. */
  Addr: t.uint,
  /** The fully qualified name, with a trailing dot. */
  Hostname: t.string,
  /** Grows with each change of the entry; the higher wins. */
  Version: t.int,
  /** When the entry was deleted (unix seconds), 0 while it is live. */
  Tombstone: t.int,
});

/**
 * Most entries one `nameserver` gossip payload may carry (131 072). A real entry takes at least ~80
 * bytes on the wire (a 64-character container ID, an address, a hostname), so a legitimate payload
 * under the 10 MiB message limit holds fewer; an empty entry takes one byte but ~100 in memory, so a
 * payload claiming more is refused (GobLimitError as the cause) before the entries are allocated.
 */
export const MAX_NAME_GOSSIP_ENTRIES = 1 << 17;

/** The gob type of one `nameserver` gossip payload. */
export const GobNameGossip = t.struct('GossipData', {
  /** The sender's clock when sent, in unix seconds. */
  Timestamp: t.int,
  /** The entries carried. */
  Entries: t.slice(GobEntry, { name: 'Entries', maxLen: MAX_NAME_GOSSIP_ENTRIES }),
});

/** A batch of entries with the sender's clock (unix seconds): what peers gossip to each other. */
export class NameGossipData implements GossipData {
  constructor(
    /** The sender's clock when it was sent, in unix seconds. */
    readonly timestamp: number,
    /** The entries carried. */
    readonly entries: readonly Entry[],
  ) {}

  /** One gob payload, entries in upstream's case-sensitive order. */
  encode(): Uint8Array[] {
    const sorted = [...this.entries].sort(compareCaseSensitive);
    const value: Infer<typeof GobNameGossip> = {
      Timestamp: this.timestamp,
      Entries: sorted.map((e) => ({
        ContainerID: e.containerId,
        Origin: peerNameToNumber(e.origin),
        Addr: e.addr,
        Hostname: e.hostname,
        Version: e.version,
        Tombstone: e.tombstone,
      })),
    };
    return [encodeGob(GobNameGossip, value)];
  }

  /** The union of both batches (records merged by version/tombstone), with the later timestamp. */
  merge(other: GossipData): NameGossipData {
    if (!(other instanceof NameGossipData)) throw new TypeError('cannot merge foreign gossip data');
    return new NameGossipData(
      Math.max(this.timestamp, other.timestamp),
      Entries.of([...this.entries, ...other.entries]).all(),
    );
  }

  /**
   * Parses a received payload. @throws InvalidNameGossipError for bytes that are not a gob
   * `GossipData` or hold out-of-range peer names, addresses or numbers.
   */
  static decode(bytes: Uint8Array): NameGossipData {
    let raw: Infer<typeof GobNameGossip>;
    try {
      raw = decodeGob(GobNameGossip, bytes);
    } catch (err) {
      throw new InvalidNameGossipError((err as Error).message, { cause: err });
    }
    if (!Number.isSafeInteger(raw.Timestamp)) throw new InvalidNameGossipError('bad timestamp');
    const entries = raw.Entries.map((e): Entry => {
      if (!Number.isInteger(e.Addr) || e.Addr < 0 || e.Addr > 0xffffffff) {
        throw new InvalidNameGossipError(`address ${e.Addr} out of range`);
      }
      if (!Number.isSafeInteger(e.Version) || !Number.isSafeInteger(e.Tombstone)) {
        throw new InvalidNameGossipError('bad version or tombstone');
      }
      let origin: Entry['origin'];
      try {
        origin = peerNameFromNumber(e.Origin);
      } catch (err) {
        throw new InvalidNameGossipError(`bad origin ${e.Origin}`, { cause: err });
      }
      return {
        containerId: e.ContainerID,
        origin,
        addr: e.Addr,
        hostname: e.Hostname,
        version: e.Version,
        tombstone: e.Tombstone,
      };
    });
    return new NameGossipData(raw.Timestamp, entries);
  }
}
