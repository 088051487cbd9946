import { WeaveError } from '@weave-ts/core';

/** A string that is not a dotted-quad IPv4 address. */
export class InvalidIPv4Error extends WeaveError {
  /** The error's stable name: `'InvalidIPv4Error'`. */
  override name = 'InvalidIPv4Error';
  constructor(
    /** The text that was rejected. */
    readonly input: string,
  ) {
    super(`invalid IP Address: ${input}`);
  }
}

/**
 * Name gossip whose timestamp is too far from our clock. The router closes the connection with this
 * message, as upstream does (`host clock skew of 33166s exceeds 900s limit`, issues #3053, #1156).
 */
export class ClockSkewError extends WeaveError {
  /** The error's stable name: `'ClockSkewError'`. */
  override name = 'ClockSkewError';
  constructor(
    /** Their timestamp minus ours, in seconds. */
    readonly skewSeconds: number,
    /** The largest skew accepted, in seconds. */
    readonly limitSeconds: number,
  ) {
    super(`host clock skew of ${skewSeconds}s exceeds ${limitSeconds}s limit`);
  }
}

/** A `nameserver` gossip payload that is not a valid gob `GossipData` or breaks an invariant. */
export class InvalidNameGossipError extends WeaveError {
  /** The error's stable name: `'InvalidNameGossipError'`. */
  override name = 'InvalidNameGossipError';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid nameserver gossip: ${reason}`, options);
  }
}
