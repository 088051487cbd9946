import { type GossipData, type PeerName, peerNameFromNumber, peerNameToNumber } from '@weave-ts/core';
import { decodeGob, encodeGob, gobNilMap, type Infer, isGobNilMap, t } from '@weave-ts/core/protocol';
import type { Range } from './address.js';
import type { PaxosGossip } from './paxos.js';
import type { RingState } from './ring-entries.js';
import {
  MAX_IPAM_PEERS,
  paxosFromWire,
  paxosToWire,
  rangeFromWire,
  rangeToWire,
  rangeWireType,
  ringFromWire,
  ringToWire,
  ringWireType,
  paxosWireType,
  type PaxosWire,
} from './ring-wire.js';
import { WireValueOutOfRangeError } from './errors.js';

/**
 * What the allocator sends on gossip channel `IPallocation` (upstream `ipam/allocator.go`):
 *
 * ```
 * broadcast / gossip:  gob(gossipState{Now, Nicknames, Paxos, Ring})
 * unicast:             kind byte ‖ gob(…)   0 space request: Range   1 ring update: gossipState
 *                                            2 space request denied: Range
 * ```
 *
 * Paxos is sent only while the ring is empty; an observer sends it nil, which asks electors to form
 * a ring on its behalf. Every payload comes from a fresh gob encoder, as Go's does.
 */

/** The gossip channel name. */
export const IPAM_CHANNEL = 'IPallocation';

/** Kinds of IPAM unicast message (first byte). */
export const IpamMessageKind = {
  /** A peer asks for address space (body: the range it wants, or empty). */
  SpaceRequest: 0,
  /** The sender's ring and Paxos state. */
  RingUpdate: 1,
  /** The asked peer has no space to give (body: the range asked for). */
  SpaceRequestDenied: 2,
} as const;

/** Go `ipam.gossipState`. */
export const gossipStateType = t.struct(
  'gossipState',
  {
    /** Sender's clock in Unix seconds. */
    Now: t.int64,
    /** Nicknames of the peers in the ring, by peer name as a number. */
    Nicknames: t.map(t.uint, t.string, { goString: 'map[mesh.PeerName]string', maxLen: MAX_IPAM_PEERS }),
    /** Paxos state while the ring is not yet agreed (nil afterwards). */
    Paxos: paxosWireType,
    /** The sender's ring (nil before one exists). */
    Ring: t.ptr(ringWireType),
  },
  { pkg: 'ipam' },
);

/** The wire form of {@link gossipStateType}. */
export type GossipStateWire = Infer<typeof gossipStateType>;

/** A decoded IPAM gossip message. */
export interface IpamGossipState {
  /** Sender's clock in Unix seconds (sent for compatibility; unused). */
  readonly now: bigint;
  /** Nicknames of the peers in the ring. */
  readonly nicknames: ReadonlyMap<PeerName, string>;
  /** Paxos knowledge; `undefined` when the sender sent nil (an observer, or a peer with a ring). */
  readonly paxos: PaxosGossip | undefined;
  /** The sender's ring; `undefined` when it has none yet. */
  readonly ring: RingState | undefined;
}

/** Encodes a gossip state as Go does (a nil Paxos map is omitted from the message). */
export function encodeGossipState(state: IpamGossipState): Uint8Array {
  const nicknames = new Map<number, string>();
  for (const [name, nick] of state.nicknames) nicknames.set(peerNameToNumber(name), nick);
  return encodeGob(gossipStateType, {
    Now: state.now,
    Nicknames: nicknames,
    Paxos: state.paxos === undefined ? (gobNilMap() as PaxosWire) : paxosToWire(state.paxos),
    Ring: state.ring === undefined ? undefined : ringToWire(state.ring),
  });
}

/** Decodes a gossip state. @throws GobError | WireValueOutOfRangeError */
export function decodeGossipState(bytes: Uint8Array): IpamGossipState {
  const wire = decodeGob(gossipStateType, bytes);
  const nicknames = new Map<PeerName, string>();
  for (const [name, nick] of wire.Nicknames) nicknames.set(peerName('Nicknames', name), nick);
  return {
    now: wire.Now,
    nicknames,
    paxos: isGobNilMap(wire.Paxos) ? undefined : paxosFromWire(wire.Paxos),
    ring: wire.Ring === undefined ? undefined : ringFromWire(wire.Ring),
  };
}

function peerName(field: string, value: number): PeerName {
  try {
    return peerNameFromNumber(value);
  } catch {
    throw new WireValueOutOfRangeError(field, value);
  }
}

/** `kind ‖ gob(Range)`: a space request or its denial. */
export function encodeRangeMessage(kind: number, range: Range): Uint8Array {
  return withKind(kind, encodeGob(rangeWireType, rangeToWire(range)));
}

/** The range of a space request or denial (the body after the kind byte). */
export function decodeRangeMessage(body: Uint8Array): Range {
  return rangeFromWire(decodeGob(rangeWireType, body));
}

/** `kind ‖ payload`. */
export function withKind(kind: number, payload: Uint8Array): Uint8Array {
  const msg = new Uint8Array(payload.length + 1);
  msg[0] = kind;
  msg.set(payload, 1);
  return msg;
}

/**
 * The allocator's gossip data: always the latest state, encoded when it is sent, so merging two of
 * them is a no-op (upstream's `ipamGossipData`).
 */
export class IpamGossipData implements GossipData {
  constructor(private readonly current: () => Uint8Array) {}

  encode(): Uint8Array[] {
    return [this.current()];
  }

  merge(_other: GossipData): GossipData {
    return this;
  }
}
