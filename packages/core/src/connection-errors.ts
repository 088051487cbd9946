import { WeaveError } from './errors.js';

/**
 * Why the connection layer refuses or drops a control connection. Texts are upstream's, so status lines
 * and logs match a stock router's.
 */

/** Two different peers (different UIDs) carry the same name: never retried. */
export class PeerNameCollisionError extends WeaveError {
  override name = 'PeerNameCollisionError';
  readonly permanent = true;
  constructor(local: string, remote: string) {
    super(`local "${local}" and remote "${remote}" peer names collision`);
  }
}

/** We dialled ourselves: never retried. */
export class ConnectToSelfError extends WeaveError {
  override name = 'ConnectToSelfError';
  readonly permanent = true;
  constructor() {
    super('cannot connect to ourself');
  }
}

/** A second connection to the same peer lost (or tied) the tie-break. */
export class MultipleConnectionsError extends WeaveError {
  override name = 'MultipleConnectionsError';
  constructor(remote: string, local: string) {
    super(`Multiple connections to ${remote} added to ${local}`);
  }
}

/** `--conn-limit` reached. */
export class ConnectionLimitError extends WeaveError {
  override name = 'ConnectionLimitError';
  constructor(limit: number) {
    super(`Connection limit reached (${limit})`);
  }
}

/** A discovered target turned out to be a peer the topology does not know. */
export class UnknownRemoteNameError extends WeaveError {
  override name = 'UnknownRemoteNameError';
  constructor(name: string, address: string) {
    super(`Found unknown remote name: ${name} at ${address}`);
  }
}

/** The overlay gave up on every forwarder (or the router is stopping). */
export class ConnectionShutdownError extends WeaveError {
  override name = 'ConnectionShutdownError';
}
