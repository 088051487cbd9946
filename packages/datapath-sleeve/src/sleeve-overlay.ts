import {
  type Clock,
  type DatapathConnection,
  type Endpoint,
  type ForwardOptions,
  type ForwardPacketKey,
  type FlowOffer,
  type ForwardResult,
  type FrameConsumer,
  type NetworkOverlay,
  type OverlayConnectionParams,
  type OverlayFrame,
  type PeerName,
  systemClock,
} from '@weave-ts/core';
import { ETHERNET_OVERHEAD, NAME_SIZE } from './constants.js';
import { PacketDecodingError, SleeveStoppedError } from './errors.js';
import { endpointString, type ForwarderHost, SleeveForwarder } from './forwarder.js';
import { nameKey, PeerNameCache, sameName } from './name-cache.js';
import { type SleeveCounters, type SleeveDiagnostics, newSleeveCounters } from './sleeve-diagnostics.js';
import type { SleeveLogger } from './sleeve-logger.js';
import type { SleeveOffload } from './sleeve-offload.js';
import { iterateFrameRecords } from './sleeve-packet.js';
import type { ReceivedDatagram, SleeveSocket } from './sleeve-socket.js';
import { isSpecialFrame } from './special-frames.js';

/**
 * The sleeve overlay (upstream `SleeveOverlay`): one UDP socket shared by one forwarder per control
 * connection.
 *
 * ```
 * socket batch ─▶ sender name ─▶ confirmed forwarder ─▶ decrypt ─▶ records
 *      records ─▶ special frame from that peer to us ─▶ forwarder (heartbeat / tests)
 *              └▶ anything else, from the forwarder's UDP address ─▶ FrameConsumer (one call per batch)
 *                 (from any other address: dropped, counted as `wrongAddress`)
 * forward(key, frames, {via}) ─▶ forwarder of `via` (default key.dstPeer) ─▶ DF / non-DF datagrams
 * offerFlows ─▶ the offload (if any) carries those unicast flows natively; invalidateRoutes flushes it
 * ```
 *
 * Standalone it advertises no `Overlays` feature (a compat peer) and its control messages are
 * `[sub-tag][body]`; inside core's `OverlaySwitch` (named `sleeve`) the switch owns the feature and the
 * `[index][sub-tag]` framing, and calls each forwarder's own `forward`.
 */

/** Options of a {@link SleeveOverlay}. */
export interface SleeveOverlayOptions {
  /** Our own peer name (written at the start of every datagram). */
  readonly localPeer: PeerName;
  /** The bound UDP socket (port 6783 in Weave Net); the overlay closes it on `stop()`. */
  readonly socket: SleeveSocket;
  /** Timers for heartbeats and tests (default: the system clock). */
  readonly clock?: Clock;
  /** Receives log lines (default: none). */
  readonly logger?: SleeveLogger;
  /**
   * Native code that takes over established unicast flows (the host addon's `SleeveFastPath`, attached
   * to the TAP and to this overlay's native socket). The overlay closes it on `stop()`.
   */
  readonly offload?: SleeveOffload;
}

/** Weave's userspace UDP datapath, as a core `NetworkOverlay`. */
export class SleeveOverlay implements NetworkOverlay {
  /** Our peer name. */
  readonly localPeer: PeerName;
  private readonly socket: SleeveSocket;
  private readonly clock: Clock;
  private readonly log: SleeveLogger;
  private readonly names = new PeerNameCache();
  private readonly localName: Uint8Array;
  private readonly forwarders = new Map<number, SleeveForwarder>();
  private readonly all = new Set<SleeveForwarder>();
  private readonly counters: SleeveCounters = newSleeveCounters();
  private readonly offload: SleeveOffload | undefined;
  private readonly host: ForwarderHost;
  private consumer: FrameConsumer | undefined;
  private stopped = false;

  constructor(options: SleeveOverlayOptions) {
    this.localPeer = options.localPeer;
    this.socket = options.socket;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? (() => {});
    this.localName = this.names.bytes(this.localPeer);
    this.offload = options.offload;
    this.host = {
      offload: this.offload,
      localName: this.localName,
      clock: this.clock,
      log: this.log,
      socket: this.socket,
      counters: this.counters,
      nameBytes: (name) => this.names.bytes(name),
      register: (fwd) => this.forwarders.set(nameKey(fwd.remoteName), fwd),
      unregister: (fwd) => {
        const key = nameKey(fwd.remoteName);
        if (this.forwarders.get(key) === fwd) this.forwarders.delete(key);
        this.all.delete(fwd);
      },
      deliverLocal: (frames) => this.deliver(frames),
    };
    this.socket.onReceive((batch) => this.receive(batch));
  }

  /**
   * Adds nothing: a standalone sleeve is what Weave calls a *compat* peer, one without the `Overlays`
   * feature, whose control messages travel unframed (`[sub-tag][body]`); every Weave router, and
   * core's `OverlaySwitch`, then talks sleeve to it alone. Advertising `Overlays: sleeve` would promise
   * the switch's `[index][sub-tag]` framing, which only the switch adds: to advertise overlays, wrap
   * the sleeve in `new OverlaySwitch([{ name: 'sleeve', overlay }])`.
   */
  addFeaturesTo(_features: Record<string, string>): void {}

  /** Creates the forwarder for a new control connection. @throws SleeveStoppedError */
  prepareConnection(params: OverlayConnectionParams): DatapathConnection {
    if (this.stopped) throw new SleeveStoppedError();
    const forwarder = new SleeveForwarder(this.host, params);
    this.all.add(forwarder);
    return forwarder;
  }

  /** The UDP address the overlay's socket is bound to. */
  get local(): Endpoint {
    return this.socket.local;
  }

  /**
   * Installs the receiver of frames that arrived for us or to relay (replacing any earlier one); it
   * also gets the ICMP "fragmentation needed" replies the forwarders synthesise. Special (control)
   * frames are never passed on.
   */
  onFramesReceived(consumer: FrameConsumer): void {
    this.consumer = consumer;
  }

  /** The confirmed forwarder to `peer`, if any. */
  forwarderTo(peer: PeerName): SleeveForwarder | undefined {
    return this.forwarders.get(nameKey(this.names.bytes(peer)));
  }

  /**
   * Sends frames through the confirmed forwarder to `options.via` (default `key.dstPeer`):
   * `'no-connection'` when there is none, `'no-forwarder'` when it is dead, `'stopped'` after `stop()`.
   */
  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], options?: ForwardOptions): ForwardResult {
    if (this.stopped) return 'stopped';
    const forwarder = this.forwarderTo(options?.via ?? key.dstPeer);
    if (!forwarder) return 'no-connection';
    return forwarder.forward(key, frames, options) ? 'forwarded' : 'no-forwarder';
  }

  /**
   * Hands flows the L2 forwarder just handled to the offload: sends through the forwarder of their
   * next hop, deliveries to the offload directly. Without an offload there is nothing to do.
   */
  offerFlows(offers: readonly FlowOffer[]): void {
    if (!this.offload || this.stopped) return;
    for (const offer of offers) {
      if (offer.kind === 'send') this.forwarderTo(offer.via)?.offerFlows([offer]);
      else this.offload.offerDeliver(this.names.bytes(offer.srcPeer), offer.srcMac, offer.dstMac);
    }
  }

  /** Flows the offload carries may now take another path: it forgets them all. */
  invalidateRoutes(): void {
    if (!this.stopped) this.offload?.flush();
  }

  /** Nothing to do: the sleeve names peers in full, never by short ID. */
  invalidateShortIDs(): void {}

  diagnostics(): SleeveDiagnostics {
    return {
      localPeer: this.localPeer,
      localAddress: endpointString(this.socket.local),
      forwarders: [...this.all].map((f) => f.status()),
      counters: { ...this.counters },
      ...(this.offload ? { fastPath: this.offload.stats() } : {}),
    };
  }

  /** Stops every forwarder (without error events) and closes the socket. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const forwarder of [...this.all]) forwarder.stop();
    this.forwarders.clear();
    this.offload?.close();
    await this.socket.close();
  }

  private receive(batch: readonly ReceivedDatagram[]): void {
    if (this.stopped) return;
    const frames: OverlayFrame[] = [];
    for (const { data, from } of batch) {
      if (data.length < NAME_SIZE) {
        this.counters.shortDatagrams++;
        this.log(`ignoring too short UDP packet from ${endpointString(from)}`);
        continue;
      }
      const forwarder = this.forwarders.get(nameKey(data));
      if (!forwarder) {
        this.counters.unknownSender++;
        continue;
      }
      const plain = forwarder.decryptor.open(data.subarray(NAME_SIZE));
      if (plain === null) {
        this.counters.duplicates++;
        continue;
      }
      const error =
        plain instanceof PacketDecodingError
          ? plain
          : iterateFrameRecords(plain, (src, dst, frame) => {
              if (frame.length < ETHERNET_OVERHEAD) return;
              if (isSpecialFrame(frame)) {
                // Heartbeats prove the sender by the connection UID and may move its address.
                if (sameName(src, forwarder.remoteName) && sameName(dst, this.localName)) {
                  forwarder.handleSpecialFrame(from, frame);
                }
                return;
              }
              // The sender name is not proof: data frames only from the address heartbeats established.
              const addr = forwarder.remoteAddress;
              if (addr === undefined || addr.host !== from.host || addr.port !== from.port) {
                this.counters.wrongAddress++;
                return;
              }
              frames.push({ src: this.names.name(src), dst: this.names.name(dst), frame });
            });
      if (error) {
        // Stray or damaged datagrams are normal around connection churn; a real fault shows up as
        // missed heartbeats.
        this.counters.decodeErrors++;
        this.log(forwarder.logPrefixFor(from) + error.message);
      }
    }
    if (frames.length > 0) this.deliver(frames);
  }

  private deliver(frames: readonly OverlayFrame[]): void {
    this.counters.framesReceived += frames.length;
    this.consumer?.(frames);
  }
}
