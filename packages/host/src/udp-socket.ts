/*
 * A batched IPv4 UDP socket driven by the native addon (native/udp.c).
 *
 *   send(datagrams[], to, { df }) --> one sendmmsg per ≤64 datagrams, each gathered from its buffers
 *   kernel --(uv_poll wake-up)--> one recvmmsg of ≤ batchSize datagrams --> ONE onReceive(batch) call
 *
 * Unlike node:dgram it can set Don't Fragment per send and reports the path MTU when a DF datagram is
 * too big, which is what the sleeve's PMTU discovery needs (see design/weave-net.md §5.1).
 */
import { isIPv4 } from 'node:net';
import { WeaveError } from '@weave-ts/core';
import { errnoName, type HostAddon, hostAddon, isNativeErrnoError } from './native.js';
import type { FastPathHandle } from './fastpath.js';
import { netnsPath } from './names.js';

/** Most datagrams one `onReceive` call delivers (datagrams read per event-loop wake-up). */
export const UDP_BATCH_SIZE = 64;

/** Default SO_RCVBUF / SO_SNDBUF request: 4 MiB (as root past `rmem_max`/`wmem_max`). */
export const UDP_DEFAULT_BUFFER_SIZE = 4 * 1024 * 1024;

/** An IPv4 UDP address. */
export interface UdpEndpoint {
  /** IP address. */
  readonly host: string;
  /** UDP port. */
  readonly port: number;
}

/** How to bind a {@link NativeUdpSocket}. */
export interface NativeUdpSocketOptions {
  /** Local IPv4 address (`0.0.0.0` for all). */
  host: string;
  /** Local port; 0 lets the kernel pick one (see `local`). */
  port: number;
  /** Requested SO_RCVBUF in bytes; default UDP_DEFAULT_BUFFER_SIZE. */
  recvBufferSize?: number;
  /** Requested SO_SNDBUF in bytes; default UDP_DEFAULT_BUFFER_SIZE. */
  sendBufferSize?: number;
  /** Named network namespace (`ip netns`) to create the socket in; default this process's. */
  netns?: string;
  /** Datagrams per onReceive call, 1..1024; default UDP_BATCH_SIZE. */
  batchSize?: number;
}

/** Options of one {@link NativeUdpSocket.send} call. */
export interface UdpSendOptions {
  /** Set Don't Fragment: a datagram over the path MTU is refused instead of fragmented. */
  readonly df: boolean;
}

/** What one {@link NativeUdpSocket.send} call did. */
export interface UdpSendResult {
  /** Datagrams handed to the kernel. */
  sent: number;
  /** Set when DF datagrams were refused as too big; `pmtu` is the path MTU (IP packet bytes). */
  emsgsize?: {
    /** The path MTU the kernel reported. */
    pmtu: number;
  };
  /** The errno name of the last other failure (`EAGAIN`: the send buffer was full, the rest dropped). */
  error?: string;
}

/** One received datagram. */
export interface UdpDatagram {
  /** The payload: a view of a buffer that belongs to the handler. */
  data: Uint8Array;
  /** Where it came from. */
  from: UdpEndpoint;
}

/** Receives one batch: every datagram read in one wake-up, in arrival order. */
export type UdpBatchHandler = (batch: UdpDatagram[]) => void;

/** The local address is taken (no SO_REUSEADDR: one socket per address). */
export class UdpAddressInUseError extends WeaveError {
  /** The error's stable name: `'UdpAddressInUseError'`. */
  override name = 'UdpAddressInUseError';
  constructor(
    /** The address concerned. */
    readonly address: string,
  ) {
    super(`cannot bind UDP ${address}: address already in use`);
  }
}

/** An operation on a socket after `close()`. */
export class UdpSocketClosedError extends WeaveError {
  /** The error's stable name: `'UdpSocketClosedError'`. */
  override name = 'UdpSocketClosedError';
  constructor(
    /** The address concerned. */
    readonly address: string,
  ) {
    super(`UDP socket ${address} is closed`);
  }
}

/** A system call on a UDP socket failed; `code` is the errno name (`EADDRNOTAVAIL`, `EACCES`, …). */
export class UdpSocketError extends WeaveError {
  /** The error's stable name: `'UdpSocketError'`. */
  override name = 'UdpSocketError';
  constructor(
    /** The socket's local address. */
    readonly address: string,
    /** The system call that failed. */
    readonly syscall: string,
    /** The errno name. */
    readonly code: string,
  ) {
    super(`UDP ${address}: ${syscall} failed with ${code}`);
  }
}

/** The UDP functions of the addon (native/udp.c documents each). */
interface UdpAddon {
  udpOpen(
    netnsPath: string | null,
    host: string,
    port: number,
    rcvbuf: number,
    sndbuf: number,
  ): [UdpHandle, string, number, number, number];
  udpSend(
    handle: UdpHandle,
    datagrams: readonly (readonly Uint8Array[])[],
    host: string,
    port: number,
    df: boolean,
  ): [sent: number, pmtu: number, errno: number];
  udpRecvStart(
    handle: UdpHandle,
    maxDatagrams: number,
    cb: (errno: number, data: Buffer, meta: Buffer) => void,
  ): void;
  udpRef(handle: UdpHandle, ref: boolean): void;
  udpClose(handle: UdpHandle): void;
  udpSetFastpath(handle: UdpHandle, fastPath: FastPathHandle): void;
}

type UdpHandle = { readonly __brand: 'UdpHandle' };

function addon(): UdpAddon {
  return hostAddon() as HostAddon & UdpAddon;
}

/** Bytes of per-datagram metadata in a native batch: length, IPv4 source, source port, padding. */
const META_SIZE = 12;
/** Source endpoints cached per batch decoder, so a busy peer costs no string per datagram. */
const MAX_CACHED_SOURCES = 1024;

/**
 * A bound IPv4 UDP socket. Sends are synchronous (the kernel has the bytes when `send` returns, so
 * buffers may be reused at once); receiving starts with `onReceive`.
 *
 * After `close()`: no further onReceive or error callback runs (also not one already due in the same
 * loop turn), `send`/`onReceive` throw UdpSocketClosedError, `close()` is a no-op, and nothing of the
 * socket keeps the process alive.
 */
export class NativeUdpSocket {
  /** The bound address (the kernel's port when 0 was asked for). */
  readonly local: UdpEndpoint;
  /** SO_RCVBUF / SO_SNDBUF as the kernel reports them (twice the usable payload space). */
  readonly recvBufferSize: number;
  /** The SO_SNDBUF size the kernel granted, in bytes. */
  readonly sendBufferSize: number;
  readonly #handle: UdpHandle;
  readonly #batchSize: number;
  readonly #sources = new Map<number, UdpEndpoint>();
  #handler: UdpBatchHandler | undefined;
  #onError: ((err: UdpSocketError) => void) | undefined;
  #reading = false;
  #closed = false;
  #ref = true;

  private constructor(handle: UdpHandle, local: UdpEndpoint, rcv: number, snd: number, batchSize: number) {
    this.#handle = handle;
    this.local = local;
    this.recvBufferSize = rcv;
    this.sendBufferSize = snd;
    this.#batchSize = batchSize;
  }

  /**
   * Binds a socket at `host:port` (non-blocking, close-on-exec, IP_PMTUDISC_DONT unless a send asks
   * for DF). Throws UdpAddressInUseError when the address is taken, UdpSocketError for other bind
   * failures (`EADDRNOTAVAIL`: not an address of this host), RangeError for malformed options.
   */
  static bind(options: NativeUdpSocketOptions): NativeUdpSocket {
    const { host, port } = options;
    const address = `${host}:${port}`;
    if (!isIPv4(host)) throw new RangeError(`host must be an IPv4 address, got ${JSON.stringify(host)}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
    const batchSize = options.batchSize ?? UDP_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024)
      throw new RangeError(`batchSize must be an integer in 1..1024, got ${batchSize}`);
    const rcv = bufferSize(options.recvBufferSize, 'recvBufferSize');
    const snd = bufferSize(options.sendBufferSize, 'sendBufferSize');
    const ns = options.netns === undefined ? null : netnsPath(options.netns);
    try {
      const [handle, boundHost, boundPort, rcvActual, sndActual] = addon().udpOpen(ns, host, port, rcv, snd);
      return new NativeUdpSocket(
        handle,
        { host: boundHost, port: boundPort },
        rcvActual,
        sndActual,
        batchSize,
      );
    } catch (err) {
      if (!isNativeErrnoError(err)) throw err;
      const code = errnoName(err.errno);
      if (code === 'EADDRINUSE') throw new UdpAddressInUseError(address);
      throw new UdpSocketError(address, err.syscall, code);
    }
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends each buffer list as one datagram to `to`, in order, without copying in JS. With `df` a
   * datagram bigger than the path MTU is not sent (the rest still are) and the result carries
   * `emsgsize.pmtu`, the path MTU the kernel knows towards `to`. Any other failure drops that
   * datagram and is named in `error`; when the send buffer is full (`EAGAIN`) the rest of the batch
   * is dropped. Throws RangeError for a malformed destination.
   */
  send(
    datagrams: readonly (readonly Uint8Array[])[],
    to: UdpEndpoint,
    options: UdpSendOptions,
  ): UdpSendResult {
    if (this.#closed) throw new UdpSocketClosedError(endpointText(this.local));
    if (!Number.isInteger(to.port) || to.port < 1 || to.port > 65535)
      throw new RangeError(`destination port must be an integer in 1..65535, got ${to.port}`);
    if (!isIPv4(to.host)) throw new RangeError(`destination must be an IPv4 address, got ${to.host}`);
    const [sent, pmtu, errno] = addon().udpSend(this.#handle, datagrams, to.host, to.port, options.df);
    const result: UdpSendResult = { sent };
    if (pmtu > 0) result.emsgsize = { pmtu };
    // The path MTU could not be read (should not happen): report the refusal as a plain error.
    else if (pmtu < 0) result.error = errnoName(-pmtu);
    if (errno !== 0) result.error = errnoName(errno);
    return result;
  }

  /**
   * Delivers every datagram that arrives to `handler`, at most the batch size per call, one call per
   * event-loop wake-up. Calling it again replaces the handlers. A read failure that cannot heal (a
   * closed descriptor) stops reading and goes to `onError` (without one it is thrown as an uncaught
   * exception); passing ICMP-reported errors only go to `onError`.
   */
  onReceive(handler: UdpBatchHandler, onError?: (err: UdpSocketError) => void): void {
    if (this.#closed) throw new UdpSocketClosedError(endpointText(this.local));
    this.#handler = handler;
    this.#onError = onError;
    if (this.#reading) return;
    addon().udpRecvStart(this.#handle, this.#batchSize, (errno, data, meta) =>
      this.#deliver(errno, data, meta),
    );
    this.#reading = true;
    if (!this.#ref) addon().udpRef(this.#handle, false);
  }

  /** @internal Lets a SleeveFastPath send on this socket and see received datagrams first. */
  attachFastPath(handle: FastPathHandle): void {
    if (this.#closed) throw new UdpSocketClosedError(endpointText(this.local));
    addon().udpSetFastpath(this.#handle, handle);
  }

  /** Lets the process exit while the socket is open and idle (as `socket.unref()`), or not. */
  setRef(ref: boolean): void {
    this.#ref = ref;
    if (this.#reading && !this.#closed) addon().udpRef(this.#handle, ref);
  }

  /** Stops receiving and closes the socket. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler = undefined;
    this.#onError = undefined;
    addon().udpClose(this.#handle);
  }

  #deliver(errno: number, data: Buffer, meta: Buffer): void {
    const count = (meta.length / META_SIZE) | 0;
    if (count > 0 && this.#handler !== undefined) {
      const batch = new Array<UdpDatagram>(count);
      let offset = data.byteOffset;
      for (let i = 0; i < count; i++) {
        const m = i * META_SIZE;
        const len = meta.readUInt32LE(m);
        batch[i] = { data: new Uint8Array(data.buffer, offset, len), from: this.#source(meta, m + 4) };
        offset += len;
      }
      this.#handler(batch);
    }
    if (errno !== 0 && !this.#closed) {
      const err = new UdpSocketError(endpointText(this.local), 'recvmmsg', errnoName(errno));
      const onError = this.#onError;
      if (onError === undefined) throw err;
      onError(err);
    }
  }

  #source(meta: Buffer, at: number): UdpEndpoint {
    const key = meta.readUInt32BE(at) * 65536 + meta.readUInt16BE(at + 4);
    let from = this.#sources.get(key);
    if (from === undefined) {
      if (this.#sources.size >= MAX_CACHED_SOURCES) this.#sources.clear();
      from = Object.freeze({
        host: `${meta[at]}.${meta[at + 1]}.${meta[at + 2]}.${meta[at + 3]}`,
        port: meta.readUInt16BE(at + 4),
      });
      this.#sources.set(key, from);
    }
    return from;
  }
}

function bufferSize(value: number | undefined, name: string): number {
  const size = value ?? UDP_DEFAULT_BUFFER_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > 1 << 30)
    throw new RangeError(`${name} must be an integer in 0..2^30, got ${size}`);
  return size;
}

function endpointText(e: UdpEndpoint): string {
  return `${e.host}:${e.port}`;
}
