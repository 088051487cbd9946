import type { FastPathConnectionState, FastPathStats } from '@weave-ts/host';
import type { SharedNaClState } from './frame-crypto.js';

/**
 * Where the sleeve hands established unicast flows to native code (the host addon's `SleeveFastPath`,
 * or a fake in tests). The sleeve stays the authority: its forwarders register their connections and
 * keep their state current, offered flows are only ever ones JS has just forwarded itself, and
 * `flush()` runs whenever routes change or a MAC moves.
 */
export interface SleeveOffload {
  /** Registers a connection (disabled until its first `set`); encrypted when `sessionKey` is given. */
  addConnection(
    peerName: Uint8Array,
    sessionKey: Uint8Array | undefined,
    outbound: boolean,
  ): OffloadConnection;
  /** Frames from `srcMac` at peer `srcName` to the local `dstMac` may be delivered natively. */
  offerDeliver(srcName: Uint8Array, srcMac: number, dstMac: number): void;
  /** Forgets every offered flow. */
  flush(): void;
  /** Counters of what the native fast path carried. */
  stats(): FastPathStats;
  /** Releases it; the sleeve calls this when it stops. */
  close(): void;
}

/** One forwarder's connection in a {@link SleeveOffload}; its `seal`/`open` hold the NaCl state. */
export interface OffloadConnection extends SharedNaClState {
  /** Updates what the native side needs to carry this connection's frames. */
  set(state: FastPathConnectionState): void;
  /** Frames from `srcMac` to `dstMac` may go natively through this connection, to peer `dstName`. */
  offerSend(srcMac: number, dstMac: number, dstName: Uint8Array): void;
  /** Removes the connection from the native side. */
  remove(): void;
}
