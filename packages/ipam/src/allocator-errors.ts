import { type PeerName, WeaveError } from '@weave-ts/core';

/**
 * Errors the allocator reports to its callers and to the router. Messages are upstream's
 * (`ipam/allocator.go`, `allocate.go`, `claim.go`) where upstream has one, so HTTP replies, logs and
 * `weave status connections` read as a stock Weave Net router's.
 */

/** A pending allocate/claim/prime was cancelled (by the caller, container death or shutdown). */
export class OperationCancelledError extends WeaveError {
  /** The error's stable name: `'OperationCancelledError'`. */
  override name = 'OperationCancelledError';
  constructor(
    /** Which operation was cancelled. */
    readonly kind: 'Allocate' | 'Claim' | 'Prime',
    /** The container id (or other identifier) it was for. */
    readonly ident: string,
  ) {
    super(`${kind} request for ${ident} cancelled`);
  }
}

/** The requested subnet does not overlap the allocation range. */
export class SubnetOutOfRangeError extends WeaveError {
  /** The error's stable name: `'SubnetOutOfRangeError'`. */
  override name = 'SubnetOutOfRangeError';
  constructor(subnet: string, universe: string) {
    super(`range ${subnet} out of bounds: ${universe}`);
  }
}

/** A claimed address belongs to another peer, which refused it or could not be reached. */
export class AddressOwnedByOtherPeerError extends WeaveError {
  /** The error's stable name: `'AddressOwnedByOtherPeerError'`. */
  override name = 'AddressOwnedByOtherPeerError';
  constructor(cidr: string, owner: PeerName, nickname: string | undefined) {
    super(`address ${cidr} is owned by other peer ${owner}${nickname === undefined ? '' : ` (${nickname})`}`);
  }
}

/** A claimed address is already held by another container on this peer. */
export class AddressAlreadyOwnedError extends WeaveError {
  /** The error's stable name: `'AddressAlreadyOwnedError'`. */
  override name = 'AddressAlreadyOwnedError';
  constructor(cidr: string, ident: string) {
    super(`address ${cidr} is already owned by ${ident}`);
  }
}

/** `free` of an address the container does not hold. */
export class AddressNotFoundError extends WeaveError {
  /** The error's stable name: `'AddressNotFoundError'`. */
  override name = 'AddressNotFoundError';
  constructor(addr: string, ident: string) {
    super(`Free: address ${addr} not found for ${ident}`);
  }
}

/** `freeAll` of a container that holds nothing. */
export class NoAddressesError extends WeaveError {
  /** The error's stable name: `'NoAddressesError'`. */
  override name = 'NoAddressesError';
  constructor(ident: string) {
    super(`Delete: no addresses for ${ident}`);
  }
}

/** `--ipalloc-default-subnet` outside `--ipalloc-range`. */
export class DefaultSubnetOutOfRangeError extends WeaveError {
  /** The error's stable name: `'DefaultSubnetOutOfRangeError'`. */
  override name = 'DefaultSubnetOutOfRangeError';
  constructor(subnet: string, universe: string) {
    super(
      `IP address allocation default subnet ${subnet} does not overlap with allocation range ${universe}`,
    );
  }
}

/** A gossiped ring covers another allocation range: the connection it came on is dropped. */
export class IncompatibleRangesError extends WeaveError {
  /** The error's stable name: `'IncompatibleRangesError'`. */
  override name = 'IncompatibleRangesError';
  constructor(received: string, ours: string) {
    super(`Incompatible IP allocation ranges (received: ${received}, ours: ${ours})`);
  }
}

/** A gossiped ring was formed by other peers than ours (two clusters met): the connection is dropped. */
export class SeededByDifferentPeersError extends WeaveError {
  /** The error's stable name: `'SeededByDifferentPeersError'`. */
  override name = 'SeededByDifferentPeersError';
  constructor(received: readonly string[], ours: readonly string[]) {
    // Go prints a []string with %v: `[a b c]`.
    super(
      `IP allocation was seeded by different peers (received: [${received.join(' ')}], ours: [${ours.join(' ')}])`,
    );
  }
}

/** Persisted IPAM data that cannot be understood (upstream stops with a fatal error). */
export class PersistedDataError extends WeaveError {
  /** The error's stable name: `'PersistedDataError'`. */
  override name = 'PersistedDataError';
  constructor(record: string, reason: string) {
    super(`Error loading persisted IPAM data (${record}): ${reason}`);
  }
}

/** Writing to the store failed; the operation that needed it was not acknowledged. */
export class PersistenceFailedError extends WeaveError {
  /** The error's stable name: `'PersistenceFailedError'`. */
  override name = 'PersistenceFailedError';
  constructor(
    /** The underlying cause. */
    readonly reason: Error,
  ) {
    super(`Error persisting IPAM data: ${reason.message}`);
  }
}

/** An allocator method called after `stop()`, or before `start()`. */
export class AllocatorNotRunningError extends WeaveError {
  /** The error's stable name: `'AllocatorNotRunningError'`. */
  override name = 'AllocatorNotRunningError';
  constructor() {
    super('IP allocator is not running');
  }
}

/** An `--ipalloc-init` value that is not `consensus[=N]`, `seed=<names>` or `observer`. */
export class InvalidInitModeError extends WeaveError {
  /** The error's stable name: `'InvalidInitModeError'`. */
  override name = 'InvalidInitModeError';
  constructor(text: string) {
    super(`invalid IPAM init mode: ${text}`);
  }
}

/**
 * `rmpeer` refused: this peer does not see a majority of the ring's owners, so it may be on the minority
 * side of a partition, where taking the ranges over could hand out addresses twice (upstream PR #3078).
 */
export class TakeoverWithoutMajorityError extends WeaveError {
  /** The error's stable name: `'TakeoverWithoutMajorityError'`. */
  override name = 'TakeoverWithoutMajorityError';
  constructor(peer: string, reachable: number, owners: number) {
    super(
      `cannot take over the IP ranges of ${peer}: only ${reachable} of the ${owners} peers owning ranges are reachable, a majority is needed (force it only if the peers not reachable are gone for good)`,
    );
  }
}
