import type { FastPathStats } from '@weave-ts/host';
import type { PeerName } from '@weave-ts/core';

/** Counters of a sleeve overlay, bumped by its receive path and its forwarders. */
export interface SleeveCounters {
  /** Datagrams shorter than a peer name. */
  shortDatagrams: number;
  /** Datagrams from peers without a confirmed forwarder. */
  unknownSender: number;
  /**
   * Data frames dropped because they came from another UDP address than the one the connection's
   * heartbeats established (a spoofed sender name, or a peer that moved and has not sent a heartbeat
   * from its new address yet). The native fast path hands such datagrams to JavaScript, which drops them.
   */
  wrongAddress: number;
  /** Datagrams (or their tails) that failed to decode or decrypt. */
  decodeErrors: number;
  /** Authentic encrypted datagrams dropped as duplicates or too old. */
  duplicates: number;
  /** Frames handed to the frame consumer. */
  framesReceived: number;
  /** Frames packed into datagrams. */
  framesSent: number;
  /** Datagrams handed to the socket. */
  datagramsSent: number;
  /** Frames dropped because the remote's UDP address is not known yet. */
  awaitingContact: number;
  /** Frames dropped as too big (DF broadcasts, frames beyond the datagram limit). */
  droppedTooBig: number;
  /** ICMP "fragmentation needed" replies synthesised. */
  icmpFragNeeded: number;
  /** Packets the sleeve fragmented itself. */
  fragmented: number;
}

/** Per-forwarder state shown in diagnostics. */
export interface SleeveForwarderStatus {
  /** The remote peer. */
  readonly peer: PeerName;
  /** The remote's UDP `ip:port`, once known. */
  readonly remoteAddress?: string;
  /** Whether we dialled the control connection. */
  readonly outbound: boolean;
  /** Whether heartbeats confirmed the path. */
  readonly established: boolean;
  /** The overlay MTU found by PMTU discovery. */
  readonly mtu: number;
  /** Whether the remote reassembles IP fragments (frames may go without DF). */
  readonly stackFrag: boolean;
  /** Whether the connection is encrypted. */
  readonly encrypted: boolean;
}

/** What `SleeveOverlay.diagnostics()` reports (for `/report`). */
export interface SleeveDiagnostics {
  /** This peer. */
  readonly localPeer: PeerName;
  /** The local UDP address. */
  readonly localAddress: string;
  /** One entry per remote peer. */
  readonly forwarders: readonly SleeveForwarderStatus[];
  /** Datagram counters of the whole overlay. */
  readonly counters: Readonly<SleeveCounters>;
  /** What the native fast path carried (frames it handled never reach `counters`). */
  readonly fastPath?: Readonly<FastPathStats>;
}

/** Fresh zeroed counters. */
export function newSleeveCounters(): SleeveCounters {
  return {
    shortDatagrams: 0,
    unknownSender: 0,
    wrongAddress: 0,
    decodeErrors: 0,
    duplicates: 0,
    framesReceived: 0,
    framesSent: 0,
    datagramsSent: 0,
    awaitingContact: 0,
    droppedTooBig: 0,
    icmpFragNeeded: 0,
    fragmented: 0,
  };
}
