import { type PeerName, WeaveError } from '@weave-ts/core';
import { type Address, formatAddress, type Range } from './address.js';

/** A string that is not a dotted-quad IPv4 address (upstream: `invalid IP Address: …`). */
export class InvalidAddressError extends WeaveError {
  /** The error's stable name: `'InvalidAddressError'`. */
  override name = 'InvalidAddressError';
  constructor(
    /** The text that was rejected. */
    readonly input: string,
  ) {
    super(`invalid IP Address: ${input}`);
  }
}

/** A string that is not an IPv4 `address/prefix` (upstream: `invalid CIDR address: …`). */
export class InvalidCIDRError extends WeaveError {
  /** The error's stable name: `'InvalidCIDRError'`. */
  override name = 'InvalidCIDRError';
  constructor(
    /** The text that was rejected. */
    readonly input: string,
  ) {
    super(`invalid CIDR address: ${input}`);
  }
}

/** A subnet written with host bits set, e.g. `10.0.0.1/24`. */
export class SubnetHostBitsError extends WeaveError {
  /** The error's stable name: `'SubnetHostBitsError'`. */
  override name = 'SubnetHostBitsError';
  constructor(
    /** The text that was rejected. */
    readonly input: string,
  ) {
    super(`invalid subnet - bits after network prefix are not all zero: ${input}`);
  }
}

/** A subnet with fewer addresses than `MIN_SUBNET_SIZE` (a /31 or /32). */
export class SubnetTooSmallError extends WeaveError {
  /** The error's stable name: `'SubnetTooSmallError'`. */
  override name = 'SubnetTooSmallError';
  constructor(
    /** The subnet as given. */
    readonly input: string,
    /** The smallest usable prefix size. */
    readonly minSize: number,
  ) {
    super(`invalid subnet - smaller than minimum size ${minSize}: ${input}`);
  }
}

/** A ring whose entries break an invariant (sorted, unique, in range, free ≤ span). */
export class InvalidRingError extends WeaveError {
  /** The error's stable name: `'InvalidRingError'`. */
  override name = 'InvalidRingError';
}

/** Ring entries are not in ascending token order. */
export class RingNotSortedError extends InvalidRingError {
  /** The error's stable name: `'RingNotSortedError'`. */
  override name = 'RingNotSortedError';
  constructor() {
    super('Ring not sorted');
  }
}

/** The same token appears twice in a ring. */
export class TokenRepeatedError extends InvalidRingError {
  /** The error's stable name: `'TokenRepeatedError'`. */
  override name = 'TokenRepeatedError';
  constructor() {
    super('Token appears twice in ring');
  }
}

/** A token lies outside the ring's `[start, end)`. */
export class TokenOutOfRangeError extends InvalidRingError {
  /** The error's stable name: `'TokenOutOfRangeError'`. */
  override name = 'TokenOutOfRangeError';
  constructor() {
    super('Token is out of range');
  }
}

/** An entry reports more free addresses than the range it owns. */
export class TooMuchFreeSpaceError extends InvalidRingError {
  /** The error's stable name: `'TooMuchFreeSpaceError'`. */
  override name = 'TooMuchFreeSpaceError';
  constructor(token: Address, next: Address, free: number, distance: number) {
    super(
      `Entry ${formatAddress(token)}-${formatAddress(next)} reporting too much free space: ${free} > ${distance}`,
    );
  }
}

/**
 * A received ring was seeded by other peers than ours: two separately formed clusters met (split brain).
 * The allocator reports it as `IP allocation was seeded by different peers (received: …, ours: …)`.
 */
export class DifferentSeedsError extends WeaveError {
  /** The error's stable name: `'DifferentSeedsError'`. */
  override name = 'DifferentSeedsError';
  constructor(
    /** The seeds of the ring the peer sent. */
    readonly received: readonly PeerName[],
    /** The seeds of our ring. */
    readonly ours: readonly PeerName[],
  ) {
    super('Received ring was seeded differently from ours');
  }
}

/**
 * A received ring covers another `--ipalloc-range`. The allocator reports it as
 * `Incompatible IP allocation ranges (received: …, ours: …)` using {@link rangeAsCIDRString}.
 */
export class DifferentRangeError extends WeaveError {
  /** The error's stable name: `'DifferentRangeError'`. */
  override name = 'DifferentRangeError';
  constructor(
    /** The range of the ring the peer sent. */
    readonly received: Range,
    /** The range of our ring. */
    readonly ours: Range,
  ) {
    super('Received range differs from ours');
  }
}

/** A peer claims a token inside a range we own and hold allocations in. */
export class EntryInMyRangeError extends WeaveError {
  /** The error's stable name: `'EntryInMyRangeError'`. */
  override name = 'EntryInMyRangeError';
  constructor(peer: PeerName, token: Address) {
    super(`Peer ${peer} says it owns the IP range from ${formatAddress(token)}, which I think I own`);
  }
}

/** Same token and version, different owner, and we hold allocations there. */
export class InconsistentEntryError extends WeaveError {
  /** The error's stable name: `'InconsistentEntryError'`. */
  override name = 'InconsistentEntryError';
  constructor(token: Address, minePeer: PeerName, theirPeer: PeerName) {
    super(
      `Inconsistent entries for ${formatAddress(token)}: owned by ${minePeer} but incoming message says ${theirPeer}`,
    );
  }
}

/** Someone else published a newer version of an entry we own, giving it away while we use it. */
export class NewerVersionError extends WeaveError {
  /** The error's stable name: `'NewerVersionError'`. */
  override name = 'NewerVersionError';
  constructor(token: Address, mineVersion: number, theirPeer: PeerName, theirVersion: number) {
    super(
      `Received update for IP range I own at ${formatAddress(token)} v${mineVersion}: incoming message says owner ${theirPeer} v${theirVersion}`,
    );
  }
}

/** Merging produced a ring that breaks an invariant (e.g. their free counts exceed our spans). */
export class MergeResultInvalidError extends WeaveError {
  /** The error's stable name: `'MergeResultInvalidError'`. */
  override name = 'MergeResultInvalidError';
  constructor(
    /** The underlying cause. */
    readonly reason: InvalidRingError,
  ) {
    super(`Merge of incoming data causes: ${reason.message}`);
  }
}

/** A ring operation was called outside its contract (a caller bug upstream would panic on). */
export class RingPreconditionError extends WeaveError {
  /** The error's stable name: `'RingPreconditionError'`. */
  override name = 'RingPreconditionError';
}

/** `Space.claim` of an address that is not free in our space. */
export class AddressNotFreeError extends WeaveError {
  /** The error's stable name: `'AddressNotFreeError'`. */
  override name = 'AddressNotFreeError';
  constructor(
    /** The address concerned. */
    readonly address: Address,
  ) {
    super(`Address ${formatAddress(address)} is not free to claim`);
  }
}

/** `Space.free` of an address we never handed out. */
export class AddressNotOursError extends WeaveError {
  /** The error's stable name: `'AddressNotOursError'`. */
  override name = 'AddressNotOursError';
  constructor(
    /** The address concerned. */
    readonly address: Address,
  ) {
    super(`Address ${formatAddress(address)} is not ours`);
  }
}

/** `Space.free` of an address that is already free. */
export class AddressAlreadyFreeError extends WeaveError {
  /** The error's stable name: `'AddressAlreadyFreeError'`. */
  override name = 'AddressAlreadyFreeError';
  constructor(
    /** The address concerned. */
    readonly address: Address,
  ) {
    super(`Address ${formatAddress(address)} is already free`);
  }
}

/** `PaxosNode.propose` before a quorum was set. */
export class QuorumNotSetError extends WeaveError {
  /** The error's stable name: `'QuorumNotSetError'`. */
  override name = 'QuorumNotSetError';
  constructor() {
    super('Paxos propose called with no quorum set');
  }
}

/** A decoded IPAM value does not fit its Go type (e.g. an address above 2^32 − 1, a name above 48 bits). */
export class WireValueOutOfRangeError extends WeaveError {
  /** The error's stable name: `'WireValueOutOfRangeError'`. */
  override name = 'WireValueOutOfRangeError';
  constructor(
    /** The wire field that held the value. */
    readonly field: string,
    /** The value received. */
    readonly value: number | bigint,
  ) {
    super(`IPAM message: ${field} out of range: ${value}`);
  }
}
