import { type Endpoint, systemClock } from '@weave-ts/core';
import { bindNodeDgramSocket, type NodeDgramSocketOptions } from './node-dgram-socket.js';
import { SleeveOverlay, type SleeveOverlayOptions } from './sleeve-overlay.js';
import { sleeveSocketOverDatagram } from './sleeve-socket.js';

/** Options of {@link bindSleeveOverlay}. */
export interface BindSleeveOverlayOptions extends Omit<SleeveOverlayOptions, 'socket'> {
  /** Where to listen (default `0.0.0.0:6783`, Weave's port). */
  readonly local?: Endpoint;
  /** The underlay path MTU assumed for PMTU discovery (default 1500 ⇒ overlay MTU 1438 / 1414). */
  readonly pathMtu?: number;
  /** Socket buffer sizes and error sink. */
  readonly dgram?: NodeDgramSocketOptions;
}

/**
 * Binds a node:dgram socket and returns a sleeve overlay on it. node:dgram cannot set DF or read the
 * path MTU, so DF sends are checked against `pathMtu` instead of by the kernel.
 */
export async function bindSleeveOverlay(options: BindSleeveOverlayOptions): Promise<SleeveOverlay> {
  const socket = await bindNodeDgramSocket(options.local ?? { host: '0.0.0.0', port: 6783 }, options.dgram);
  return new SleeveOverlay({
    localPeer: options.localPeer,
    socket: sleeveSocketOverDatagram(
      socket,
      options.pathMtu === undefined ? {} : { pathMtu: options.pathMtu },
    ),
    clock: options.clock ?? systemClock,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
