import type { Clock, Endpoint, Logger, PeerName } from '@weave-ts/core';
import { FASTDP_DEFAULT_MTU } from './constants.js';
import { FastdpOverlay } from './fastdp-overlay.js';
import type { HeartbeatTimings } from './forwarder.js';
import { KernelDataplane } from './kernel-dataplane.js';
import type { ShortIdDirectory } from './short-ids.js';

/** Options of {@link bindFastdpOverlay}. */
export interface BindFastdpOverlayOptions {
  /** Our peer name. */
  readonly localPeer: PeerName;
  /** Short IDs (e.g. `shortIdsOfRouter(router)`, read lazily, so the router may be built after). */
  readonly shortIds: ShortIdDirectory;
  /**
   * The router's control address: the tunnel uses UDP `port + 1` (6784 for Weave's 6783), and
   * tunnel datagrams from userspace leave from `host`.
   */
  readonly local: Endpoint;
  /** The TAP the router's local port reads, attached to the bridge (e.g. `vethwe-tap`). */
  readonly portDevice: string;
  /** Datapath MTU (default 1376); the bridge and containers should use it too. */
  readonly mtu?: number;
  /** Where log lines go (default nowhere). */
  readonly logger?: Logger;
  /** Timers (default the system clock). */
  readonly clock?: Clock;
  /** Heartbeat timings (defaults upstream's); shorter only for tests. */
  readonly heartbeat?: Partial<HeartbeatTimings>;
  /** Lifetime of a kernel flow between two frames the router sees (default 10 s). */
  readonly flowTtlMs?: number;
  /** bpffs mount for the pins (default `/sys/fs/bpf` when mounted, else `/run/weave-ts/bpffs`). */
  readonly bpffs?: string;
}

/**
 * Sets up the kernel side (VXLAN `vxlan-<port+1>` in external mode, tc BPF on `portDevice`, a miss
 * TAP) and returns the fastdp overlay on it. Anything a crashed earlier run left is replaced.
 * @throws FastdpUnavailableError when the kernel or tools lack something (run `probeFastdp` first
 *   to decide without trying)
 */
export async function bindFastdpOverlay(options: BindFastdpOverlayOptions): Promise<FastdpOverlay> {
  const dataplane = await KernelDataplane.create({
    portDevice: options.portDevice,
    localHost: options.local.host,
    port: options.local.port + 1,
    mtu: options.mtu ?? FASTDP_DEFAULT_MTU,
    ...(options.bpffs ? { bpffs: options.bpffs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  try {
    return new FastdpOverlay({
      localPeer: options.localPeer,
      dataplane,
      shortIds: options.shortIds,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.heartbeat ? { heartbeat: options.heartbeat } : {}),
      ...(options.flowTtlMs !== undefined ? { flowTtlMs: options.flowTtlMs } : {}),
    });
  } catch (error) {
    await dataplane.close();
    throw error;
  }
}
