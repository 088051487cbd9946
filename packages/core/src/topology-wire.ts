import { WeaveError } from './errors.js';
import { encodeGobBody, GobDecoder, GobEncoder, GobValueCache, t } from './gob/index.js';
import type { ConnectionSummary, PeerSummary } from './peer.js';
import { peerNameFromBytes, peerNameToBytes } from './peer-name.js';

/**
 * The topology gossip payload: ONE gob stream (one encoder, so each type is defined once) holding, for
 * every peer in the update, its `peerSummary` followed by its `[]connectionSummary`:
 *
 * ```
 * peerSummary{NameByte []byte; NickName string; UID uint64; Version uint64; ShortID uint16; HasShortID bool}
 * []connectionSummary{NameByte []byte; RemoteTCPAddr string; Outbound bool; Established bool}
 * ...repeated per peer
 * ```
 *
 * Go type and field names are those upstream's `mesh` package puts on the wire (checked against
 * captures of a stock 2.8.1 router). `NameByte` is the peer name's 6 big-endian bytes.
 */

/** Schema of mesh's `peerSummary`. */
export const peerSummaryType = t.struct('peerSummary', {
  /** The peer name's 6 big-endian bytes. */
  NameByte: t.bytes,
  /** The peer's nickname. */
  NickName: t.string,
  /** The peer's 64-bit instance id. */
  UID: t.uint64,
  /** The peer's topology version. */
  Version: t.uint64,
  /** The peer's 12-bit short id. */
  ShortID: t.uint,
  /** Whether `ShortID` is set. */
  HasShortID: t.bool,
});

/** Schema of mesh's `connectionSummary`. */
export const connectionSummaryType = t.struct('connectionSummary', {
  /** The remote peer name's 6 big-endian bytes. */
  NameByte: t.bytes,
  /** The connection's remote `ip:port`. */
  RemoteTCPAddr: t.string,
  /** Whether the gossiping peer dialled it. */
  Outbound: t.bool,
  /** Whether the connection is established. */
  Established: t.bool,
});

/**
 * Most peers one topology update may describe (four times the 4096 short IDs a mesh can hand out).
 * An update describing more fails with {@link TopologyDecodeError} as soon as the next peer arrives.
 */
export const MAX_TOPOLOGY_PEERS = 16384;

/**
 * Most connections one topology update may list in all, over all its peers (a full mesh of 512 peers).
 * A connection takes ~10 bytes on the wire and ~100 in memory, so this bounds what one update costs.
 */
export const MAX_TOPOLOGY_CONNECTIONS = 1 << 18;

/**
 * Schema of the unnamed `[]connectionSummary` sent after each peer; one peer connects to at most
 * {@link MAX_TOPOLOGY_PEERS} others (a longer list is refused before it is allocated: GobLimitError).
 */
export const connectionSummariesType = t.slice(connectionSummaryType, { maxLen: MAX_TOPOLOGY_PEERS });

/** One peer's entry in a topology payload. */
export interface TopologyEntry {
  /** The peer's identity and version. */
  readonly peer: PeerSummary;
  /** The peer's connections as it gossiped them. */
  readonly connections: readonly ConnectionSummary[];
}

/** A topology payload could not be decoded (bad gob, truncated stream, or out-of-range field). */
export class TopologyDecodeError extends WeaveError {
  /** The error's stable name: `'TopologyDecodeError'`. */
  override name = 'TopologyDecodeError';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid topology update: ${reason}`, options);
  }
}

/** Versions above this cannot be held exactly in a JS number; no real peer gets near it. */
const MAX_VERSION = BigInt(Number.MAX_SAFE_INTEGER);
/** ShortID is a Go uint16 on the wire (12 bits in use). */
const MAX_WIRE_SHORT_ID = 0xffff;

/**
 * One peer's part of a topology payload, encoded once: the gob value bodies of its `peerSummary` and
 * its `[]connectionSummary`. Bodies carry no type ids, so one encoding serves every payload.
 */
export interface EncodedTopologyEntry {
  readonly summary: Uint8Array;
  readonly connections: Uint8Array;
}

/** Encodes one peer's entry for {@link encodeTopologyEntries}. */
export function encodeTopologyEntry(
  peer: PeerSummary,
  connections: Iterable<ConnectionSummary>,
): EncodedTopologyEntry {
  return {
    summary: encodeGobBody(peerSummaryType, {
      NameByte: peerNameToBytes(peer.name),
      NickName: peer.nickname,
      UID: peer.uid,
      Version: BigInt(peer.version),
      ShortID: peer.shortId,
      HasShortID: peer.hasShortId,
    }),
    connections: encodeGobBody(
      connectionSummariesType,
      Array.from(connections, (c) => ({
        NameByte: peerNameToBytes(c.remoteName),
        RemoteTCPAddr: c.remoteTcpAddr,
        Outbound: c.outbound,
        Established: c.established,
      })),
    ),
  };
}

/** A topology payload made of entries encoded by {@link encodeTopologyEntry}, in the order given. */
export function encodeTopologyEntries(entries: readonly EncodedTopologyEntry[]): Uint8Array {
  // The type definitions take about 200 bytes, and each message adds a few bytes of framing.
  let size = 256;
  for (const e of entries) size += e.summary.length + e.connections.length + 20;
  const enc = new GobEncoder({ sizeHint: size });
  for (const { summary, connections } of entries) {
    enc.encodeBody(peerSummaryType, summary).encodeBody(connectionSummariesType, connections);
  }
  return enc.finish();
}

/** Encodes peers (in the order given) as a topology payload. */
export function encodeTopology(
  entries: Iterable<{ readonly peer: PeerSummary; readonly connections: Iterable<ConnectionSummary> }>,
): Uint8Array {
  return encodeTopologyEntries(Array.from(entries, (e) => encodeTopologyEntry(e.peer, e.connections)));
}

/**
 * Every peer's entry reaches us many times over (each neighbour relays it), so decoded gob values are
 * kept by their exact bytes (see GobValueCache) and the entry parts made from them are kept by the
 * value objects: a repeated entry costs a hash and a compare. Both hold only immutable data; the
 * value cache drops its oldest entries past 8 MiB of message bodies, and the parts go with them.
 */
const valueCache = new GobValueCache(8 << 20);
const summaries = new WeakMap<object, PeerSummary>();
const connectionLists = new WeakMap<object, readonly ConnectionSummary[]>();

/**
 * Decodes a topology payload; an empty payload is an empty update. Peer summaries and connection
 * lists are frozen and shared with other decoded payloads that repeat them.
 * @throws TopologyDecodeError for anything malformed (never a different error, never a partial result)
 */
export function decodeTopology(payload: Uint8Array): TopologyEntry[] {
  try {
    const dec = new GobDecoder(payload);
    const entries: TopologyEntry[] = [];
    let connectionCount = 0;
    while (!dec.atEnd) {
      if (entries.length === MAX_TOPOLOGY_PEERS)
        throw new TopologyDecodeError(`more than ${MAX_TOPOLOGY_PEERS} peers in one update`);
      const ps = dec.decode(peerSummaryType, valueCache);
      if (dec.atEnd) throw new TopologyDecodeError('peer summary without its connection list');
      const cs = dec.decode(connectionSummariesType, valueCache);
      connectionCount += cs.length;
      if (connectionCount > MAX_TOPOLOGY_CONNECTIONS)
        throw new TopologyDecodeError(`more than ${MAX_TOPOLOGY_CONNECTIONS} connections in one update`);
      if (ps.Version > MAX_VERSION) throw new TopologyDecodeError(`version ${ps.Version} out of range`);
      if (ps.ShortID > MAX_WIRE_SHORT_ID)
        throw new TopologyDecodeError(`short ID ${ps.ShortID} out of range`);
      let peer = summaries.get(ps);
      if (peer === undefined) {
        peer = Object.freeze({
          name: peerNameFromBytes(ps.NameByte),
          nickname: ps.NickName,
          uid: ps.UID,
          version: Number(ps.Version),
          shortId: ps.ShortID,
          hasShortId: ps.HasShortID,
        });
        summaries.set(ps, peer);
      }
      let connections = connectionLists.get(cs);
      if (connections === undefined) {
        connections = Object.freeze(
          cs.map((c) =>
            Object.freeze({
              remoteName: peerNameFromBytes(c.NameByte),
              remoteTcpAddr: c.RemoteTCPAddr,
              outbound: c.Outbound,
              established: c.Established,
            }),
          ),
        );
        connectionLists.set(cs, connections);
      }
      entries.push({ peer, connections });
    }
    return entries;
  } catch (err) {
    if (err instanceof TopologyDecodeError) throw err;
    throw new TopologyDecodeError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}
