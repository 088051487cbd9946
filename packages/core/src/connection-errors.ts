import { WeaveError } from './errors.js';

/**
 * Why the connection layer refuses or drops a control connection. Texts are upstream's, so status lines
 * and logs match a stock router's.
 */

/** Two different peers (different UIDs) carry the same name: never retried. */
export class PeerNameCollisionError extends WeaveError {
  /** The error's stable name: `'PeerNameCollisionError'`. */
  override name = 'PeerNameCollisionError';
  /** Retrying cannot help: the connection maker stops dialling this target. */
  readonly permanent = true;
  constructor(local: string, remote: string) {
    super(`local "${local}" and remote "${remote}" peer names collision`);
  }
}

/** We dialled ourselves: never retried. */
export class ConnectToSelfError extends WeaveError {
  /** The error's stable name: `'ConnectToSelfError'`. */
  override name = 'ConnectToSelfError';
  /** Retrying cannot help: the connection maker stops dialling this target. */
  readonly permanent = true;
  constructor() {
    super('cannot connect to ourself');
  }
}

/** A second connection to the same peer lost (or tied) the tie-break. */
export class MultipleConnectionsError extends WeaveError {
  /** The error's stable name: `'MultipleConnectionsError'`. */
  override name = 'MultipleConnectionsError';
  constructor(remote: string, local: string) {
    super(`Multiple connections to ${remote} added to ${local}`);
  }
}

/** `--conn-limit` reached. */
export class ConnectionLimitError extends WeaveError {
  /** The error's stable name: `'ConnectionLimitError'`. */
  override name = 'ConnectionLimitError';
  constructor(limit: number) {
    super(`Connection limit reached (${limit})`);
  }
}

/** A discovered target turned out to be a peer the topology does not know. */
export class UnknownRemoteNameError extends WeaveError {
  /** The error's stable name: `'UnknownRemoteNameError'`. */
  override name = 'UnknownRemoteNameError';
  constructor(name: string, address: string) {
    super(`Found unknown remote name: ${name} at ${address}`);
  }
}

/** The overlay gave up on every forwarder (or the router is stopping). */
export class ConnectionShutdownError extends WeaveError {
  /** The error's stable name: `'ConnectionShutdownError'`. */
  override name = 'ConnectionShutdownError';
}

/**
 * A socket error in Go's words (`dial tcp4 10.0.0.2:6783: connect: connection refused`,
 * `read tcp 10.0.0.1:6783->10.0.0.3:42851: read: connection reset by peer`), as upstream's status and
 * logs show them. The Node error is the `cause`; `code` is its errno name (`ECONNREFUSED`).
 */
export class NetworkError extends WeaveError {
  /** The error's stable name: `'NetworkError'`. */
  override name = 'NetworkError';
  /** Node's errno name, e.g. `ECONNRESET`. */
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Go's `syscall.Errno` texts for the errors sockets meet. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ECONNABORTED: 'software caused connection abort',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ENETDOWN: 'network is down',
  EHOSTDOWN: 'host is down',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'broken pipe',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
  ENOBUFS: 'no buffer space available',
  EINVAL: 'invalid argument',
};

/** A socket address as the error texts print it. */
export interface SocketAddress {
  /** IP address. */
  readonly host: string;
  /** Port. */
  readonly port: number;
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `dial tcp4 <remote>: connect: <errno text>` for a failed dial; other errors pass unchanged. */
export function toGoDialError(error: unknown, remote: SocketAddress): Error {
  const err = error instanceof Error ? error : new Error(String(error));
  if (err instanceof WeaveError) return err;
  const code = errnoOf(err);
  const target = `${remote.host}:${remote.port}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new NetworkError(`dial tcp4: lookup ${remote.host}: no such host`, code, { cause: err });
  }
  const text = code ? ERRNO_TEXT[code] : undefined;
  if (!text) return err;
  return new NetworkError(`dial tcp4 ${target}: connect: ${text}`, code, { cause: err });
}

/**
 * `read tcp <local>-><remote>: read: <errno text>` (or `write …` when the failing call was a write)
 * for a socket error of an open connection; other errors pass unchanged.
 */
export function toGoNetError(
  error: Error,
  op: 'read' | 'write',
  local: SocketAddress,
  remote: SocketAddress,
): Error {
  if (error instanceof WeaveError) return error;
  const code = errnoOf(error);
  const text = code ? ERRNO_TEXT[code] : undefined;
  if (!text) return error;
  const syscall = (error as { syscall?: unknown }).syscall;
  const actual = syscall === 'write' || code === 'EPIPE' ? 'write' : op;
  return new NetworkError(
    `${actual} tcp ${local.host}:${local.port}->${remote.host}:${remote.port}: ${actual}: ${text}`,
    code,
    { cause: error },
  );
}
