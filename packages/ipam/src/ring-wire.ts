import { type PeerName, peerNameFromNumber, peerNameToNumber } from '@weave-ts/core';
import { type Infer, t } from '@weave-ts/core/protocol';
import type { Range } from './address.js';
import { WireValueOutOfRangeError } from './errors.js';
import type { NodeId, PaxosGossip, ProposalId } from './paxos.js';
import type { RingState } from './ring-entries.js';

/**
 * Gob schemas of the IPAM values on channel `IPallocation`, with the Go names a Weave 2.8.1 router
 * writes (checked against captured traffic): `Ring{Start, End, Peer, Entries, Seeds}` with the named
 * slice `entries` of an unnamed-in-gob `entry{Token, Peer, Version, Free}`; Paxos `GossipState`
 * (`map[NodeID]NodeClaims`, key and value structs unnamed in gob); `Range{Start, End}` for space
 * requests. Addresses, versions and counts are Go uint32; peer names are uint64 holding 48 bits.
 */

/**
 * Most entries a ring on the wire may have. Each entry is a range boundary owned by a peer; real rings
 * hold a few per peer, so this is far above any legitimate ring, and a message with more is refused
 * (GobLimitError) before the entries are allocated: an entry costs one byte on the wire and ~100 in memory.
 */
export const MAX_RING_ENTRIES = 65536;

/**
 * Most peers one IPAM message may name in a list or map (ring seeds, nicknames, Paxos nodes and their
 * accepted values): four times as many peers as short IDs exist (4096).
 */
export const MAX_IPAM_PEERS = 16384;

/**
 * Go `ring.entry`. Go reaches it through `*entry`, so its wire name is empty; naming the schema ''
 * gives the same bytes without making every decoded element optional.
 */
export const entryWireType = t.struct('', {
  /** Start address of the range this entry begins, as a 32-bit number. */
  Token: t.uint,
  /** The peer owning the range up to the next entry (its name as a number). */
  Peer: t.uint,
  /** Version of the entry; the higher wins when rings merge. */
  Version: t.uint,
  /** How many addresses of the range are free, as the owner last said. */
  Free: t.uint,
});

/** Go `ring.Ring`. */
export const ringWireType = t.struct(
  'Ring',
  {
    /** First address of the ring's range, as a 32-bit number. */
    Start: t.uint,
    /** One past the last address of the ring's range. */
    End: t.uint,
    /** The peer whose ring this is (its name as a number). */
    Peer: t.uint,
    /** The ring's entries, sorted by token. */
    Entries: t.slice(entryWireType, { name: 'entries', maxLen: MAX_RING_ENTRIES }),
    /** The peers that seeded the ring (names as numbers); rings with different seeds never merge. */
    Seeds: t.slice(t.uint, { goString: '[]mesh.PeerName', maxLen: MAX_IPAM_PEERS }),
  },
  { pkg: 'ring' },
);

/** Go `address.Range` (body of `msgSpaceRequest` and `msgSpaceRequestDenied`). */
export const rangeWireType = t.struct(
  'Range',
  {
    /** First address, as a 32-bit number. */
    Start: t.uint,
    /** One past the last address. */
    End: t.uint,
  },
  { pkg: 'address' },
);

// NodeID and NodeClaims are first reached as map key and value, so Go sends them unnamed.
const nodeIdWireType = t.struct(
  'NodeID',
  {
    /** The node's peer name as a number. */
    Name: t.uint,
    /** The node's peer instance id. */
    UID: t.uint64,
  },
  { pkg: 'paxos' },
);
const proposalIdWireType = t.struct(
  'ProposalID',
  {
    /** The proposal round. */
    Round: t.uint,
    /** The node that proposed it. */
    Proposer: nodeIdWireType,
  },
  { pkg: 'paxos' },
);

/** Go `paxos.GossipState`: every node's claims as one node knows them. */
export const paxosWireType = t.map(
  nodeIdWireType,
  t.struct(
    'NodeClaims',
    {
      /** The highest proposal this node promised to accept. */
      Promise: proposalIdWireType,
      /** The proposal whose value this node accepted. */
      Accepted: proposalIdWireType,
      /** The accepted value and the proposal it came from. */
      AcceptedVal: t.struct(
        'AcceptedValue',
        {
          /** The seeds proposed (peer names as numbers). */
          Value: t.slice(t.uint, { name: 'Value', maxLen: MAX_IPAM_PEERS }),
          /** The proposal that first carried this value. */
          Origin: proposalIdWireType,
        },
        { pkg: 'paxos' },
      ),
    },
    { pkg: 'paxos' },
  ),
  { name: 'GossipState', maxLen: MAX_IPAM_PEERS },
);

/** The decoded/encodable form of {@link ringWireType}. */
export type RingWire = Infer<typeof ringWireType>;
/** The decoded/encodable form of {@link rangeWireType}. */
export type RangeWire = Infer<typeof rangeWireType>;
/** The decoded/encodable form of {@link paxosWireType}. */
export type PaxosWire = Infer<typeof paxosWireType>;

const UINT32_MAX = 0xffffffff;

function uint32(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX)
    throw new WireValueOutOfRangeError(field, value);
  return value;
}

function peer(field: string, value: number | bigint): PeerName {
  try {
    return peerNameFromNumber(value);
  } catch {
    throw new WireValueOutOfRangeError(field, value);
  }
}

/** A ring as Go encodes it. */
export function ringToWire(ring: RingState): RingWire {
  return {
    Start: ring.start,
    End: ring.end,
    Peer: peerNameToNumber(ring.peer),
    Entries: ring.entries.map((e) => ({
      Token: e.token,
      Peer: peerNameToNumber(e.peer),
      Version: e.version,
      Free: e.free,
    })),
    Seeds: ring.seeds.map(peerNameToNumber),
  };
}

/**
 * A decoded ring as plain data. Checks value ranges only; ring invariants are checked by
 * `Ring.merge` / `Ring.fromState`. @throws WireValueOutOfRangeError
 */
export function ringFromWire(wire: RingWire): RingState {
  return {
    start: uint32('Ring.Start', wire.Start),
    end: uint32('Ring.End', wire.End),
    peer: peer('Ring.Peer', wire.Peer),
    entries: wire.Entries.map((e) => ({
      token: uint32('entry.Token', e.Token),
      peer: peer('entry.Peer', e.Peer),
      version: uint32('entry.Version', e.Version),
      free: uint32('entry.Free', e.Free),
    })),
    seeds: wire.Seeds.map((s) => peer('Ring.Seeds', s)),
  };
}

/** A range as Go encodes it. */
export function rangeToWire(range: Range): RangeWire {
  return { Start: range.start, End: range.end };
}

/** A decoded range. @throws WireValueOutOfRangeError */
export function rangeFromWire(wire: RangeWire): Range {
  return { start: uint32('Range.Start', wire.Start), end: uint32('Range.End', wire.End) };
}

/** Paxos knowledge as Go encodes it. */
export function paxosToWire(gossip: PaxosGossip): PaxosWire {
  const nodeId = (id: { name: PeerName; uid: bigint }) => ({ Name: peerNameToNumber(id.name), UID: id.uid });
  const proposal = (p: PaxosGossip[number]['claims']['promise']) => ({
    Round: p.round,
    Proposer: nodeId(p.proposer),
  });
  return new Map(
    gossip.map(({ node, claims }) => [
      nodeId(node),
      {
        Promise: proposal(claims.promise),
        Accepted: proposal(claims.accepted),
        AcceptedVal: {
          Value: claims.acceptedVal.value.map(peerNameToNumber),
          Origin: proposal(claims.acceptedVal.origin),
        },
      },
    ]),
  );
}

/** Decoded Paxos knowledge. @throws WireValueOutOfRangeError */
export function paxosFromWire(wire: PaxosWire): PaxosGossip {
  const nodeId = (w: { Name: number; UID: bigint }): NodeId => ({
    name: peer('NodeID.Name', w.Name),
    uid: w.UID,
  });
  const proposal = (w: { Round: number; Proposer: { Name: number; UID: bigint } }): ProposalId => ({
    round: w.Round,
    proposer: nodeId(w.Proposer),
  });
  return [...wire].map(([node, claims]) => ({
    node: nodeId(node),
    claims: {
      promise: proposal(claims.Promise),
      accepted: proposal(claims.Accepted),
      acceptedVal: {
        value: claims.AcceptedVal.Value.map((v) => peer('AcceptedValue.Value', v)),
        origin: proposal(claims.AcceptedVal.Origin),
      },
    },
  }));
}
