import type { ForwardPacketKey, OverlayFrame } from '@weave-ts/core';
import {
  ETHERNET_OVERHEAD,
  MAX_FRAMES_PER_DATAGRAM,
  MAX_UDP_PACKET_SIZE,
  UDP_OVERHEAD,
} from './constants.js';
import { fragmentIpv4 } from './fragment.js';
import type { SleeveCrypto } from './frame-crypto.js';
import { makeIcmpFragNeeded } from './icmp.js';
import { ipv4DontFragment, ipv4HeaderLength } from './ipv4.js';
import type { SleeveCounters } from './sleeve-diagnostics.js';
import type { FrameEncoder } from './sleeve-packet.js';

const NON_DF_LIMIT = MAX_UDP_PACKET_SIZE - UDP_OVERHEAD;

/** One path's encoder and the datagrams sealed but not yet sent. */
interface OutPath {
  readonly df: boolean;
  readonly encoder: FrameEncoder;
  sealed: Uint8Array[][];
}

/** The forwarder's path state that decides how one call's frames are sent. */
export interface PackLimits {
  /** The overlay MTU now. */
  readonly mtu: number;
  /** The largest DF datagram payload now. */
  readonly maxPayload: number;
  /** The remote's stack reassembles fragments, so everything may go non-DF. */
  readonly stackFrag: boolean;
  /** Too-big DF frames are dropped rather than answered with ICMP. */
  readonly broadcast: boolean;
}

/**
 * The send path of a sleeve forwarder: sorts outgoing frames onto the DF or non-DF path (fragmenting,
 * or answering with ICMP "fragmentation needed", where a frame does not fit) and packs each path's
 * frames into datagrams of up to 100 frames within that path's payload limit.
 */
export class FramePacker {
  private readonly outDF: OutPath;
  private readonly outNonDF: OutPath;

  constructor(
    crypto: SleeveCrypto,
    private readonly counters: SleeveCounters,
    private readonly log: (message: string) => void,
  ) {
    this.outDF = { df: true, encoder: crypto.encoderDF, sealed: [] };
    this.outNonDF = { df: false, encoder: crypto.encoder, sealed: [] };
  }

  /**
   * Packs `frames` (from `key.srcPeer`, named `srcName`, to `key.dstPeer`, named `dstName`) into
   * datagrams, without sending them. Returns the ICMP replies to deliver locally.
   */
  pack(
    key: ForwardPacketKey,
    srcName: Uint8Array,
    dstName: Uint8Array,
    frames: readonly Uint8Array[],
    limits: PackLimits,
  ): OverlayFrame[] {
    const { mtu, maxPayload } = limits;
    const replies: OverlayFrame[] = [];
    for (const frame of frames) {
      const ipHeader = ipv4HeaderLength(frame);
      const fits = frame.length <= mtu + ETHERNET_OVERHEAD;
      if (ipHeader > 0 && ipv4DontFragment(frame)) {
        if (fits) {
          this.append(this.outDF, srcName, dstName, frame, maxPayload);
        } else if (limits.broadcast) {
          this.counters.droppedTooBig++;
          this.log(`dropping too big DF broadcast frame (${ipv4Addresses(frame)}): MTU=${mtu}`);
        } else {
          const reply = makeIcmpFragNeeded(frame, mtu);
          if (reply) {
            this.counters.icmpFragNeeded++;
            replies.push({ src: key.dstPeer, dst: key.srcPeer, frame: reply });
          }
        }
      } else if (limits.stackFrag || ipHeader === 0) {
        this.append(this.outNonDF, srcName, dstName, frame, maxPayload);
      } else if (fits) {
        this.append(this.outDF, srcName, dstName, frame, maxPayload);
      } else {
        const pieces = fragmentIpv4(frame, mtu);
        if (!pieces) {
          this.counters.droppedTooBig++;
          this.log(`cannot fragment frame of ${frame.length} bytes for MTU ${mtu}`);
          continue;
        }
        this.counters.fragmented++;
        for (const piece of pieces) this.append(this.outDF, srcName, dstName, piece, maxPayload);
      }
    }
    return replies;
  }

  /** Seals what is packed and hands each path's datagrams to `transmit`: the non-DF path first. */
  flush(transmit: (datagrams: Uint8Array[][], df: boolean) => void): void {
    this.flushPath(this.outNonDF, transmit);
    this.flushPath(this.outDF, transmit);
  }

  // Packs one frame, sealing the datagram in progress first if the frame would not fit in it.
  private append(
    path: OutPath,
    src: Uint8Array,
    dst: Uint8Array,
    frame: Uint8Array,
    maxPayload: number,
  ): void {
    const encoder = path.encoder;
    if (
      encoder.frameCount > 0 &&
      (encoder.frameCount >= MAX_FRAMES_PER_DATAGRAM || !encoder.fits(frame.length, maxPayload))
    ) {
      path.sealed.push([encoder.seal()]);
    }
    const limit = path.df ? maxPayload : NON_DF_LIMIT;
    if (encoder.frameCount === 0 && !encoder.fits(frame.length, limit)) {
      this.counters.droppedTooBig++;
      this.log(`Dropping too big frame during forwarding: frame len ${frame.length}, limit ${limit}`);
      return;
    }
    encoder.append(src, dst, frame);
    this.counters.framesSent++;
  }

  private flushPath(path: OutPath, transmit: (datagrams: Uint8Array[][], df: boolean) => void): void {
    if (path.encoder.frameCount > 0) path.sealed.push([path.encoder.seal()]);
    if (path.sealed.length === 0) return;
    const datagrams = path.sealed;
    path.sealed = [];
    transmit(datagrams, path.df);
  }
}

function ipv4Addresses(frame: Uint8Array): string {
  const ip = (offset: number) => Array.from(frame.subarray(offset, offset + 4)).join('.');
  return `${ip(ETHERNET_OVERHEAD + 12)} -> ${ip(ETHERNET_OVERHEAD + 16)}`;
}
