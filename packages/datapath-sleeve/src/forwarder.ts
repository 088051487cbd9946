import type {
  Clock,
  DatapathConnection,
  Endpoint,
  ForwardOptions,
  ForwardPacketKey,
  OverlayConnectionEvents,
  OverlayConnectionParams,
  OverlayFrame,
  PeerName,
  SendFlowOffer,
  TimerHandle,
} from '@weave-ts/core';
import { EventEmitter } from 'eventemitter3';
import {
  DEFAULT_MTU,
  ETHERNET_OVERHEAD,
  FAST_HEARTBEAT_MS,
  FRAG_TEST_INTERVAL_MS,
  FRAG_TEST_SIZE,
  FRAME_OVERHEAD,
  HEARTBEAT_TIMEOUT_MS,
  PMTU_DISCOVERY_SIZE,
  SLOW_HEARTBEAT_MS,
  SleeveControlTag,
  UDP_OVERHEAD,
} from './constants.js';
import { HeartbeatTimeoutError } from './errors.js';
import { createSleeveCrypto, type FrameDecryptor, type SleeveCrypto } from './frame-crypto.js';
import { FramePacker } from './frame-packer.js';
import { PmtuSearch } from './pmtu-search.js';
import type { SleeveCounters, SleeveForwarderStatus } from './sleeve-diagnostics.js';
import type { SleeveLogger } from './sleeve-logger.js';
import type { OffloadConnection, SleeveOffload } from './sleeve-offload.js';
import type { MessageTooBig, SleeveSocket } from './sleeve-socket.js';
import {
  heartbeatConnUID,
  isAllZero,
  makeHeartbeatFrame,
  makePmtuTestFrame,
  specialFrameKind,
} from './special-frames.js';

/**
 * One sleeve connection to one peer (upstream `sleeveForwarder`), as a core `DatapathConnection`.
 *
 * ```
 * confirm ─▶ heartbeats every 500 ms (DF) ──▶ peer answers tag 1 over TCP ──▶ 'established',
 *            heartbeats every 10 s, frag test (non-DF, every 5 min), 60000-byte DF probe
 * EMSGSIZE(pmtu) ─▶ candidate = pmtu − overhead ─▶ test frames (10 ms << attempt, 8 attempts)
 *            ─▶ peer answers tag 3 ─▶ binary search [552, lowest bad] ─▶ "Effective MTU verified at N"
 * no heartbeat for 60 s ─▶ 'error' (timed out waiting for UDP heartbeat)
 * ```
 *
 * The outbound side sends to the TCP peer's IP:port from the start; the inbound side learns the
 * address from the first heartbeat and follows it when it changes. Outgoing frames are packed per
 * call of {@link forward}: up to 100 per datagram, within the path's payload limit.
 */

/** What a forwarder needs from its overlay. */
export interface ForwarderHost {
  readonly localName: Uint8Array;
  readonly clock: Clock;
  readonly log: SleeveLogger;
  readonly socket: SleeveSocket;
  readonly counters: SleeveCounters;
  /** Native code that may carry established flows (and then holds the NaCl state). */
  readonly offload: SleeveOffload | undefined;
  /** The 6 bytes of a name (cached). */
  nameBytes(name: PeerName): Uint8Array;
  /** Routes incoming datagrams from the forwarder's peer to it (on confirm). */
  register(forwarder: SleeveForwarder): void;
  unregister(forwarder: SleeveForwarder): void;
  /** Injects frames locally (ICMP replies) as if they had arrived from the overlay. */
  deliverLocal(frames: readonly OverlayFrame[]): void;
}

type TimerName = 'heartbeat' | 'heartbeatTimeout' | 'fragTest' | 'mtuTest';

const EMPTY = new Uint8Array(0);
let fragTestFrame: Uint8Array | undefined;
let pmtuDiscoveryFrame: Uint8Array | undefined;

/** The sleeve connection to one peer. Created by `SleeveOverlay.prepareConnection`. */
export class SleeveForwarder extends EventEmitter<OverlayConnectionEvents> implements DatapathConnection {
  /** The peer at the other end. */
  readonly remotePeer: PeerName;
  /** The remote's 6-byte name. */
  readonly remoteName: Uint8Array;
  /** Decrypts datagrams from the remote (used by the overlay's receive path). */
  readonly decryptor: FrameDecryptor;
  private readonly crypto: SleeveCrypto;
  private readonly offloaded: OffloadConnection | undefined;
  private readonly packer: FramePacker;
  private readonly heartbeatFrame: Uint8Array;
  private readonly connUID: bigint;
  private readonly overheadDF: number;
  private remoteAddr: Endpoint | undefined;
  private currentMtu = DEFAULT_MTU;
  private maxPayload = DEFAULT_MTU - UDP_OVERHEAD;
  private stackFrag = false;
  private confirmed = false;
  private heartbeatInterval = 0;
  private ackedHeartbeat = false;
  private isEstablished = false;
  private dead = false;
  private readonly timers = new Map<TimerName, TimerHandle>();
  private readonly pmtu = new PmtuSearch({
    sendTest: (mtu) => this.sendSpecial(true, makePmtuTestFrame(mtu)),
    setTimer: (ms, fn) => this.setTimer('mtuTest', ms, fn),
    clearTimer: () => this.clearTimer('mtuTest'),
    verified: (mtu) => {
      this.log(`Effective MTU verified at ${mtu}`);
      this.maxPayload = mtu + this.overheadDF - UDP_OVERHEAD;
      this.currentMtu = mtu;
      this.syncOffload();
    },
  });

  /** @internal Created by `SleeveOverlay.prepareConnection`. */
  constructor(
    private readonly host: ForwarderHost,
    private readonly params: OverlayConnectionParams,
  ) {
    super();
    this.remotePeer = params.remotePeer.name;
    this.remoteName = host.nameBytes(this.remotePeer);
    this.connUID = BigInt.asUintN(64, params.connUID);
    this.offloaded = host.offload?.addConnection(this.remoteName, params.sessionKey, params.outbound);
    this.crypto = createSleeveCrypto(host.localName, params.sessionKey, params.outbound, this.offloaded);
    this.decryptor = this.crypto.decryptor;
    this.packer = new FramePacker(this.crypto, host.counters, (message) => this.log(message));
    this.overheadDF =
      UDP_OVERHEAD + this.crypto.encoderDF.packetOverhead + FRAME_OVERHEAD + ETHERNET_OVERHEAD;
    this.heartbeatFrame = makeHeartbeatFrame(this.connUID);
    if (params.outbound) this.remoteAddr = { host: params.remote.host, port: params.remote.port };
  }

  get established(): boolean {
    return this.isEstablished;
  }

  /** The overlay MTU: 65535 until PMTU discovery, then the verified value. */
  get mtu(): number {
    return this.currentMtu;
  }

  /** The remote's UDP address, once known. */
  get remoteAddress(): Endpoint | undefined {
    return this.remoteAddr;
  }

  confirm(): void {
    if (this.confirmed || this.dead) return;
    this.confirmed = true;
    this.host.register(this);
    this.heartbeatInterval = FAST_HEARTBEAT_MS;
    if (this.remoteAddr) this.sendHeartbeat();
    this.setTimer('heartbeatTimeout', HEARTBEAT_TIMEOUT_MS, () => this.fail(new HeartbeatTimeoutError()));
  }

  /**
   * Sends `frames` (Ethernet frames captured at `key.srcPeer`, for `key.dstPeer`) to this forwarder's
   * peer, deciding per frame between the DF path, the non-DF path, fragmenting, or answering with ICMP
   * "fragmentation needed" (delivered locally as coming from `key.dstPeer`); with `options.broadcast`
   * too-big DF frames are dropped, not answered. Frames are copied; the caller keeps its buffers.
   * Returns false once the forwarder is dead; while the remote's UDP address is still unknown the
   * frames are dropped (counted as `awaitingContact`) and it still returns true, as upstream does.
   */
  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], options?: ForwardOptions): boolean {
    if (this.dead) return false;
    if (!this.remoteAddr) {
      this.host.counters.awaitingContact += frames.length;
      this.log('Cannot forward frame yet - awaiting contact');
      return true;
    }
    const srcName = this.host.nameBytes(key.srcPeer);
    const dstName = this.host.nameBytes(key.dstPeer);
    const replies = this.packer.pack(key, srcName, dstName, frames, {
      mtu: this.currentMtu,
      maxPayload: this.maxPayload,
      stackFrag: this.stackFrag,
      broadcast: options?.broadcast ?? false,
    });
    this.packer.flush((datagrams, df) => this.transmit(datagrams, df));
    // After the flush, so a consumer that forwards again starts from empty encoders.
    if (replies.length > 0) this.host.deliverLocal(replies);
    return true;
  }

  /** A control message (sub-tag 1..3) from the remote's forwarder; ignored before `confirm()`. */
  controlMessage(tag: number, msg: Uint8Array): void {
    if (this.dead || !this.confirmed) return;
    switch (tag) {
      case SleeveControlTag.ConnectionEstablished:
        this.handleHeartbeatAck();
        break;
      case SleeveControlTag.FragmentationReceived:
        this.stackFrag = true;
        this.syncOffload();
        break;
      case SleeveControlTag.PMTUVerified:
        if (msg.length < 2) this.log('Received truncated MTUTestAck');
        else this.pmtu.acknowledged((msg[0]! << 8) | msg[1]!);
        break;
      default:
        this.log(`Ignoring unknown control message tag: ${tag}`);
    }
  }

  /** A special frame from the remote peer to us, arriving from UDP address `from`. */
  handleSpecialFrame(from: Endpoint, frame: Uint8Array): void {
    if (this.dead) return;
    switch (specialFrameKind(frame)) {
      case 'heartbeat':
        this.handleHeartbeat(from, frame);
        break;
      case 'frag-test':
        if (isAllZero(frame)) this.sendControl(SleeveControlTag.FragmentationReceived, EMPTY);
        break;
      case 'pmtu-test': {
        const mtu = (frame.length - ETHERNET_OVERHEAD) & 0xffff;
        this.sendControl(SleeveControlTag.PMTUVerified, Uint8Array.of(mtu >>> 8, mtu & 0xff));
        break;
      }
    }
  }

  /** Flows the L2 forwarder sent through this connection: native code may carry them from now on. */
  offerFlows(offers: readonly SendFlowOffer[]): void {
    if (!this.offloaded || !this.isEstablished || this.dead) return;
    for (const { srcMac, dstMac, key } of offers) {
      this.offloaded.offerSend(srcMac, dstMac, this.host.nameBytes(key.dstPeer));
    }
  }

  attrs(): Readonly<Record<string, string | number | boolean>> {
    return this.crypto.encrypted
      ? { name: 'sleeve', mtu: this.currentMtu, encrypted: true }
      : { name: 'sleeve', mtu: this.currentMtu };
  }

  /** State for diagnostics. */
  status(): SleeveForwarderStatus {
    return {
      peer: this.remotePeer,
      ...(this.remoteAddr ? { remoteAddress: endpointString(this.remoteAddr) } : {}),
      outbound: this.params.outbound,
      established: this.isEstablished,
      mtu: this.currentMtu,
      stackFrag: this.stackFrag,
      encrypted: this.crypto.encrypted,
    };
  }

  stop(): void {
    this.shutDown();
    this.removeAllListeners();
  }

  /** The log prefix for traffic from `addr`, as upstream writes it. */
  logPrefixFor(addr: Endpoint | undefined): string {
    const peer = `${this.remotePeer}(${this.params.remotePeer.nickname})`;
    return `sleeve ->[${addr ? endpointString(addr) : '<nil>'}|${peer}]: `;
  }

  private log(message: string): void {
    this.host.log(this.logPrefixFor(this.remoteAddr) + message);
  }

  private fail(error: Error): void {
    if (this.dead) return;
    this.shutDown();
    this.emit('error', error);
  }

  private shutDown(): void {
    this.dead = true;
    this.offloaded?.remove();
    for (const handle of this.timers.values()) this.host.clock.clearTimeout(handle);
    this.timers.clear();
    this.host.unregister(this);
  }

  /** Tells native code what it needs to carry this connection's frames as JS would. */
  private syncOffload(): void {
    this.offloaded?.set({
      enabled: this.isEstablished && !this.dead,
      remote: this.remoteAddr,
      mtu: this.currentMtu,
      maxPayload: this.maxPayload,
      stackFrag: this.stackFrag,
    });
  }

  private setTimer(name: TimerName, ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers.set(
      name,
      this.host.clock.setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  private clearTimer(name: TimerName): void {
    const handle = this.timers.get(name);
    if (handle === undefined) return;
    this.host.clock.clearTimeout(handle);
    this.timers.delete(name);
  }

  private sendControl(tag: SleeveControlTag, msg: Uint8Array): void {
    try {
      this.params.sendControlMessage(tag, msg);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private sendSpecial(df: boolean, frame: Uint8Array): void {
    if (!this.remoteAddr) return;
    const encoder = df ? this.crypto.encoderDF : this.crypto.encoder;
    encoder.append(this.host.localName, this.remoteName, frame);
    this.transmit([[encoder.seal()]], df);
  }

  private transmit(datagrams: Uint8Array[][], df: boolean): void {
    if (!this.remoteAddr) return;
    this.host.counters.datagramsSent += datagrams.length;
    const tooBig: MessageTooBig | undefined = this.host.socket.send(datagrams, this.remoteAddr, { df });
    if (tooBig) this.onMessageTooBig(tooBig.pmtu);
  }

  private sendHeartbeat(): void {
    // Re-armed on every send: the interval changes once the connection is established.
    this.setTimer('heartbeat', this.heartbeatInterval, () => this.sendHeartbeat());
    this.sendSpecial(true, this.heartbeatFrame);
  }

  private handleHeartbeat(from: Endpoint, frame: Uint8Array): void {
    if (heartbeatConnUID(frame) !== this.connUID) return;
    if (!this.remoteAddr) {
      this.remoteAddr = { host: from.host, port: from.port };
      this.syncOffload();
      if (this.heartbeatInterval !== 0) this.sendHeartbeat();
    } else if (this.remoteAddr.host !== from.host || this.remoteAddr.port !== from.port) {
      this.log(`Peer UDP address changed to ${endpointString(from)}`);
      this.remoteAddr = { host: from.host, port: from.port };
      this.syncOffload();
    }
    if (!this.ackedHeartbeat) {
      this.ackedHeartbeat = true;
      this.sendControl(SleeveControlTag.ConnectionEstablished, EMPTY);
    }
    if (this.timers.has('heartbeatTimeout')) {
      this.setTimer('heartbeatTimeout', HEARTBEAT_TIMEOUT_MS, () => this.fail(new HeartbeatTimeoutError()));
    }
  }

  private handleHeartbeatAck(): void {
    if (this.heartbeatInterval !== SLOW_HEARTBEAT_MS) {
      this.heartbeatInterval = SLOW_HEARTBEAT_MS;
      if (this.timers.has('heartbeat'))
        this.setTimer('heartbeat', SLOW_HEARTBEAT_MS, () => this.sendHeartbeat());
      this.isEstablished = true;
      this.syncOffload();
      this.emit('established');
      if (this.dead) return;
    }
    this.scheduleFragTest();
    this.sendFragTest();
    // Far bigger than any path MTU: the EMSGSIZE it provokes starts PMTU discovery.
    pmtuDiscoveryFrame ??= new Uint8Array(PMTU_DISCOVERY_SIZE);
    this.sendSpecial(true, pmtuDiscoveryFrame);
  }

  private scheduleFragTest(): void {
    this.setTimer('fragTest', FRAG_TEST_INTERVAL_MS, () => {
      this.scheduleFragTest();
      this.sendFragTest();
    });
  }

  private sendFragTest(): void {
    this.stackFrag = false;
    this.syncOffload();
    fragTestFrame ??= new Uint8Array(FRAG_TEST_SIZE);
    this.sendSpecial(false, fragTestFrame);
  }

  private onMessageTooBig(pmtu: number): void {
    const mtu = pmtu - this.overheadDF;
    if (!this.pmtu.accepts(mtu)) return;
    if (mtu <= 0) {
      this.log(`ignoring path MTU ${pmtu}: too small for the sleeve overhead`);
      return;
    }
    this.maxPayload = pmtu - UDP_OVERHEAD;
    this.currentMtu = mtu;
    this.syncOffload();
    this.pmtu.start(mtu);
  }
}

/** `host:port` as logs show it. */
export function endpointString(endpoint: Endpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}
