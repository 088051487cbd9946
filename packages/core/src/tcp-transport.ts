import { type Server, type Socket, connect, createServer } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock } from './clock.js';
import type {
  Endpoint,
  StreamConnection,
  StreamConnectionEvents,
  StreamListener,
  StreamTransport,
} from './transport.js';

/** Options of {@link TcpTransport}. */
export interface TcpTransportOptions {
  /** A dial that has not connected after this many ms fails with `connect ETIMEDOUT` (default 10 000). */
  connectTimeoutMs?: number;
  /** Times the connect timeout (default: the system clock). */
  clock?: Clock;
  /**
   * Source address for dials. Routers sharing one machine on several loopback addresses set it, so a
   * peer sees each router's own address (discovery dials inbound peers back on that IP).
   */
  localAddress?: string;
}

/**
 * {@link StreamTransport} over node:net: TCP with Nagle off (as Go's default), one {@link TcpConnection}
 * per socket. Accepted and dialled sockets behave the same.
 */
export class TcpTransport implements StreamTransport {
  readonly #connectTimeout: number;
  readonly #clock: Clock;
  readonly #localAddress: string | undefined;

  constructor(options: TcpTransportOptions = {}) {
    this.#connectTimeout = options.connectTimeoutMs ?? 10_000;
    this.#clock = options.clock ?? systemClock;
    this.#localAddress = options.localAddress;
  }

  /** Listens on `local` (port 0 picks a free port; `listener.local` reports the bound one). */
  listen(local: Endpoint, onAccept: (conn: StreamConnection) => void): Promise<StreamListener> {
    return new Promise((resolve, reject) => {
      const server: Server = createServer({ noDelay: true }, (socket) => {
        // A socket reset before we saw it has no addresses; there is nothing to hand over.
        if (socket.remoteAddress === undefined) {
          socket.destroy();
          return;
        }
        onAccept(new TcpConnection(socket));
      });
      server.once('error', reject);
      server.listen({ host: local.host === '' ? undefined : local.host, port: local.port }, () => {
        server.off('error', reject);
        // Later server errors (e.g. EMFILE on accept) must not crash the process; accepting goes on.
        server.on('error', () => {});
        const address = server.address();
        const bound =
          address !== null && typeof address === 'object'
            ? { host: unmapIPv4(address.address), port: address.port }
            : { host: local.host, port: local.port };
        resolve({
          local: bound,
          // Stops accepting at once; Node's close callback would wait for every open connection.
          close: async () => {
            server.close();
          },
        });
      });
    });
  }

  /** Connects to `remote`; rejects with Node's error (`connect ECONNREFUSED …`) or a timeout. */
  dial(remote: Endpoint): Promise<StreamConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: remote.host,
        port: remote.port,
        noDelay: true,
        ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
      });
      const clock = this.#clock;
      const timer = clock.setTimeout(() => {
        socket.destroy();
        reject(timeoutError(remote));
      }, this.#connectTimeout);
      const fail = (error: Error) => {
        clock.clearTimeout(timer);
        reject(error);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clock.clearTimeout(timer);
        socket.off('error', fail);
        resolve(new TcpConnection(socket));
      });
    });
  }
}

/**
 * A connected TCP socket as a {@link StreamConnection}. `data` chunks are plain Uint8Array views (not
 * Buffers) owned by the listener; `close` fires once, with the socket error, the error given to
 * `close(error)`, or nothing for a clean end. `close(error)` aborts with a TCP reset (SetLinger(0)),
 * `close()` flushes queued writes and ends the stream.
 */
export class TcpConnection extends EventEmitter<StreamConnectionEvents> implements StreamConnection {
  /** Our end of the socket. */
  readonly local: Endpoint;
  /** The peer's end of the socket. */
  readonly remote: Endpoint;
  readonly #socket: Socket;
  #closing = false;
  #closed = false;
  #error: Error | undefined;

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.setNoDelay(true);
    this.local = { host: unmapIPv4(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
    this.remote = { host: unmapIPv4(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    socket.on('data', (buf: Buffer) => {
      if (!this.#closing) this.emit('data', new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    });
    socket.on('error', (error) => {
      this.#error ??= error;
    });
    socket.on('close', () => this.#finish());
  }

  write(chunk: Uint8Array): void {
    if (this.#closing || this.#socket.destroyed || !this.#socket.writable) return;
    this.#socket.write(chunk);
  }

  close(error?: Error): void {
    if (this.#closing) return;
    this.#closing = true;
    if (error) {
      this.#error = error;
      this.#socket.resetAndDestroy();
    } else {
      this.#socket.end(() => this.#socket.destroy());
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    this.emit('close', this.#error);
  }
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`. */
function unmapIPv4(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

function timeoutError(remote: Endpoint): Error {
  return Object.assign(new Error(`connect ETIMEDOUT ${remote.host}:${remote.port}`), {
    code: 'ETIMEDOUT',
    errno: -110,
    syscall: 'connect',
    address: remote.host,
    port: remote.port,
  });
}
