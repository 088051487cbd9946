import { EventEmitter } from 'eventemitter3';
import { type Clock, type TimerHandle, systemClock } from '../clock.js';
import type {
  DatapathConnection,
  ForwardOptions,
  ForwardPacketKey,
  ForwardResult,
  FrameConsumer,
  HealthListener,
  NetworkOverlay,
  OverlayFrame,
} from '../datapath.js';
import { WeaveError } from '../errors.js';
import { ETHERNET_HEADER_SIZE } from '../ethernet.js';
import type { OverlayConnectionEvents, OverlayConnectionParams } from '../overlay.js';
import type { PeerName } from '../peer-name.js';
import type { Random } from '../random.js';
import { SeededRandom } from './seeded-random.js';

/**
 * An in-memory datapath backend: the fake every datapath test can use, and a reference
 * implementation of the `NetworkOverlay` contract (it passes `runDatapathCompliance`).
 *
 * ```
 * MemoryWire: (overlay name, peer) ─▶ MemoryDatapath        partition / loss between peers
 * confirm ─▶ heartbeat over the wire every heartbeatMs ─▶ remote's confirmed connection (same connUID)
 *        ◀─ control message tag 1 (over the real control connection) ─▶ 'established'
 * forward ─▶ frames copied ─▶ next microtask ─▶ remote datapath's consumer (if it has a live
 *            connection to us), one batch per forward call, in order
 * ```
 *
 * Tests steer it with {@link MemoryConnection.setHealthy} (health events, frames lost while
 * unhealthy), {@link MemoryConnection.fail} (a fatal error), {@link MemoryConnection.declineForwarding}
 * (forward returns false, like fastdp towards a peer without a short ID), and the wire's
 * {@link MemoryWire.partition} / {@link MemoryWire.setLoss}.
 */

/** Control-message tag of the heartbeat acknowledgement. */
export const MEMORY_HEARTBEAT_ACK = 1;
/** Default interval of heartbeats until a connection is established. */
export const MEMORY_HEARTBEAT_MS = 50;
/** Default MTU (what bridged fastdp uses). */
export const MEMORY_DEFAULT_MTU = 1376;

/** A memory datapath's name is already registered on the wire for that peer. */
export class MemoryWireConflictError extends WeaveError {
  /** The error's stable name: `'MemoryWireConflictError'`. */
  override name = 'MemoryWireConflictError';
  constructor(overlay: string, peer: PeerName) {
    super(`memory wire: ${overlay} for ${peer} is already attached`);
  }
}

/** A datapath was used after it was stopped. */
export class MemoryDatapathStoppedError extends WeaveError {
  /** The error's stable name: `'MemoryDatapathStoppedError'`. */
  override name = 'MemoryDatapathStoppedError';
  constructor() {
    super('memory datapath stopped');
  }
}

/** Counters of a {@link MemoryWire}. */
export interface MemoryWireStats {
  /** Frames handed to a remote datapath. */
  delivered: number;
  /** Frames lost (partition, loss, unhealthy link, too big, nobody listening). */
  dropped: number;
}

/** The shared medium the memory datapaths of one test talk over. */
export class MemoryWire {
  private readonly nodes = new Map<string, MemoryDatapath>();
  private readonly cuts = new Set<string>();
  private readonly random: Random;
  private loss = 0;
  /** Frames delivered and dropped on this wire so far. */
  readonly stats: MemoryWireStats = { delivered: 0, dropped: 0 };

  /** `random` decides datagram loss (default: a fixed seed). */
  constructor(options: { random?: Random } = {}) {
    this.random = options.random ?? new SeededRandom(1);
  }

  /** Loses everything between `a` and `b` (both directions) until {@link heal}. */
  partition(a: PeerName, b: PeerName): void {
    this.cuts.add(pairKey(a, b));
  }

  /** Restores every link. */
  heal(): void {
    this.cuts.clear();
  }

  /** Loses each frame batch and heartbeat with probability `rate` in [0, 1]. */
  setLoss(rate: number): void {
    this.loss = Math.min(1, Math.max(0, rate));
  }

  /** @internal */
  attach(dp: MemoryDatapath): void {
    const key = nodeKey(dp.name, dp.localPeer);
    if (this.nodes.has(key)) throw new MemoryWireConflictError(dp.name, dp.localPeer);
    this.nodes.set(key, dp);
  }

  /** @internal */
  detach(dp: MemoryDatapath): void {
    const key = nodeKey(dp.name, dp.localPeer);
    if (this.nodes.get(key) === dp) this.nodes.delete(key);
  }

  /** @internal The remote datapath, if a transmission from `from` to `to` gets through now. */
  reach(overlay: string, from: PeerName, to: PeerName): MemoryDatapath | undefined {
    const node = this.nodes.get(nodeKey(overlay, to));
    if (!node || this.cuts.has(pairKey(from, to))) return undefined;
    if (this.loss > 0 && this.random.float() < this.loss) return undefined;
    return node;
  }
}

const nodeKey = (overlay: string, peer: PeerName) => `${overlay} ${peer}`;
const pairKey = (a: PeerName, b: PeerName) => (a < b ? `${a} ${b}` : `${b} ${a}`);

/** Options of a {@link MemoryDatapath}. */
export interface MemoryDatapathOptions {
  /** The wire shared by the peers' datapaths. */
  readonly wire: MemoryWire;
  /** The peer this datapath belongs to. */
  readonly localPeer: PeerName;
  /** The overlay's name (`Overlays` feature, `name` attribute; default `memory`). */
  readonly name?: string;
  /** Largest Ethernet payload carried (default {@link MEMORY_DEFAULT_MTU}). */
  readonly mtu?: number;
  /** Times heartbeats (default: the system clock). */
  readonly clock?: Clock;
  /** Interval of the datapath heartbeats that confirm a connection (default {@link MEMORY_HEARTBEAT_MS}). */
  readonly heartbeatMs?: number;
}

/** The in-memory backend of one peer. */
export class MemoryDatapath implements NetworkOverlay {
  /** The overlay name (default `memory`). */
  readonly name: string;
  /** The peer this datapath belongs to. */
  readonly localPeer: PeerName;
  /** The MTU it reports for every connection. */
  readonly mtu: number;
  /** @internal */ readonly clock: Clock;
  /** @internal */ readonly heartbeatMs: number;
  /** @internal */ readonly wire: MemoryWire;
  /** How often routes / short IDs were invalidated (observable by tests). */
  readonly invalidations: {
    /** Calls of `invalidateRoutes()`. */
    routes: number;
    /** Calls of `invalidateShortIDs()`. */
    shortIds: number;
  } = { routes: 0, shortIds: 0 };
  private readonly connections = new Map<PeerName, MemoryConnection>();
  private readonly all = new Set<MemoryConnection>();
  private consumer: FrameConsumer | undefined;
  private stopped = false;

  constructor(options: MemoryDatapathOptions) {
    this.wire = options.wire;
    this.localPeer = options.localPeer;
    this.name = options.name ?? 'memory';
    this.mtu = options.mtu ?? MEMORY_DEFAULT_MTU;
    this.clock = options.clock ?? systemClock;
    this.heartbeatMs = options.heartbeatMs ?? MEMORY_HEARTBEAT_MS;
    this.wire.attach(this);
  }

  /** Appends our name to `Overlays` (an overlay switch sets the feature itself). */
  addFeaturesTo(features: Record<string, string>): void {
    const names = features.Overlays?.split(' ').filter((s) => s !== '') ?? [];
    if (!names.includes(this.name)) names.push(this.name);
    features.Overlays = names.join(' ');
  }

  /** @throws MemoryDatapathStoppedError */
  prepareConnection(params: OverlayConnectionParams): MemoryConnection {
    if (this.stopped) throw new MemoryDatapathStoppedError();
    const conn = new MemoryConnection(this, params);
    this.all.add(conn);
    return conn;
  }

  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], options?: ForwardOptions): ForwardResult {
    if (this.stopped) return 'stopped';
    const conn = this.connections.get(options?.via ?? key.dstPeer);
    if (!conn) return 'no-connection';
    return conn.forward(key, frames) ? 'forwarded' : 'no-forwarder';
  }

  /** The confirmed connection to `peer`, if any. */
  connectionTo(peer: PeerName): MemoryConnection | undefined {
    return this.connections.get(peer);
  }

  onFramesReceived(consumer: FrameConsumer): void {
    this.consumer = consumer;
  }

  invalidateRoutes(): void {
    this.invalidations.routes++;
  }

  invalidateShortIDs(): void {
    this.invalidations.shortIds++;
  }

  diagnostics(): {
    /** The overlay name. */
    name: string;
    /** The peer this datapath belongs to. */
    peer: PeerName;
    /** Every connection, with whether it is established. */
    connections: {
      /** The remote peer. */
      peer: PeerName;
      /** Whether heartbeats confirmed it. */
      established: boolean;
    }[];
  } {
    return {
      name: this.name,
      peer: this.localPeer,
      connections: [...this.all].map((c) => ({ peer: c.remotePeer, established: c.established })),
    };
  }

  /** Stops every connection and leaves the wire. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const conn of [...this.all]) conn.stop();
    this.wire.detach(this);
  }

  /** @internal */
  register(conn: MemoryConnection): void {
    this.connections.set(conn.remotePeer, conn);
  }

  /** @internal */
  unregister(conn: MemoryConnection): void {
    if (this.connections.get(conn.remotePeer) === conn) this.connections.delete(conn.remotePeer);
    this.all.delete(conn);
  }

  /** @internal A heartbeat from `from`'s connection `connUID`. */
  heartbeat(from: PeerName, connUID: bigint): void {
    const conn = this.connections.get(from);
    if (conn && !this.stopped && conn.connUID === connUID) conn.heartbeatReceived();
  }

  /** @internal Frames from `from`; dropped unless we have a live connection to it. */
  receive(from: PeerName, frames: OverlayFrame[]): void {
    if (this.stopped || !this.connections.has(from)) {
      this.wire.stats.dropped += frames.length;
      return;
    }
    this.wire.stats.delivered += frames.length;
    this.consumer?.(frames);
  }
}

/** One memory connection (forwarder) to one peer. */
export class MemoryConnection extends EventEmitter<OverlayConnectionEvents> implements DatapathConnection {
  /** The peer at the other end. */
  readonly remotePeer: PeerName;
  /** The connection uid shared with the remote's connection. */
  readonly connUID: bigint;
  /** Test switch: when true, `forward` declines every batch (returns false). */
  declineForwarding = false;
  private isEstablished = false;
  private confirmed = false;
  private stopped = false;
  private healthy = true;
  private acked = false;
  private heartbeatTimer: TimerHandle | undefined;
  private healthListener: HealthListener | undefined;

  constructor(
    private readonly dp: MemoryDatapath,
    private readonly params: OverlayConnectionParams,
  ) {
    super();
    this.remotePeer = params.remotePeer.name;
    this.connUID = params.connUID;
  }

  get established(): boolean {
    return this.isEstablished;
  }

  /** Whether the link currently works (see {@link setHealthy}). */
  get isHealthy(): boolean {
    return this.healthy;
  }

  confirm(): void {
    if (this.confirmed || this.stopped) return;
    this.confirmed = true;
    this.dp.register(this);
    this.scheduleHeartbeat();
  }

  forward(key: ForwardPacketKey, frames: readonly Uint8Array[]): boolean {
    if (this.stopped || this.declineForwarding) return false;
    const wire = this.dp.wire;
    const remote = this.healthy ? wire.reach(this.dp.name, this.dp.localPeer, this.remotePeer) : undefined;
    if (!remote) {
      wire.stats.dropped += frames.length;
      return true;
    }
    const batch: OverlayFrame[] = [];
    for (const frame of frames) {
      if (frame.length > this.dp.mtu + ETHERNET_HEADER_SIZE) wire.stats.dropped++;
      else batch.push({ src: key.srcPeer, dst: key.dstPeer, frame: frame.slice() });
    }
    if (batch.length > 0) {
      const from = this.dp.localPeer;
      queueMicrotask(() => remote.receive(from, batch));
    }
    return true;
  }

  controlMessage(tag: number, _msg: Uint8Array): void {
    if (!this.confirmed || this.stopped || tag !== MEMORY_HEARTBEAT_ACK || this.isEstablished) return;
    this.isEstablished = true;
    this.clearHeartbeat();
    this.emit('established');
  }

  attrs(): Readonly<Record<string, string | number | boolean>> {
    const attrs = { name: this.dp.name, mtu: this.dp.mtu };
    return this.params.sessionKey ? { ...attrs, encrypted: true } : attrs;
  }

  onHealthChange(listener: HealthListener): void {
    this.healthListener = listener;
  }

  /** Test hook: the link stops (frames lost, `healthy(false)`) or works again (`healthy(true)`). */
  setHealthy(healthy: boolean, reason: Error = new WeaveError('memory link down')): void {
    if (this.stopped || this.healthy === healthy) return;
    this.healthy = healthy;
    if (this.confirmed) this.healthListener?.(healthy, healthy ? undefined : reason);
  }

  /** Test hook: fails for good (`error` event) and stops. */
  fail(error: Error): void {
    if (this.stopped) return;
    const confirmed = this.confirmed;
    this.release();
    if (confirmed) this.emit('error', error);
    this.removeAllListeners();
  }

  stop(): void {
    this.release();
    this.removeAllListeners();
  }

  /** @internal */
  heartbeatReceived(): void {
    if (this.acked || this.stopped) return;
    this.acked = true;
    this.params.sendControlMessage(MEMORY_HEARTBEAT_ACK, new Uint8Array(0));
  }

  private release(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.healthListener = undefined;
    this.clearHeartbeat();
    this.dp.unregister(this);
  }

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = this.dp.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      if (this.stopped || this.isEstablished) return;
      if (this.healthy) {
        this.dp.wire
          .reach(this.dp.name, this.dp.localPeer, this.remotePeer)
          ?.heartbeat(this.dp.localPeer, this.connUID);
      }
      this.scheduleHeartbeat();
    }, this.dp.heartbeatMs);
  }

  private clearHeartbeat(): void {
    if (this.heartbeatTimer !== undefined) this.dp.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}
