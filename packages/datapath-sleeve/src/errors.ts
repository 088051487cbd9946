import { WeaveError } from '@weave-ts/core';

/** No heartbeat arrived over UDP for 60 s (`HEARTBEAT_TIMEOUT_MS`): the sleeve forwarder is dead. */
export class HeartbeatTimeoutError extends WeaveError {
  /** The error's stable name: `'HeartbeatTimeoutError'`. */
  override name = 'HeartbeatTimeoutError';
  constructor() {
    super('timed out waiting for UDP heartbeat');
  }
}

/**
 * A received datagram could not be decoded (truncated frame, trailing bytes, failed decryption).
 * Never fatal: the datagram, or what is left of it, is dropped and the error logged.
 */
export class PacketDecodingError extends WeaveError {
  /** The error's stable name: `'PacketDecodingError'`. */
  override name = 'PacketDecodingError';
  constructor(
    /** What went wrong. */
    readonly description: string,
  ) {
    super(`Failed to decode packet: ${description}`);
  }
}

/** A connection was offered to a sleeve overlay that has been stopped. */
export class SleeveStoppedError extends WeaveError {
  /** The error's stable name: `'SleeveStoppedError'`. */
  override name = 'SleeveStoppedError';
  constructor() {
    super('sleeve overlay is stopped');
  }
}

/** A simulated socket was bound to an address another one holds. */
export class AddressInUseError extends WeaveError {
  /** The error's stable name: `'AddressInUseError'`. */
  override name = 'AddressInUseError';
  constructor(address: string) {
    super(`address already in use: ${address}`);
  }
}
