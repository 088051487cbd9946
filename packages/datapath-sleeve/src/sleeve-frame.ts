import type { PeerName } from '@weave-ts/core';

/** Receives log lines (upstream's wording, prefixed `sleeve ->[addr|peer]: `). */
export type SleeveLogger = (message: string) => void;

/** A frame carried by the sleeve, with the peers it travels between. */
export interface SleeveFrame {
  /** The peer that captured the frame. */
  readonly src: PeerName;
  /** The peer it is for (for broadcasts: the next hop it was sent to). */
  readonly dst: PeerName;
  /** The Ethernet frame; the receiver of a batch owns it. */
  readonly frame: Uint8Array;
}

/**
 * Receives frames that arrived over the sleeve for the local side (the L2 router in core plugs in
 * here): one call per received batch, never per frame. Special (control) frames are not passed on.
 * The receiver owns the batch and its buffers.
 */
export type FrameConsumer = (frames: readonly SleeveFrame[]) => void;
