import type { Endpoint } from '@weave-ts/core';

/** A MAC address as a 48-bit number (core's `MacKey`). */
type MacKey = number;

/**
 * What the fastdp control plane (overlay and forwarders, pure TypeScript) needs from the packet
 * side. The kernel implementation is {@link KernelDataplane} (VXLAN external mode + tc BPF); tests
 * may plug in an in-memory one.
 *
 * ```
 * sendTunnel(frames, tunnelId, to)  ─▶ VXLAN datagrams to `to` (DF)     (misses, heartbeats)
 * installSend / installDeliver      ─▶ kernel flows: later frames never reach TypeScript
 * flush()                           ─▶ every flow dropped at once
 * onMiss(batch)                     ◀─ tunnelled frames the kernel did not deliver itself
 * ```
 */

/** A frame that arrived through the tunnel and that the kernel handed to the control plane. */
export interface TunnelFrame {
  /** The outer IPv4 source (the sending peer's underlay address). */
  readonly remoteIp: string;
  /** The 24-bit VNI (`src | dst << 12`). */
  readonly tunnelId: number;
  /** The inner Ethernet frame; belongs to the receiver. */
  readonly frame: Uint8Array;
}

/** Receives a batch of tunnelled misses. */
export type TunnelFrameHandler = (frames: readonly TunnelFrame[]) => void;

/** A unicast flow from a local container, carried by the kernel from now on. */
export interface SendFlow {
  /** The local container's MAC. */
  readonly srcMac: MacKey;
  /** The remote MAC. */
  readonly dstMac: MacKey;
  /** The next hop's underlay IPv4 address. */
  readonly remoteIp: string;
  /** The VNI to send with (`src | dst << 12` of the forward key). */
  readonly tunnelId: number;
}

/** A unicast flow from a remote peer to a local container, delivered by the kernel from now on. */
export interface DeliverFlow {
  /** The short ID of the peer that captured the frames (low 12 bits of the VNI). */
  readonly srcShortId: number;
  /** The remote MAC. */
  readonly srcMac: MacKey;
  /** The local container's MAC. */
  readonly dstMac: MacKey;
}

/** What one {@link FastdpDataplane.sendTunnel} call did. */
export interface TunnelSendResult {
  /** Datagrams handed to the kernel. */
  readonly sent: number;
  /** The path MTU when a datagram was too big to go with DF. */
  readonly pmtu?: number;
}

/** Counters of the packet side. */
export interface DataplaneStats {
  /** Frames the kernel sent into the tunnel itself. */
  readonly kernelSent: number;
  /** Frames the kernel delivered to the bridge itself. */
  readonly kernelDelivered: number;
  /** Frames from local containers the kernel left to the router. */
  readonly missesOut: number;
  /** Tunnelled frames the kernel handed to the control plane. */
  readonly missesIn: number;
  /** Tunnel key or head-room failures. */
  readonly errors: number;
}

/** The packet side of fastdp. */
export interface FastdpDataplane {
  /** The datapath MTU (what heartbeats fill and `status connections` shows). */
  readonly mtu: number;
  /** The UDP port the tunnel listens on (control port + 1, 6784 by default). */
  readonly port: number;
  /** Names of the kernel objects, for diagnostics. */
  readonly devices: Readonly<Record<string, string>>;
  /** Installs the receiver of misses (replacing any earlier one). */
  onMiss(handler: TunnelFrameHandler): void;
  /** Sends frames through the tunnel to `to` with `tunnelId`, Don't Fragment set. */
  sendTunnel(frames: readonly Uint8Array[], tunnelId: number, to: Endpoint): TunnelSendResult;
  /** Tells the kernel our short ID (frames for another go to userspace) and drops every flow. */
  setLocalShortId(shortId: number): void;
  /** Adds or refreshes send flows (expiring after `ttlMs`). */
  installSend(flows: readonly SendFlow[], ttlMs: number): void;
  /** Adds or refreshes deliver flows (expiring after `ttlMs`). */
  installDeliver(flows: readonly DeliverFlow[], ttlMs: number): void;
  /** Drops every flow at once. */
  flush(): void;
  /** Flows installed since the last flush that have not expired. */
  flowCount(): number;
  /** Counters (kernel counters may lag a little: they are read on demand). */
  stats(): Promise<DataplaneStats>;
  /** Removes everything the dataplane created. Safe to call twice. */
  close(): Promise<void>;
}
