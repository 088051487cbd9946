import {
  type Clock,
  type DatapathConnection,
  type DeliverFlowOffer,
  type FlowOffer,
  type ForwardOptions,
  type ForwardPacketKey,
  type ForwardResult,
  type FrameConsumer,
  type Logger,
  type NetworkOverlay,
  type OverlayConnectionParams,
  type OverlayFrame,
  type PeerName,
  silentLogger,
  systemClock,
} from '@weave-ts/core';
import { FAST_HEARTBEAT_MS, FLOW_TTL_MS, HEARTBEAT_TIMEOUT_MS, SLOW_HEARTBEAT_MS } from './constants.js';
import type { DataplaneStats, DeliverFlow, FastdpDataplane, TunnelFrame } from './dataplane.js';
import { FastdpEncryptionUnsupportedError, FastdpStoppedError, NoShortIdError } from './errors.js';
import {
  FastdpForwarder,
  type FastdpForwarderHost,
  type FastdpForwarderStatus,
  type HeartbeatTimings,
} from './forwarder.js';
import { isSpecialFrame, parseHeartbeat } from './heartbeat.js';
import type { ShortIdDirectory } from './short-ids.js';
import { peersOfTunnelId } from './tunnel-id.js';

/**
 * Weave's fast datapath as a core `NetworkOverlay` (upstream `FastDatapath`), over a
 * {@link FastdpDataplane} (the kernel's VXLAN + tc BPF, see `KernelDataplane`).
 *
 * ```
 * forward(key, frames, {via}) ─▶ forwarder of `via` ─▶ tunnel, VNI srcShort | dstShort << 12
 * offerFlows: send ─▶ that forwarder ─▶ kernel send flow (frames skip TypeScript from then on)
 *             deliver ─▶ kernel deliver flow (VNI's src short ID, src MAC, dst MAC)
 * miss from the tunnel ─▶ VNI ─▶ (src peer, dst peer) by short ID
 *             zero-MAC frame for us ─▶ heartbeat of the src peer's forwarder
 *             anything else ───────────▶ FrameConsumer (learning, local delivery, relaying)
 * invalidateRoutes / invalidateShortIDs / a forwarder going unhealthy ─▶ every kernel flow dropped
 * ```
 * Named `fastdp` inside core's `OverlaySwitch`, ahead of `sleeve` (`Overlays: "fastdp sleeve"`).
 */

/** Options of a {@link FastdpOverlay}. */
export interface FastdpOverlayOptions {
  /** Our peer name. */
  readonly localPeer: PeerName;
  /** The packet side; the overlay closes it on `stop()`. */
  readonly dataplane: FastdpDataplane;
  /** Short IDs of the topology (see `shortIdsOfRouter`). */
  readonly shortIds: ShortIdDirectory;
  /** Timers (default the system clock). */
  readonly clock?: Clock;
  /** Where log lines go (default nowhere). */
  readonly logger?: Logger;
  /** Heartbeat timings (defaults upstream's: 500 ms, 10 s, 60 s); shorter only for tests. */
  readonly heartbeat?: Partial<HeartbeatTimings>;
  /** Lifetime of a kernel flow between two frames the router sees (default 10 s). */
  readonly flowTtlMs?: number;
}

/** Counters of the overlay's TypeScript side. */
export interface FastdpCounters {
  /** Tunnelled frames handed to the router. */
  framesReceived: number;
  /** Heartbeats accepted. */
  heartbeats: number;
  /** Tunnelled frames whose VNI names a short ID no peer owns. */
  unknownShortId: number;
  /** Zero-MAC frames that were not a heartbeat of a live connection to us. */
  ignoredSpecial: number;
  /** Times every kernel flow was dropped. */
  flushes: number;
}

/** What `FastdpOverlay.diagnostics()` reports (upstream `FastDPStatus`, plus counters). */
export interface FastdpDiagnostics {
  /** Our peer name. */
  readonly localPeer: PeerName;
  /** The datapath MTU. */
  readonly mtu: number;
  /** The tunnel's UDP port. */
  readonly port: number;
  /** Names of the kernel objects (VXLAN device, miss TAP, port TAP, pin directory). */
  readonly devices: Readonly<Record<string, string>>;
  /** Installed, unexpired kernel flows (the `weave_flows` metric). */
  readonly flows: number;
  /** Every forwarder. */
  readonly forwarders: readonly FastdpForwarderStatus[];
  /** The TypeScript side's counters. */
  readonly counters: Readonly<FastdpCounters>;
}

/** The fast datapath. */
export class FastdpOverlay implements NetworkOverlay {
  /** Our peer name. */
  readonly localPeer: PeerName;
  private readonly dataplane: FastdpDataplane;
  private readonly shortIds: ShortIdDirectory;
  private readonly logger: Logger;
  private readonly forwarders = new Map<PeerName, FastdpForwarder>();
  private readonly all = new Set<FastdpForwarder>();
  private readonly host: FastdpForwarderHost;
  private readonly flowTtlMs: number;
  private readonly counters: FastdpCounters = {
    framesReceived: 0,
    heartbeats: 0,
    unknownShortId: 0,
    ignoredSpecial: 0,
    flushes: 0,
  };
  private consumer: FrameConsumer | undefined;
  /** The short ID the kernel was last told (undefined until the first connection). */
  private localShortId: number | undefined;
  private stopped = false;

  constructor(options: FastdpOverlayOptions) {
    this.localPeer = options.localPeer;
    this.dataplane = options.dataplane;
    this.shortIds = options.shortIds;
    this.logger = options.logger ?? silentLogger;
    this.flowTtlMs = options.flowTtlMs ?? FLOW_TTL_MS;
    this.host = {
      dataplane: this.dataplane,
      shortIds: this.shortIds,
      clock: options.clock ?? systemClock,
      timings: {
        fastMs: options.heartbeat?.fastMs ?? FAST_HEARTBEAT_MS,
        slowMs: options.heartbeat?.slowMs ?? SLOW_HEARTBEAT_MS,
        timeoutMs: options.heartbeat?.timeoutMs ?? HEARTBEAT_TIMEOUT_MS,
      },
      flowTtlMs: this.flowTtlMs,
      log: (m) => this.logger.info(m),
      register: (fwd) => this.forwarders.set(fwd.remotePeer, fwd),
      unregister: (fwd) => {
        if (this.forwarders.get(fwd.remotePeer) === fwd) this.forwarders.delete(fwd.remotePeer);
        this.all.delete(fwd);
      },
      flush: () => this.flush(),
    };
    this.dataplane.onMiss((frames) => this.receive(frames));
  }

  /** The datapath MTU (1376 by default): what containers should use. */
  get mtu(): number {
    return this.dataplane.mtu;
  }

  /** Nothing: inside an `OverlaySwitch` the switch advertises `Overlays`. */
  addFeaturesTo(_features: Record<string, string>): void {}

  /**
   * Creates the forwarder for a new connection.
   * @throws FastdpEncryptionUnsupportedError with a session key (the switch keeps it on sleeve),
   *   NoShortIdError when the remote has no short ID, FastdpStoppedError after `stop()`
   */
  prepareConnection(params: OverlayConnectionParams): DatapathConnection {
    if (this.stopped) throw new FastdpStoppedError();
    if (params.sessionKey) throw new FastdpEncryptionUnsupportedError();
    if (params.remotePeer.shortId === undefined) throw new NoShortIdError(params.remotePeer.name);
    // Read lazily: the directory's router is usually built after the overlay.
    if (this.localShortId === undefined) this.syncLocalShortId();
    const fwd = new FastdpForwarder(this.host, params);
    this.all.add(fwd);
    return fwd;
  }

  /** The confirmed forwarder to `peer`, if any. */
  forwarderTo(peer: PeerName): FastdpForwarder | undefined {
    return this.forwarders.get(peer);
  }

  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], options?: ForwardOptions): ForwardResult {
    if (this.stopped) return 'stopped';
    const fwd = this.forwarders.get(options?.via ?? key.dstPeer);
    if (!fwd) return 'no-connection';
    return fwd.forward(key, frames, options) ? 'forwarded' : 'no-forwarder';
  }

  onFramesReceived(consumer: FrameConsumer): void {
    this.consumer = consumer;
  }

  /** Deliver offers become kernel deliver flows; send offers go to the forwarder of their next hop. */
  offerFlows(offers: readonly FlowOffer[]): void {
    if (this.stopped) return;
    const delivers: DeliverFlow[] = [];
    for (const offer of offers) {
      if (offer.kind === 'send') {
        this.forwarders.get(offer.via)?.offerFlows([offer]);
        continue;
      }
      const flow = this.deliverFlow(offer);
      if (flow) delivers.push(flow);
    }
    if (delivers.length > 0) this.dataplane.installDeliver(delivers, this.flowTtlMs);
  }

  invalidateRoutes(): void {
    if (!this.stopped) this.flush();
  }

  /** Our short ID may have changed: tell the kernel (which also drops every flow). */
  invalidateShortIDs(): void {
    if (this.stopped) return;
    this.counters.flushes++;
    this.syncLocalShortId();
  }

  /** Installed, unexpired kernel flows (what upstream's `weave_flows` metric counts). */
  flowCount(): number {
    return this.dataplane.flowCount();
  }

  diagnostics(): FastdpDiagnostics {
    return {
      localPeer: this.localPeer,
      mtu: this.dataplane.mtu,
      port: this.dataplane.port,
      devices: this.dataplane.devices,
      flows: this.dataplane.flowCount(),
      forwarders: [...this.all].map((f) => f.status()),
      counters: { ...this.counters },
    };
  }

  /** Kernel counters (read from the BPF maps). */
  dataplaneStats(): Promise<DataplaneStats> {
    return this.dataplane.stats();
  }

  /** Stops every forwarder and removes the kernel objects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const fwd of [...this.all]) fwd.stop();
    this.forwarders.clear();
    await this.dataplane.close();
  }

  private syncLocalShortId(): void {
    this.localShortId = this.shortIds.localShortId();
    this.dataplane.setLocalShortId(this.localShortId);
  }

  private flush(): void {
    this.counters.flushes++;
    this.dataplane.flush();
  }

  private deliverFlow(offer: DeliverFlowOffer): DeliverFlow | undefined {
    const srcShortId = this.shortIds.shortIdOf(offer.srcPeer);
    return srcShortId === undefined ? undefined : { srcShortId, srcMac: offer.srcMac, dstMac: offer.dstMac };
  }

  private receive(batch: readonly TunnelFrame[]): void {
    if (this.stopped) return;
    const frames: OverlayFrame[] = [];
    for (const { remoteIp, tunnelId, frame } of batch) {
      const ids = peersOfTunnelId(tunnelId);
      const src = this.shortIds.peerOf(ids.src);
      const dst = this.shortIds.peerOf(ids.dst);
      if (src === undefined || dst === undefined) {
        this.counters.unknownShortId++;
        continue;
      }
      if (isSpecialFrame(frame)) {
        this.special(src, dst, remoteIp, frame);
        continue;
      }
      frames.push({ src, dst, frame });
    }
    if (frames.length === 0) return;
    this.counters.framesReceived += frames.length;
    this.consumer?.(frames);
  }

  private special(src: PeerName, dst: PeerName, remoteIp: string, frame: Uint8Array): void {
    const fwd = this.forwarders.get(src);
    const hb = parseHeartbeat(frame);
    if (dst !== this.localPeer || !fwd || !hb.ok || hb.connUID !== fwd.connUID) {
      if (!hb.ok) this.logger.info(`fastdp: ${hb.reason} from ${remoteIp}`);
      this.counters.ignoredSpecial++;
      return;
    }
    this.counters.heartbeats++;
    fwd.handleHeartbeat(remoteIp);
  }
}
