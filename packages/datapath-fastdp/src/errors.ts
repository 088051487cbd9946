import { WeaveError } from '@weave-ts/core';

/** A short ID outside 0..4095. */
export class InvalidShortIdError extends WeaveError {
  /** The error's stable name: `'InvalidShortIdError'`. */
  override name = 'InvalidShortIdError';
  constructor(id: number) {
    super(`short ID must be an integer in 0..4095, got ${id}`);
  }
}

/**
 * Fastdp refuses an encrypted connection: upstream encrypts fastdp with IPsec ESP, which this
 * implementation does not set up (and which this kernel kind lacks); the overlay switch keeps the
 * connection on the (encrypted) sleeve and shows this reason.
 */
export class FastdpEncryptionUnsupportedError extends WeaveError {
  /** The error's stable name: `'FastdpEncryptionUnsupportedError'`. */
  override name = 'FastdpEncryptionUnsupportedError';
  constructor() {
    super('encryption needs IPsec ESP, not available: using sleeve');
  }
}

/** The remote sent no `ShortID` feature, so no tunnel id can name it. */
export class NoShortIdError extends WeaveError {
  /** The error's stable name: `'NoShortIdError'`. */
  override name = 'NoShortIdError';
  constructor(peer: string) {
    super(`peer ${peer} has no short ID`);
  }
}

/** The overlay was stopped. */
export class FastdpStoppedError extends WeaveError {
  /** The error's stable name: `'FastdpStoppedError'`. */
  override name = 'FastdpStoppedError';
  constructor() {
    super('fastdp overlay stopped');
  }
}

/** The kernel side could not be set up (the reason names the step that failed). */
export class FastdpUnavailableError extends WeaveError {
  /** The error's stable name: `'FastdpUnavailableError'`. */
  override name = 'FastdpUnavailableError';
  constructor(reason: string) {
    super(`fast datapath unavailable: ${reason}`);
  }
}

/** Fastdp heartbeats stopped arriving: the forwarder is unhealthy (not fatal; sleeve takes over). */
export class VxlanHeartbeatTimeoutError extends WeaveError {
  /** The error's stable name: `'VxlanHeartbeatTimeoutError'`. */
  override name = 'VxlanHeartbeatTimeoutError';
  constructor() {
    super('timed out waiting for vxlan heartbeat');
  }
}
