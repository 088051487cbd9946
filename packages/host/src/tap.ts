/*
 * A TAP device driven by the native addon.
 *
 *   kernel --(uv_poll wake-up)--> drain read(2) ≤ batchSize frames --> ONE onFrames(frames[]) call
 *   write(frames[]) --> one write(2) per frame, synchronous, stops at EAGAIN
 */
import {
  TapClosedError,
  TapIoError,
  TapNameBusyError,
  TapPermissionError,
  TunDeviceMissingError,
} from './errors.js';
import type { FastPathHandle } from './fastpath.js';
import { errnoName, hostAddon, isNativeErrnoError, type ReaderHandle } from './native.js';
import { assertIfName } from './names.js';

/** Most frames one `onFrames` call delivers (frames read per event-loop wake-up). */
export const TAP_BATCH_SIZE = 64;

/** Size of the virtio-net header that prefixes every frame of a TAP opened with `vnetHdr`. */
export const VNET_HDR_SIZE = 10;

/** Largest frame read from a TAP: a 64 KiB (super-)frame plus the virtio-net header. */
export const TAP_MAX_FRAME_SIZE = 65_536 + VNET_HDR_SIZE;

/** TUNSETOFFLOAD flags (only meaningful with `vnetHdr`). */
export const TapOffload = {
  /** The kernel may hand over frames with a partial checksum. */
  CSUM: 0x01,
  /** TCP segmentation offload for IPv4 / IPv6 (GSO super-frames). */
  TSO4: 0x02,
  /** TCP segmentation offload for IPv6. */
  TSO6: 0x04,
  /** TCP segmentation offload with ECN bits. */
  TSO_ECN: 0x08,
} as const;

/** How to open a TAP. */
export interface TapOptions {
  /** Interface name (≤ 15 bytes); a pattern such as `tap%d` lets the kernel pick the number. */
  name: string;
  /** Prefix every frame, read and written, with a virtio-net header of VNET_HDR_SIZE bytes. */
  vnetHdr?: boolean;
  /** TUNSETOFFLOAD flags (a bitwise OR of TapOffload), only with `vnetHdr`. */
  offload?: number;
  /** Frames per onFrames call, 1..1024; default TAP_BATCH_SIZE. */
  batchSize?: number;
}

/** Receives one batch: every frame read in one wake-up, in arrival order. */
export type FramesHandler = (frames: Uint8Array[]) => void;

/**
 * An open TAP. The device lives exactly as long as the Tap is open (it is not persistent): `close()`
 * deletes it. The fd is close-on-exec, so commands spawned meanwhile do not keep the device alive.
 *
 * Buffer ownership: the frames of one batch are views into one fresh buffer that is never reused;
 * the handler may keep them for as long as it likes. `write()` copies frames into the kernel before
 * it returns, so callers may reuse their buffers at once.
 *
 * After `close()`: no further onFrames or error callback runs (also not one already due in the
 * same loop turn), `write()` throws TapClosedError, `close()` is a no-op, and nothing of the Tap
 * keeps the process alive.
 */
export class Tap {
  /** The kernel's name for the device (differs from the requested one only for a `%d` pattern). */
  readonly name: string;
  /** Whether frames carry the virtio-net header. */
  readonly vnetHdr: boolean;
  readonly #fd: number;
  readonly #batchSize: number;
  #reader: ReaderHandle | undefined;
  #handler: FramesHandler | undefined;
  #onError: ((err: TapIoError) => void) | undefined;
  #closed = false;
  #ref = true;
  #fastPath: FastPathHandle | undefined;

  private constructor(fd: number, name: string, vnetHdr: boolean, batchSize: number) {
    this.#fd = fd;
    this.name = name;
    this.vnetHdr = vnetHdr;
    this.#batchSize = batchSize;
  }

  /**
   * Opens (creating) the TAP `options.name`. Throws TapPermissionError without CAP_NET_ADMIN,
   * TunDeviceMissingError without /dev/net/tun, TapNameBusyError when the name is taken,
   * InvalidInterfaceNameError for a name the kernel cannot hold, TapIoError otherwise.
   */
  static open(options: TapOptions): Tap {
    assertIfName(options.name);
    const batchSize = options.batchSize ?? TAP_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024) {
      throw new RangeError(`batchSize must be an integer in 1..1024, got ${batchSize}`);
    }
    const vnetHdr = options.vnetHdr ?? false;
    try {
      const [fd, name] = hostAddon().tapOpen(options.name, vnetHdr, options.offload ?? 0);
      return new Tap(fd, name, vnetHdr, batchSize);
    } catch (err) {
      throw mapTapOpenError(options.name, err);
    }
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Delivers every frame the kernel sends into the TAP to `handler`, in batches of at most the
   * batch size, one call per event-loop wake-up. Calling it again replaces the handlers. A read
   * failure (e.g. `EBADFD` after the device was deleted, or its namespace destroyed) stops
   * reading and goes to `onError` (without one it is thrown as an uncaught exception).
   */
  onFrames(handler: FramesHandler, onError?: (err: TapIoError) => void): void {
    if (this.#closed) throw new TapClosedError(this.name);
    this.#handler = handler;
    this.#onError = onError;
    if (this.#reader !== undefined) return;
    this.#reader = hostAddon().readerStart(
      this.#fd,
      this.#batchSize,
      TAP_MAX_FRAME_SIZE,
      (errno, data, lengths) => this.#deliver(errno, data, lengths),
    );
    if (!this.#ref) hostAddon().readerRef(this.#reader, false);
    if (this.#fastPath !== undefined) fastPathAddon().readerSetFastpath(this.#reader, this.#fastPath);
  }

  /** @internal Lets a SleeveFastPath take frames before `onFrames` sees them (now, or once reading). */
  attachFastPath(handle: FastPathHandle): void {
    if (this.#closed) throw new TapClosedError(this.name);
    if (this.#fastPath !== undefined) throw new RangeError(`${this.name} already has a fast path`);
    this.#fastPath = handle;
    if (this.#reader !== undefined) fastPathAddon().readerSetFastpath(this.#reader, handle);
  }

  /**
   * Writes `frames` (each a whole Ethernet frame, prefixed with the virtio-net header when
   * `vnetHdr`) in order, one write(2) each. Returns how many were written: fewer than
   * `frames.length` only when the kernel queue is full (EAGAIN); the rest were not written and
   * the caller may drop or retry them. Any other failure throws TapIoError whose `written`
   * counts the frames that went out before the failing one.
   */
  write(frames: readonly Uint8Array[]): number {
    if (this.#closed) throw new TapClosedError(this.name);
    try {
      return hostAddon().tapWrite(this.#fd, frames, 0);
    } catch (err) {
      if (!isNativeErrnoError(err)) throw err;
      throw new TapIoError(this.name, err.syscall, errnoName(err.errno), err.written ?? 0);
    }
  }

  /** Lets the process exit while the TAP is open and idle (as `socket.unref()`), or not. */
  setRef(ref: boolean): void {
    this.#ref = ref;
    if (this.#reader !== undefined && !this.#closed) hostAddon().readerRef(this.#reader, ref);
  }

  /** Stops reading and closes the device. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // The poll must stop before the fd closes: epoll would otherwise keep watching a dead fd.
    if (this.#reader !== undefined) hostAddon().readerStop(this.#reader);
    this.#reader = undefined;
    this.#handler = undefined;
    this.#onError = undefined;
    hostAddon().fdClose(this.#fd);
  }

  #deliver(errno: number, data: Buffer, lengths: Buffer): void {
    const count = lengths.length >>> 2;
    if (count > 0 && this.#handler !== undefined) {
      const frames = new Array<Uint8Array>(count);
      let offset = data.byteOffset;
      for (let i = 0; i < count; i++) {
        const len = lengths.readUInt32LE(i * 4);
        frames[i] = new Uint8Array(data.buffer, offset, len);
        offset += len;
      }
      this.#handler(frames);
    }
    if (errno !== 0 && !this.#closed) {
      const err = new TapIoError(this.name, 'read', errnoName(errno));
      const onError = this.#onError;
      if (this.#reader !== undefined) hostAddon().readerStop(this.#reader);
      this.#reader = undefined;
      if (onError === undefined) throw err;
      onError(err);
    }
  }
}

/** The typed error for a failed TAP open (the addon reports errno and syscall). */
export function mapTapOpenError(name: string, err: unknown): Error {
  if (!isNativeErrnoError(err)) return err instanceof Error ? err : new Error(String(err));
  const code = errnoName(err.errno);
  if (code === 'EPERM' || code === 'EACCES') return new TapPermissionError();
  if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO') return new TunDeviceMissingError();
  // The name was checked already, so EINVAL from TUNSETIFF means a non-TAP device holds it.
  if (code === 'EBUSY' || code === 'EEXIST' || (code === 'EINVAL' && err.syscall.includes('TUNSETIFF'))) {
    return new TapNameBusyError(name);
  }
  return new TapIoError(name, err.syscall, code);
}

function fastPathAddon(): { readerSetFastpath(reader: ReaderHandle, fastPath: FastPathHandle): void } {
  return hostAddon() as never;
}
