import type { MacKey } from './ethernet.js';
import type { Overlay, OverlayConnection, OverlayConnectionParams } from './overlay.js';
import type { PeerName } from './peer-name.js';

/**
 * The datapath plug-in contract: what a backend (`datapath-sleeve`, `datapath-fastdp`, the in-memory
 * one in `@weave-ts/core/testing`, the overlay switch over several of them) offers the L2
 * forwarder, on top of the control-plane seam in `overlay.ts`.
 *
 * ```
 *  containers ─▶ LocalPort.onCapture ─▶ L2Forwarder ─▶ NetworkOverlay.forward(key, frames, {via})
 *                                                        └▶ DatapathConnection (to `via`).forward
 *                                                              ─▶ wire ─▶ remote NetworkOverlay
 *  remote ─▶ NetworkOverlay.onFramesReceived ─▶ L2Forwarder ─▶ LocalPort.inject ─▶ containers
 *                                                           └▶ relay (forward again)
 *  L2Forwarder ─▶ NetworkOverlay.offerFlows(flows it just handled) ─▶ a fast path may take them over
 *                 └▶ DatapathConnection (to `via`).offerFlows(send flows)   until invalidateRoutes()
 * ```
 *
 * Frames move in batches, as in wireguard-go's `tun.Device`/`conn.Bind`: one call carries many frames,
 * never an event or a promise per frame. Buffer ownership, stated once for every method here:
 * - a batch *handed to* a callback (captured, received) belongs to the callback, which may keep or
 *   modify its buffers;
 * - a batch *passed to* a method (`forward`, `inject`) stays the caller's: the callee copies what it
 *   must keep and never modifies it, so the caller may reuse the buffers once the call returns.
 */

/** Frames a backend should expect in one call (like wireguard-go's `IdealBatchSize`); not a limit. */
export const DATAPATH_BATCH_SIZE = 128;

/** Which peers a forwarded frame travels between (upstream `ForwardPacketKey` without the MACs). */
export interface ForwardPacketKey {
  /** The peer that captured the frame. */
  readonly srcPeer: PeerName;
  /** The peer the frame is for; for a broadcast, the next-hop peer it is being sent to. */
  readonly dstPeer: PeerName;
}

/** A frame that arrived over the overlay, with the peers it travels between (as the sleeve carries it). */
export interface OverlayFrame {
  /** The peer that captured the frame. */
  readonly src: PeerName;
  /** The peer it is for (for broadcasts: the next hop it was sent to). */
  readonly dst: PeerName;
  /** The Ethernet frame. */
  readonly frame: Uint8Array;
}

/** A unicast flow from a local container that the L2 forwarder just sent in software. */
export interface SendFlowOffer {
  /** Discriminant: frames we sent. */
  readonly kind: 'send';
  /** The source MAC of the flow's frames. */
  readonly srcMac: MacKey;
  /** The destination MAC of the flow's frames. */
  readonly dstMac: MacKey;
  /** The key the frames were forwarded with: srcPeer = us, dstPeer = where dstMac lives. */
  readonly key: ForwardPacketKey;
  /** The next hop the frames went to (routes.unicast(dstPeer)). */
  readonly via: PeerName;
}

/** A unicast flow from a remote peer that the L2 forwarder just delivered to a local container. */
export interface DeliverFlowOffer {
  /** Discriminant: frames we received and delivered locally. */
  readonly kind: 'deliver';
  /** The peer the frames came from. */
  readonly srcPeer: PeerName;
  /** The source MAC of the flow's frames. */
  readonly srcMac: MacKey;
  /** The destination MAC of the flow's frames. */
  readonly dstMac: MacKey;
}

/** A flow the L2 forwarder offers a datapath (see {@link NetworkOverlay.offerFlows}). */
export type FlowOffer = SendFlowOffer | DeliverFlowOffer;

/** Receives frames that arrived over the overlay: one call per batch; the receiver owns the batch. */
export type FrameConsumer = (frames: readonly OverlayFrame[]) => void;

/** Options of a forward call. */
export interface ForwardOptions {
  /** The neighbour to send through (default: `key.dstPeer`, i.e. a direct neighbour). */
  readonly via?: PeerName;
  /** The frames are being flooded: a backend drops frames it cannot send whole rather than answering. */
  readonly broadcast?: boolean;
}

/**
 * Why {@link NetworkOverlay.forward} sent nothing: no confirmed connection to `via`, its forwarders
 * all declined the frames, or the overlay was stopped.
 */
export type ForwardDropReason = 'no-connection' | 'no-forwarder' | 'stopped';

/** What {@link NetworkOverlay.forward} did with a batch. */
export type ForwardResult = 'forwarded' | ForwardDropReason;

/**
 * Receives a forwarder's health changes: `false` when it stopped carrying traffic but may recover
 * (fastdp missing heartbeats; the overlay switch puts it on hold and falls back to the next one, unlike
 * the fatal `error` event), `true` when it works again.
 */
export type HealthListener = (healthy: boolean, reason?: Error) => void;

/**
 * One connection's forwarder: the control-plane {@link OverlayConnection} plus a send path. Events and
 * health changes come only after `confirm()` and never after `stop()`.
 */
export interface DatapathConnection extends OverlayConnection {
  /**
   * Sends frames to this connection's remote peer, tagged with `key`. May be called before
   * `confirm()`. Returns true when the forwarder took the batch (it may still drop frames by its own
   * rules, e.g. too big), false when it cannot carry it at all (stopped, or, for fastdp, a peer without
   * a short ID): the caller may then try another forwarder.
   */
  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], options?: ForwardOptions): boolean;
  /**
   * Installs the (single) health listener. Backends whose forwarders never recover once they fail
   * (the sleeve: it reports `error` instead) leave this out.
   */
  onHealthChange?(listener: HealthListener): void;
  /**
   * Send flows whose next hop is this connection's remote peer, offered to the forwarder the overlay
   * switch currently prefers (see {@link NetworkOverlay.offerFlows}). The switch offers to its best
   * forwarder even when a later one carried the batch, so a forwarder that declines `forward` for a
   * key must ignore offers with that key too.
   */
  offerFlows?(offers: readonly SendFlowOffer[]): void;
}

/**
 * A datapath backend: a control-plane {@link Overlay} whose connections are {@link DatapathConnection}s,
 * plus the overlay-wide send and receive paths.
 */
export interface NetworkOverlay extends Overlay {
  /** Creates the forwarder for a new control connection; throws to refuse it. */
  prepareConnection(params: OverlayConnectionParams): DatapathConnection;
  /**
   * Sends frames through the confirmed connection to `options.via` (default `key.dstPeer`). After
   * `stop()` returns `'stopped'`.
   */
  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], options?: ForwardOptions): ForwardResult;
  /** Installs the receiver of frames that arrive for us or to relay, replacing any earlier one. */
  onFramesReceived(consumer: FrameConsumer): void;
  /** Routes changed or a MAC moved: drop anything cached per destination (fastdp flows). */
  invalidateRoutes(): void;
  /** Some short ID now names another peer: drop anything cached by short ID. */
  invalidateShortIDs(): void;
  /**
   * Flows the L2 forwarder handled in software and that a datapath may take over, so later frames of
   * the flow skip JavaScript. JavaScript stays the authority: an offer holds until the next
   * `invalidateRoutes()`, and a datapath that caches offers must also expire them on its own (the
   * forwarder refreshes MAC ages only for frames it sees, so seconds, well under its 10 min, are right).
   * Leave it out when there is nothing to take over: the forwarder then skips the bookkeeping.
   */
  offerFlows?(offers: readonly FlowOffer[]): void;
}

/** Receives frames captured from local containers: one call per batch; the receiver owns the batch. */
export type CaptureHandler = (frames: readonly Uint8Array[]) => void;

/**
 * The local side of the datapath (the weave bridge: pcap on `vethwe-pcap`, the ODP datapath's
 * internal ports, a TAP device, or the in-memory port in tests), shaped like wireguard-go's
 * `tun.Device`. After `close()`: `inject` drops silently, no capture batch is delivered, and `close`
 * may be called again.
 */
export interface LocalPort {
  /** A label for logs (`weave`, `vethwe-pcap` …). */
  readonly name: string;
  /** Largest frame payload (Ethernet MTU) the containers use. */
  readonly mtu: number;
  /** Most frames one capture batch holds. */
  readonly batchSize: number;
  /** Installs the capture handler, replacing any earlier one. */
  onCapture(handler: CaptureHandler): void;
  /** Writes frames to the local containers (the caller keeps the buffers). */
  inject(frames: readonly Uint8Array[]): void;
  /** Stops capturing and releases the device. */
  close(): Promise<void>;
}

/** Whether an overlay also implements the datapath side (so the L2 forwarder can use it). */
export function isNetworkOverlay(overlay: Overlay): overlay is NetworkOverlay {
  const o = overlay as Partial<NetworkOverlay>;
  return (
    typeof o.forward === 'function' &&
    typeof o.onFramesReceived === 'function' &&
    typeof o.invalidateRoutes === 'function' &&
    typeof o.invalidateShortIDs === 'function'
  );
}
