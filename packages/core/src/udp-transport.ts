import { type Socket, createSocket } from 'node:dgram';
import type { DatagramSocket, DatagramTransport, Endpoint } from './transport.js';

/** Socket buffer size weave uses for its UDP sockets (4 MiB, receive and send). */
export const UDP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Options of {@link UdpTransport}. */
export interface UdpTransportOptions {
  /** SO_RCVBUF (default 4 MiB; the kernel may cap it at net.core.rmem_max). */
  recvBufferSize?: number;
  /** SO_SNDBUF (default 4 MiB; the kernel may cap it at net.core.wmem_max). */
  sendBufferSize?: number;
}

/** {@link DatagramTransport} over node:dgram (`udp4`, or `udp6` for an IPv6 bind address). */
export class UdpTransport implements DatagramTransport {
  readonly #recv: number;
  readonly #send: number;

  constructor(options: UdpTransportOptions = {}) {
    this.#recv = options.recvBufferSize ?? UDP_SOCKET_BUFFER_BYTES;
    this.#send = options.sendBufferSize ?? UDP_SOCKET_BUFFER_BYTES;
  }

  /** Binds `local` (port 0 picks a free port; `socket.local` reports the bound one). */
  bind(local: Endpoint): Promise<DatagramSocket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: local.host.includes(':') ? 'udp6' : 'udp4' });
      socket.once('error', reject);
      socket.bind({ address: local.host === '' ? undefined : local.host, port: local.port }, () => {
        socket.off('error', reject);
        // Buffer sizing is best effort, as in weave: a refused size leaves the kernel default.
        try {
          socket.setRecvBufferSize(this.#recv);
          socket.setSendBufferSize(this.#send);
        } catch {
          // keep the default sizes
        }
        const address = socket.address();
        resolve(new UdpSocket(socket, { host: address.address, port: address.port }));
      });
    });
  }
}

type Batch = { data: Uint8Array; from: Endpoint }[];

/** Ignores a send error: UDP is best effort and the overlay's heartbeats notice a dead path. */
function ignoreSendError(): void {}

/**
 * A bound UDP socket. Datagrams that arrive in one event-loop turn reach the receiver as one batch
 * (collected per `message` event, handed over from `setImmediate`); the receiver owns the batch and
 * its buffers (plain Uint8Array views). Datagrams arriving before a receiver is installed are dropped.
 */
class UdpSocket implements DatagramSocket {
  readonly local: Endpoint;
  readonly #socket: Socket;
  #handler: ((batch: Batch) => void) | undefined;
  #pending: Batch = [];
  #flushScheduled = false;
  #closed = false;

  constructor(socket: Socket, local: Endpoint) {
    this.#socket = socket;
    this.local = local;
    socket.on('error', () => {
      // Receive errors (e.g. ICMP port unreachable surfaced as ECONNREFUSED) are not fatal for UDP.
    });
    socket.on('message', (msg, rinfo) => {
      if (this.#closed || !this.#handler) return;
      this.#pending.push({
        data: new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength),
        from: { host: rinfo.address, port: rinfo.port },
      });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  send(datagrams: readonly (readonly Uint8Array[])[], to: Endpoint): void {
    if (this.#closed) return;
    for (const parts of datagrams) this.#socket.send(parts, to.port, to.host, ignoreSendError);
  }

  onReceive(handler: (batch: readonly { data: Uint8Array; from: Endpoint }[]) => void): void {
    this.#handler = handler;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#pending = [];
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (!this.#closed && batch.length > 0) this.#handler?.(batch);
  }
}
