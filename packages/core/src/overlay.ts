import type { EventEmitter } from 'eventemitter3';
import type { PeerName } from './peer-name.js';
import type { Endpoint } from './transport.js';

/**
 * The datapath seam, as in weaveworks/mesh: the router asks an {@link Overlay} for a per-connection
 * {@link OverlayConnection}, and a control connection counts as *established* only once that overlay
 * connection says so. Backends (`datapath-sleeve`, `datapath-fastdp`, the overlay switch) implement it.
 *
 * ```
 * handshake ─▶ prepareConnection ─▶ confirm() ─▶ … 'established' ─▶ connection established, gossiped
 *                                             └▶ 'error' ─▶ control connection torn down
 * ```
 */

/** The remote peer as the handshake introduced it. */
export interface RemotePeerInfo {
  /** The remote peer's name. */
  readonly name: PeerName;
  /** The remote peer's nickname. */
  readonly nickname: string;
  /** The remote peer's 64-bit instance id. */
  readonly uid: bigint;
  /** Absent when the remote sent no `ShortID` feature (then fastdp cannot be used). */
  readonly shortId?: number;
}

/** What a backend learns about a new control connection. */
export interface OverlayConnectionParams {
  /** Who the remote peer is, as its handshake said. */
  readonly remotePeer: RemotePeerInfo;
  /** Our end of the TCP control connection. */
  readonly local: Endpoint;
  /** The remote end of the TCP control connection (its IP is where datagrams go). */
  readonly remote: Endpoint;
  /** True when we dialled. */
  readonly outbound: boolean;
  /** The connection uid both sides agree on (our ConnID XOR theirs). */
  readonly connUID: bigint;
  /** The session key; only given when the overlay must encrypt (password set and not mutually trusted). */
  readonly sessionKey?: Uint8Array;
  /** The remote's handshake features (e.g. `Overlays`). */
  readonly features: Readonly<Record<string, string>>;
  /**
   * Sends a control message to the remote's overlay connection with protocol tag `tag`: 7 for the
   * overlay switch's `[index][subTag][msg]` framing, or a legacy 1..3 for a peer without `Overlays`.
   */
  sendControlMessage(tag: number, msg: Uint8Array): void;
}

/** Events of an {@link OverlayConnection}. */
export interface OverlayConnectionEvents {
  /** The datapath to the remote works; emitted at most once. */
  established: [];
  /** The datapath failed for good; the control connection is closed with this error. */
  error: [error: Error];
}

/** One connection's datapath state. Events are only emitted after `confirm()`. */
export interface OverlayConnection extends EventEmitter<OverlayConnectionEvents> {
  /** The control connection is registered: start heartbeats. */
  confirm(): void;
  /** Whether `established` has been emitted (for listeners that subscribe late). */
  readonly established: boolean;
  /** A control message from the remote's overlay connection: its protocol tag (7 or 1..3) and body. */
  controlMessage(tag: number, msg: Uint8Array): void;
  /** Attributes shown in `status connections` (`name`, `mtu`, `encrypted` …). */
  attrs(): Readonly<Record<string, string | number | boolean>>;
  /** Releases everything; no events after this. */
  stop(): void;
}

/** A datapath backend, seen from the control plane. */
export interface Overlay {
  /** Adds this overlay's handshake features (e.g. `Overlays: "fastdp sleeve"`). */
  addFeaturesTo(features: Record<string, string>): void;
  /** Creates the per-connection state; throws to refuse the connection. */
  prepareConnection(params: OverlayConnectionParams): OverlayConnection;
  /** Backend-specific diagnostics for `/report`. */
  diagnostics(): unknown;
  /** Releases sockets, devices and timers. */
  stop(): Promise<void>;
}
