import { WeaveError } from '@weave-ts/core';

/** Base class of every error `@weave-ts/peer` raises on purpose (stable `name`, original in `cause`). */
export class PeerError extends WeaveError {
  /** The error's stable name: `'PeerError'`. */
  override name = 'PeerError';
}

/**
 * An option given to `createPeer` (or an argument of a peer method) is invalid. Each condition has its
 * own subclass; `option` names the option (`'port'`, `'ipam.range'`, …) and `value` is what was given.
 */
export class InvalidPeerOptionError extends PeerError {
  /** The error's stable name: `'InvalidPeerOptionError'`. */
  override name = 'InvalidPeerOptionError';
  /** Which option, as a dotted path (`'dns.domain'`). */
  readonly option: string;
  /** The value that was rejected. */
  readonly value: unknown;
  constructor(option: string, value: unknown, message: string, options?: { cause?: unknown }) {
    super(`invalid option ${option}: ${message}`, options);
    this.option = option;
    this.value = value;
  }
}

/** `name` is not a peer name (MAC form `8a:3e:…` or the short `::1` form). */
export class InvalidPeerNameOptionError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidPeerNameOptionError'`. */
  override name = 'InvalidPeerNameOptionError';
}

/** `nickname` is not a non-empty string. */
export class InvalidNicknameError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidNicknameError'`. */
  override name = 'InvalidNicknameError';
}

/** `port` (or the port of `dns.listen`) is not an integer in 0..65535. */
export class InvalidPortError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidPortError'`. */
  override name = 'InvalidPortError';
}

/** `host` (or the host of `dns.listen`) is not an IPv4 address. */
export class InvalidHostError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidHostError'`. */
  override name = 'InvalidHostError';
}

/** An entry of `peers` (or of `connect()`) is not `host` or `host:port`. */
export class InvalidPeerAddressError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidPeerAddressError'`. */
  override name = 'InvalidPeerAddressError';
}

/** `password` is empty or not a string / Uint8Array. */
export class InvalidPasswordError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidPasswordError'`. */
  override name = 'InvalidPasswordError';
}

/** An entry of `trustedSubnets` is not an IPv4 CIDR. */
export class InvalidTrustedSubnetError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidTrustedSubnetError'`. */
  override name = 'InvalidTrustedSubnetError';
}

/** `connLimit` is not a non-negative integer. */
export class InvalidConnLimitError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidConnLimitError'`. */
  override name = 'InvalidConnLimitError';
}

/** A boolean option (`discovery`) is not a boolean. */
export class InvalidBooleanOptionError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidBooleanOptionError'`. */
  override name = 'InvalidBooleanOptionError';
}

/** `ipam.range` is not a CIDR with zero host bits. */
export class InvalidRangeError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidRangeError'`. */
  override name = 'InvalidRangeError';
}

/** `ipam.defaultSubnet` is not a subnet inside `ipam.range`. */
export class InvalidDefaultSubnetError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidDefaultSubnetError'`. */
  override name = 'InvalidDefaultSubnetError';
}

/** `ipam.init` is not `consensus`, `consensus=N`, `seed=NAME,…` or `observer`. */
export class InvalidIpamInitError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidIpamInitError'`. */
  override name = 'InvalidIpamInitError';
}

/** `ipam.init` is `seed=…` with an entry that is not a peer name. */
export class InvalidSeedError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidSeedError'`. */
  override name = 'InvalidSeedError';
}

/** `dns.domain` is not a DNS domain (labels of letters, digits and `-`). */
export class InvalidDomainError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidDomainError'`. */
  override name = 'InvalidDomainError';
}

/** `dns.listen` is not `host:port`. */
export class InvalidDnsListenError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidDnsListenError'`. */
  override name = 'InvalidDnsListenError';
}

/** `dns.upstream` is not a list of IPv4 addresses (optionally `:port`) or `'resolv.conf'`. */
export class InvalidUpstreamError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidUpstreamError'`. */
  override name = 'InvalidUpstreamError';
}

/** `ipam.reclaimAfterMs` is not a positive integer number of milliseconds. */
export class InvalidReclaimAfterError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidReclaimAfterError'`. */
  override name = 'InvalidReclaimAfterError';
}

/** `dns.recursionFrom` is not a list of IPv4 CIDRs. */
export class InvalidRecursionFromError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidRecursionFromError'`. */
  override name = 'InvalidRecursionFromError';
}

/** `dns.ttl` is not an integer in 0..2^31-1. */
export class InvalidTtlError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidTtlError'`. */
  override name = 'InvalidTtlError';
}

/** `datapath` is not one of the known kinds nor a backend object. */
export class InvalidDatapathError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidDatapathError'`. */
  override name = 'InvalidDatapathError';
}

/** `bridge.name` is not a Linux interface name, or `bridge.mtu` is out of range. */
export class InvalidBridgeOptionError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidBridgeOptionError'`. */
  override name = 'InvalidBridgeOptionError';
}

/** `dataDir` is not a non-empty path. */
export class InvalidDataDirError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidDataDirError'`. */
  override name = 'InvalidDataDirError';
}

/** A container id (allocate, claim, release, dns.add) is empty or not a string. */
export class InvalidContainerIdError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidContainerIdError'`. */
  override name = 'InvalidContainerIdError';
}

/** An address given to `claim`/`release`/`dns.add` is not an IPv4 address (or CIDR where one is needed). */
export class InvalidAddressError extends InvalidPeerOptionError {
  /** The error's stable name: `'InvalidAddressError'`. */
  override name = 'InvalidAddressError';
}

/** `dns.add` with a name outside the peer's DNS domain (upstream silently ignores it). */
export class DnsNameOutsideDomainError extends InvalidPeerOptionError {
  /** The error's stable name: `'DnsNameOutsideDomainError'`. */
  override name = 'DnsNameOutsideDomainError';
  constructor(hostname: string, domain: string) {
    super('hostname', hostname, `${hostname} is not in the DNS domain ${domain}`);
  }
}

/** A method was called on a peer after `stop()` (or before `start()` where it needs a running peer). */
export class PeerStoppedError extends PeerError {
  /** The error's stable name: `'PeerStoppedError'`. */
  override name = 'PeerStoppedError';
  constructor(operation: string) {
    super(`peer is stopped: cannot ${operation}`);
  }
}

/** A feature that was disabled (`ipam: false`, `dns: false`) was used. */
export class FeatureDisabledError extends PeerError {
  /** The error's stable name: `'FeatureDisabledError'`. */
  override name = 'FeatureDisabledError';
  constructor(feature: 'ipam' | 'dns') {
    super(`${feature === 'ipam' ? 'IPAM' : 'weaveDNS'} is disabled on this peer`);
  }
}

/** `start()` could not listen: the address (`host:port`) is taken (`EADDRINUSE`). */
export class AddressInUseError extends PeerError {
  /** The error's stable name: `'AddressInUseError'`. */
  override name = 'AddressInUseError';
  /** The address that was taken. */
  readonly address: string;
  constructor(what: string, address: string, options?: { cause?: unknown }) {
    super(`${what}: listen tcp ${address}: bind: address already in use`, options);
    this.address = address;
  }
}

/** `start()` could not listen: the address is not local to this host (`EADDRNOTAVAIL`/`ENOTFOUND`). */
export class AddressNotAvailableError extends PeerError {
  /** The error's stable name: `'AddressNotAvailableError'`. */
  override name = 'AddressNotAvailableError';
  /** The address that could not be bound. */
  readonly address: string;
  constructor(what: string, address: string, options?: { cause?: unknown }) {
    super(`${what}: listen tcp ${address}: bind: cannot assign requested address`, options);
    this.address = address;
  }
}

/** `start()` could not listen or create a kernel object for lack of privilege (`EACCES`/`EPERM`). */
export class PermissionDeniedError extends PeerError {
  /** The error's stable name: `'PermissionDeniedError'`. */
  override name = 'PermissionDeniedError';
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what}: permission denied`, options);
  }
}

/** The requested datapath cannot run here (no root, no /dev/net/tun, no BPF…). */
export class DatapathUnavailableError extends PeerError {
  /** The error's stable name: `'DatapathUnavailableError'`. */
  override name = 'DatapathUnavailableError';
  constructor(kind: string, reason: string, options?: { cause?: unknown }) {
    super(`datapath ${kind} is not available: ${reason}`, options);
  }
}

/** `whenConverged()` ran out of time. */
export class ConvergenceTimeoutError extends PeerError {
  /** The error's stable name: `'ConvergenceTimeoutError'`. */
  override name = 'ConvergenceTimeoutError';
  constructor(timeoutMs: number, detail: string) {
    super(`not converged after ${timeoutMs} ms: ${detail}`);
  }
}

/** The persisted data in `dataDir` cannot be read or belongs to something else. */
export class PeerDataError extends PeerError {
  /** The error's stable name: `'PeerDataError'`. */
  override name = 'PeerDataError';
}

/** `createPeer` got an option it does not know (a typo, usually). */
export class UnknownPeerOptionError extends InvalidPeerOptionError {
  /** The error's stable name: `'UnknownPeerOptionError'`. */
  override name = 'UnknownPeerOptionError';
  constructor(option: string, value: unknown) {
    super(option, value, 'unknown option');
  }
}

/** A method that needs a running peer was called before `start()`. */
export class PeerNotStartedError extends PeerError {
  /** The error's stable name: `'PeerNotStartedError'`. */
  override name = 'PeerNotStartedError';
  constructor(operation: string) {
    super(`peer is not started: cannot ${operation}`);
  }
}

/** `start()` could not resolve a host name (`ENOTFOUND`). */
export class HostNotFoundError extends PeerError {
  /** The error's stable name: `'HostNotFoundError'`. */
  override name = 'HostNotFoundError';
  constructor(what: string, host: string, options?: { cause?: unknown }) {
    super(`${what}: lookup ${host}: no such host`, options);
  }
}
