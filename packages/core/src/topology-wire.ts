import { WeaveError } from './errors.js';
import { GobDecoder, GobEncoder, t } from './gob/index.js';
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
  NameByte: t.bytes,
  NickName: t.string,
  UID: t.uint64,
  Version: t.uint64,
  ShortID: t.uint,
  HasShortID: t.bool,
});

/** Schema of mesh's `connectionSummary`. */
export const connectionSummaryType = t.struct('connectionSummary', {
  NameByte: t.bytes,
  RemoteTCPAddr: t.string,
  Outbound: t.bool,
  Established: t.bool,
});

/** Schema of the unnamed `[]connectionSummary` sent after each peer. */
export const connectionSummariesType = t.slice(connectionSummaryType);

/** One peer's entry in a topology payload. */
export interface TopologyEntry {
  readonly peer: PeerSummary;
  readonly connections: readonly ConnectionSummary[];
}

/** A topology payload could not be decoded (bad gob, truncated stream, or out-of-range field). */
export class TopologyDecodeError extends WeaveError {
  override name = 'TopologyDecodeError';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid topology update: ${reason}`, options);
  }
}

/** Versions above this cannot be held exactly in a JS number; no real peer gets near it. */
const MAX_VERSION = BigInt(Number.MAX_SAFE_INTEGER);
/** ShortID is a Go uint16 on the wire (12 bits in use). */
const MAX_WIRE_SHORT_ID = 0xffff;

/** Encodes peers (in the order given) as a topology payload. */
export function encodeTopology(
  entries: Iterable<{ readonly peer: PeerSummary; readonly connections: Iterable<ConnectionSummary> }>,
): Uint8Array {
  const enc = new GobEncoder();
  for (const { peer, connections } of entries) {
    enc.encode(peerSummaryType, {
      NameByte: peerNameToBytes(peer.name),
      NickName: peer.nickname,
      UID: peer.uid,
      Version: BigInt(peer.version),
      ShortID: peer.shortId,
      HasShortID: peer.hasShortId,
    });
    enc.encode(
      connectionSummariesType,
      Array.from(connections, (c) => ({
        NameByte: peerNameToBytes(c.remoteName),
        RemoteTCPAddr: c.remoteTcpAddr,
        Outbound: c.outbound,
        Established: c.established,
      })),
    );
  }
  return enc.finish();
}

/**
 * Decodes a topology payload; an empty payload is an empty update.
 * @throws TopologyDecodeError for anything malformed (never a different error, never a partial result)
 */
export function decodeTopology(payload: Uint8Array): TopologyEntry[] {
  try {
    const dec = new GobDecoder(payload);
    const entries: TopologyEntry[] = [];
    while (!dec.atEnd) {
      const ps = dec.decode(peerSummaryType);
      if (dec.atEnd) throw new TopologyDecodeError('peer summary without its connection list');
      const cs = dec.decode(connectionSummariesType);
      if (ps.Version > MAX_VERSION) throw new TopologyDecodeError(`version ${ps.Version} out of range`);
      if (ps.ShortID > MAX_WIRE_SHORT_ID)
        throw new TopologyDecodeError(`short ID ${ps.ShortID} out of range`);
      entries.push({
        peer: {
          name: peerNameFromBytes(ps.NameByte),
          nickname: ps.NickName,
          uid: ps.UID,
          version: Number(ps.Version),
          shortId: ps.ShortID,
          hasShortId: ps.HasShortID,
        },
        connections: cs.map((c) => ({
          remoteName: peerNameFromBytes(c.NameByte),
          remoteTcpAddr: c.RemoteTCPAddr,
          outbound: c.Outbound,
          established: c.Established,
        })),
      });
    }
    return entries;
  } catch (err) {
    if (err instanceof TopologyDecodeError) throw err;
    throw new TopologyDecodeError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}
