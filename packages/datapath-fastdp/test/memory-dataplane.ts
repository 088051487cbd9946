// An in-memory FastdpDataplane for unit tests: dataplanes on one MemoryTunnel reach each other by
// underlay IP; the tunnel can be cut (as a firewall dropping UDP 6784 would); calls are recorded.
import type { Endpoint } from '@weave-ts/core';
import type {
  DataplaneStats,
  DeliverFlow,
  FastdpDataplane,
  SendFlow,
  TunnelFrame,
  TunnelFrameHandler,
  TunnelSendResult,
} from '../src/index.js';

/** The shared underlay. */
export class MemoryTunnel {
  readonly planes = new Map<string, MemoryDataplane>();
  /** While true every datagram is dropped. */
  blocked = false;
  /** Every datagram sent, in order. */
  readonly sent: { from: string; to: Endpoint; tunnelId: number; frame: Uint8Array }[] = [];
}

/** One host's dataplane on a {@link MemoryTunnel}. */
export class MemoryDataplane implements FastdpDataplane {
  readonly port = 6784;
  readonly devices = { vxlan: 'memory' };
  readonly sendFlows: SendFlow[] = [];
  readonly deliverFlows: DeliverFlow[] = [];
  flushes = 0;
  localShortId: number | undefined;
  closed = false;
  private handler: TunnelFrameHandler | undefined;

  constructor(
    private readonly tunnel: MemoryTunnel,
    readonly ip: string,
    readonly mtu = 1376,
  ) {
    tunnel.planes.set(ip, this);
  }

  onMiss(handler: TunnelFrameHandler): void {
    this.handler = handler;
  }

  sendTunnel(frames: readonly Uint8Array[], tunnelId: number, to: Endpoint): TunnelSendResult {
    for (const frame of frames) this.tunnel.sent.push({ from: this.ip, to, tunnelId, frame: frame.slice() });
    const target = this.tunnel.planes.get(to.host);
    if (!this.tunnel.blocked && target && to.port === target.port) {
      target.receive(frames.map((f) => ({ remoteIp: this.ip, tunnelId, frame: f.slice() })));
    }
    return { sent: frames.length };
  }

  /** Hands frames to the overlay as kernel misses. */
  receive(frames: readonly TunnelFrame[]): void {
    if (!this.closed) this.handler?.(frames);
  }

  setLocalShortId(shortId: number): void {
    this.localShortId = shortId;
    this.flush();
  }

  installSend(flows: readonly SendFlow[]): void {
    this.sendFlows.push(...flows);
  }

  installDeliver(flows: readonly DeliverFlow[]): void {
    this.deliverFlows.push(...flows);
  }

  flush(): void {
    this.flushes++;
    this.sendFlows.length = 0;
    this.deliverFlows.length = 0;
  }

  flowCount(): number {
    return this.sendFlows.length + this.deliverFlows.length;
  }

  async stats(): Promise<DataplaneStats> {
    return { kernelSent: 0, kernelDelivered: 0, missesOut: 0, missesIn: 0, errors: 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.tunnel.planes.delete(this.ip);
  }
}
