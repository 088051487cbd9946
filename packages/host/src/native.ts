import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { HostAddonMissingError } from './errors.js';

/** The functions of build/Release/weave_host.node (see native/*.c for their exact contracts). */
export interface HostAddon {
  /** Opens /dev/net/tun non-blocking and binds it to a TAP: returns the fd and the kernel's name for it. */
  tapOpen(name: string, vnetHdr: boolean, offload: number): [number, string];
  /** write(2)s frames[start..] one per call; stops at EAGAIN; returns how many were written. */
  tapWrite(fd: number, frames: readonly Uint8Array[], start: number): number;
  /** Starts a uv_poll reader; `cb` gets (errno, packed frames, uint32 lengths) once per wake-up. */
  readerStart(fd: number, maxFrames: number, maxFrameSize: number, cb: ReaderCallback): ReaderHandle;
  /** Stops the reader; no callback runs afterwards. Idempotent. */
  readerStop(handle: ReaderHandle): void;
  /** Whether the reader keeps the event loop alive. */
  readerRef(handle: ReaderHandle, ref: boolean): void;
  /** Closes a descriptor. */
  fdClose(fd: number): void;
  /** Broadcasts a gratuitous ARP request for `address` on `ifName`, inside `netnsPath` when given. */
  garpSend(netnsPath: string | null, ifName: string, address: Uint8Array): void;
}

/** The batch callback of a native reader. */
export type ReaderCallback = (errno: number, data: Buffer, lengths: Buffer) => void;

/** Opaque native reader handle. */
export type ReaderHandle = { readonly __brand: 'ReaderHandle' };

/** An error thrown by the addon for a failed system call. */
export interface NativeErrnoError extends Error {
  errno: number;
  syscall: string;
  written?: number;
}

let addon: HostAddon | undefined;

/** Loads the addon on first use, so importing @weave-ts/host works where it was never built. */
export function hostAddon(): HostAddon {
  if (addon === undefined) {
    try {
      // src/ and dist/ both sit one level below the package root, next to build/.
      addon = createRequire(import.meta.url)('../build/Release/weave_host.node') as HostAddon;
    } catch (err) {
      throw new HostAddonMissingError(err);
    }
  }
  return addon;
}

const errnoNames = new Map<number, string>([
  // A Linux value Node's table lacks: read(2) on a TAP whose device is gone.
  [77, 'EBADFD'],
  ...Object.entries(constants.errno).map(([name, value]) => [value, name] as const),
]);

/** The symbolic name (`EPERM`) of an errno value, or `E<number>` when Node does not know it. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** Whether `err` came from a failed system call in the addon. */
export function isNativeErrnoError(err: unknown): err is NativeErrnoError {
  return err instanceof Error && typeof (err as Partial<NativeErrnoError>).errno === 'number';
}
