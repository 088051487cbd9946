import { type Endpoint, peerNameToBytes, systemClock } from '@weave-ts/core';
import { HostAddonMissingError, NativeUdpSocket, SleeveFastPath, type Tap } from '@weave-ts/host';
import { sleeveSocketOverNative } from './native-udp-socket.js';
import { bindNodeDgramSocket, type NodeDgramSocketOptions } from './node-dgram-socket.js';
import { SleeveOverlay, type SleeveOverlayOptions } from './sleeve-overlay.js';
import { type SleeveSocket, sleeveSocketOverDatagram } from './sleeve-socket.js';

/** Options of {@link bindSleeveOverlay}. */
export interface BindSleeveOverlayOptions extends Omit<SleeveOverlayOptions, 'socket'> {
  /** Where to listen (default `0.0.0.0:6783`, Weave's port). */
  readonly local?: Endpoint;
  /**
   * Which UDP socket: `native` (our addon: real DF sends, path MTU from the kernel, recvmmsg/sendmmsg
   * batches), `dgram` (node:dgram: no DF, so DF sends are checked against `pathMtu`), or `auto`
   * (default): native when the addon is built, unless `pathMtu` is given.
   */
  readonly socket?: 'auto' | 'native' | 'dgram';
  /** With node:dgram, the underlay path MTU assumed for PMTU discovery (default 1500 ⇒ 1438 / 1414). */
  readonly pathMtu?: number;
  /** node:dgram socket buffer sizes and error sink. */
  readonly dgram?: NodeDgramSocketOptions;
  /**
   * The TAP the router's local port reads: with a native socket, established unicast flows then move
   * between it and the socket in the addon, with no JavaScript per frame (see `SleeveFastPath`).
   * Ignored on node:dgram.
   */
  readonly fastPathTap?: Tap;
}

interface BoundSocket {
  readonly socket: SleeveSocket;
  readonly native?: NativeUdpSocket;
}

async function bindSocket(options: BindSleeveOverlayOptions, local: Endpoint): Promise<BoundSocket> {
  const choice = options.socket ?? 'auto';
  if (choice === 'native' || (choice === 'auto' && options.pathMtu === undefined)) {
    try {
      const native = NativeUdpSocket.bind({ host: local.host, port: local.port });
      return { socket: sleeveSocketOverNative(native), native };
    } catch (error) {
      if (choice === 'native' || !(error instanceof HostAddonMissingError)) throw error;
    }
  }
  const socket = await bindNodeDgramSocket(local, options.dgram);
  return {
    socket: sleeveSocketOverDatagram(
      socket,
      options.pathMtu === undefined ? {} : { pathMtu: options.pathMtu },
    ),
  };
}

/** Binds a UDP socket (see {@link BindSleeveOverlayOptions.socket}) and returns a sleeve overlay on it. */
export async function bindSleeveOverlay(options: BindSleeveOverlayOptions): Promise<SleeveOverlay> {
  const { socket, native } = await bindSocket(options, options.local ?? { host: '0.0.0.0', port: 6783 });
  let offload: SleeveFastPath | undefined;
  if (native && options.fastPathTap) {
    offload = SleeveFastPath.create({ ourName: peerNameToBytes(options.localPeer) });
    offload.attach(options.fastPathTap, native);
  }
  return new SleeveOverlay({
    localPeer: options.localPeer,
    socket,
    clock: options.clock ?? systemClock,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(offload ? { offload } : {}),
  });
}
