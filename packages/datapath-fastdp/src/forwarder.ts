import type {
  Clock,
  DatapathConnection,
  Endpoint,
  ForwardOptions,
  ForwardPacketKey,
  HealthListener,
  OverlayConnectionEvents,
  OverlayConnectionParams,
  PeerName,
  SendFlowOffer,
  TimerHandle,
} from '@weave-ts/core';
import { EventEmitter } from 'eventemitter3';
import { FastdpControlTag } from './constants.js';
import type { FastdpDataplane, SendFlow } from './dataplane.js';
import { VxlanHeartbeatTimeoutError } from './errors.js';
import { makeHeartbeatFrame } from './heartbeat.js';
import type { ShortIdDirectory } from './short-ids.js';
import { tunnelIdFor } from './tunnel-id.js';

/**
 * One fastdp connection to one peer (upstream `fastDatapathForwarder`), as a core
 * `DatapathConnection`.
 *
 * ```
 * confirm ─▶ heartbeat (14 + MTU bytes, through the tunnel) every 500 ms
 * heartbeat from the peer ─▶ ack over TCP (sub-tag 0), once; resets the 60 s timeout
 * ack from the peer ─▶ 'established', heartbeats every 10 s
 * no heartbeat for 60 s ─▶ health(false): the overlay switch falls back to sleeve; kernel flows dropped
 * next heartbeat ─▶ health(true): back on fastdp
 * ```
 * The outbound side sends to the TCP peer's IP on control port + 1 from the start; the inbound side
 * learns the peer's underlay IP from its first heartbeat.
 */

/** Timings of the heartbeat protocol (defaults: upstream's 500 ms, 10 s, 60 s). */
export interface HeartbeatTimings {
  /** Interval until the remote acknowledges a heartbeat (500 ms). */
  readonly fastMs: number;
  /** Interval once acknowledged (10 s). */
  readonly slowMs: number;
  /** Silence after which the forwarder is unhealthy (60 s); keep it above `slowMs`. */
  readonly timeoutMs: number;
}

/** What a forwarder needs from its overlay. */
export interface FastdpForwarderHost {
  /** The packet side. */
  readonly dataplane: FastdpDataplane;
  /** Short IDs for tunnel ids. */
  readonly shortIds: ShortIdDirectory;
  /** Timers. */
  readonly clock: Clock;
  /** Heartbeat timings. */
  readonly timings: HeartbeatTimings;
  /** Lifetime of installed send flows. */
  readonly flowTtlMs: number;
  /** Writes a log line. */
  log(message: string): void;
  /** The forwarder is confirmed: heartbeats from its peer go to it. */
  register(fwd: FastdpForwarder): void;
  /** The forwarder stopped. */
  unregister(fwd: FastdpForwarder): void;
  /** Kernel flows through this forwarder must stop (it went unhealthy). */
  flush(): void;
}

/** A forwarder's state for diagnostics. */
export interface FastdpForwarderStatus {
  /** The remote peer. */
  readonly peer: PeerName;
  /** Its tunnel address (`ip:port`), once known. */
  readonly remoteAddress?: string;
  /** Whether we dialled. */
  readonly outbound: boolean;
  /** Whether the remote acknowledged a heartbeat. */
  readonly established: boolean;
  /** Whether heartbeats arrive. */
  readonly healthy: boolean;
  /** Heartbeats sent. */
  readonly heartbeatsSent: number;
  /** Heartbeats received. */
  readonly heartbeatsReceived: number;
  /** Frames sent through the tunnel from userspace (misses, broadcasts, relays). */
  readonly framesSent: number;
}

/** The fastdp connection to one peer. Created by `FastdpOverlay.prepareConnection`. */
export class FastdpForwarder extends EventEmitter<OverlayConnectionEvents> implements DatapathConnection {
  /** The remote peer. */
  readonly remotePeer: PeerName;
  /** The connection UID both ends put in heartbeats. */
  readonly connUID: bigint;
  private remoteAddr: Endpoint | undefined;
  private readonly heartbeat: Uint8Array;
  private confirmed = false;
  private dead = false;
  private isEstablished = false;
  private healthy = true;
  private acked = false;
  private interval: number;
  private heartbeatTimer: TimerHandle | undefined;
  private timeoutTimer: TimerHandle | undefined;
  private healthListener: HealthListener | undefined;
  private heartbeatsSent = 0;
  private heartbeatsReceived = 0;
  private framesSent = 0;

  constructor(
    private readonly host: FastdpForwarderHost,
    private readonly params: OverlayConnectionParams,
  ) {
    super();
    this.remotePeer = params.remotePeer.name;
    this.connUID = BigInt.asUintN(64, params.connUID);
    this.heartbeat = makeHeartbeatFrame(this.connUID, host.dataplane.mtu);
    this.interval = host.timings.fastMs;
    if (params.outbound) this.remoteAddr = { host: params.remote.host, port: params.remote.port + 1 };
  }

  get established(): boolean {
    return this.isEstablished;
  }

  /** Whether heartbeats arrive (false after the timeout, until the next one). */
  get isHealthy(): boolean {
    return this.healthy;
  }

  /** The peer's tunnel address, once known. */
  get remoteAddress(): Endpoint | undefined {
    return this.remoteAddr;
  }

  confirm(): void {
    if (this.confirmed || this.dead) return;
    this.confirmed = true;
    this.host.register(this);
    if (this.remoteAddr) this.sendHeartbeat();
    this.armTimeout();
  }

  /**
   * Sends frames through the tunnel to this forwarder's peer, tagged `key.srcPeer | key.dstPeer << 12`.
   * Declines (false) when stopped or when either peer has no short ID; drops while the peer's
   * address is still unknown.
   */
  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], _options?: ForwardOptions): boolean {
    if (this.dead) return false;
    const tunnelId = this.tunnelIdOf(key);
    if (tunnelId === undefined) return false;
    if (!this.remoteAddr) return true;
    const result = this.host.dataplane.sendTunnel(frames, tunnelId, this.remoteAddr);
    this.framesSent += result.sent;
    if (result.pmtu !== undefined) this.log(`frame too big for path MTU ${result.pmtu}: dropped`);
    return true;
  }

  /** Installs kernel send flows for unicast flows the router just sent through this connection. */
  offerFlows(offers: readonly SendFlowOffer[]): void {
    if (this.dead || !this.isEstablished || !this.healthy || !this.remoteAddr) return;
    const flows: SendFlow[] = [];
    for (const { srcMac, dstMac, key } of offers) {
      const tunnelId = this.tunnelIdOf(key);
      if (tunnelId !== undefined) flows.push({ srcMac, dstMac, remoteIp: this.remoteAddr.host, tunnelId });
    }
    if (flows.length > 0) this.host.dataplane.installSend(flows, this.host.flowTtlMs);
  }

  /** Sub-tag 0: the peer received our heartbeat. Sub-tag 1 (IPsec SA) is not supported and ignored. */
  controlMessage(tag: number, _msg: Uint8Array): void {
    if (this.dead || !this.confirmed) return;
    if (tag === FastdpControlTag.HeartbeatAck) {
      if (this.isEstablished) return;
      this.isEstablished = true;
      this.interval = this.host.timings.slowMs;
      if (this.heartbeatTimer !== undefined) this.scheduleHeartbeat();
      this.emit('established');
    } else {
      this.log(`Ignoring unknown control message tag: ${tag}`);
    }
  }

  /** A valid heartbeat of this connection arrived through the tunnel from `remoteIp`. */
  handleHeartbeat(remoteIp: string): void {
    if (this.dead || !this.confirmed) return;
    this.heartbeatsReceived++;
    if (!this.remoteAddr) {
      this.remoteAddr = { host: remoteIp, port: this.host.dataplane.port };
      this.sendHeartbeat();
    } else if (this.remoteAddr.host !== remoteIp) {
      this.log(`Peer tunnel address changed to ${remoteIp}`);
      this.remoteAddr = { host: remoteIp, port: this.remoteAddr.port };
      this.host.flush();
    }
    if (!this.acked) {
      this.acked = true;
      try {
        this.params.sendControlMessage(FastdpControlTag.HeartbeatAck, new Uint8Array(0));
      } catch (error) {
        this.log(`sending heartbeat ack: ${(error as Error).message}`);
      }
    }
    this.armTimeout();
    if (!this.healthy) {
      this.healthy = true;
      this.log('heartbeats resumed: healthy again');
      this.healthListener?.(true);
    }
  }

  onHealthChange(listener: HealthListener): void {
    this.healthListener = listener;
  }

  attrs(): Readonly<Record<string, string | number | boolean>> {
    return { name: 'fastdp', mtu: this.host.dataplane.mtu };
  }

  /** State for diagnostics. */
  status(): FastdpForwarderStatus {
    return {
      peer: this.remotePeer,
      ...(this.remoteAddr ? { remoteAddress: `${this.remoteAddr.host}:${this.remoteAddr.port}` } : {}),
      outbound: this.params.outbound,
      established: this.isEstablished,
      healthy: this.healthy,
      heartbeatsSent: this.heartbeatsSent,
      heartbeatsReceived: this.heartbeatsReceived,
      framesSent: this.framesSent,
    };
  }

  stop(): void {
    if (this.dead) return;
    this.dead = true;
    this.clearTimers();
    this.host.unregister(this);
    this.healthListener = undefined;
    this.removeAllListeners();
  }

  private tunnelIdOf(key: ForwardPacketKey): number | undefined {
    const src = this.host.shortIds.shortIdOf(key.srcPeer);
    const dst = this.host.shortIds.shortIdOf(key.dstPeer);
    return src === undefined || dst === undefined ? undefined : tunnelIdFor(src, dst);
  }

  private log(message: string): void {
    const addr = this.remoteAddr ? `${this.remoteAddr.host}:${this.remoteAddr.port}` : '<nil>';
    this.host.log(`fastdp ->[${addr}|${this.remotePeer}(${this.params.remotePeer.nickname})]: ${message}`);
  }

  private sendHeartbeat(): void {
    this.scheduleHeartbeat();
    if (!this.remoteAddr) return;
    const theirs = this.host.shortIds.shortIdOf(this.remotePeer) ?? this.params.remotePeer.shortId ?? 0;
    const tunnelId = tunnelIdFor(this.host.shortIds.localShortId(), theirs);
    const result = this.host.dataplane.sendTunnel([this.heartbeat], tunnelId, this.remoteAddr);
    this.heartbeatsSent += result.sent;
    if (result.pmtu !== undefined) {
      this.log(`heartbeat of ${this.heartbeat.length} bytes does not fit the path MTU ${result.pmtu}`);
    }
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer !== undefined) this.host.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = this.host.clock.setTimeout(() => this.sendHeartbeat(), this.interval);
  }

  private armTimeout(): void {
    if (this.timeoutTimer !== undefined) this.host.clock.clearTimeout(this.timeoutTimer);
    this.timeoutTimer = this.host.clock.setTimeout(() => this.timedOut(), this.host.timings.timeoutMs);
  }

  private timedOut(): void {
    this.timeoutTimer = undefined;
    if (this.dead || !this.healthy) return;
    this.healthy = false;
    const error = new VxlanHeartbeatTimeoutError();
    this.log(`${error.message}: unhealthy`);
    this.host.flush();
    this.healthListener?.(false, error);
  }

  private clearTimers(): void {
    if (this.heartbeatTimer !== undefined) this.host.clock.clearTimeout(this.heartbeatTimer);
    if (this.timeoutTimer !== undefined) this.host.clock.clearTimeout(this.timeoutTimer);
    this.heartbeatTimer = undefined;
    this.timeoutTimer = undefined;
  }
}
