import { ETHERNET_OVERHEAD, FRAG_TEST_SIZE } from './constants.js';

/**
 * "Special" frames: control traffic a forwarder sends to its peer over UDP itself. They look like
 * Ethernet frames whose first 14 bytes (both MACs and the type/length field) are zero, and are told
 * apart by length alone:
 *
 * | length          | meaning                                   |
 * |-----------------|-------------------------------------------|
 * | 14 + 8          | heartbeat; bytes 14..21 = connUID BE      |
 * | 60001           | fragmentation test (all zero)             |
 * | anything else   | PMTU test for overlay MTU `length − 14`   |
 */

/** Length of a heartbeat frame. */
export const HEARTBEAT_FRAME_SIZE = ETHERNET_OVERHEAD + 8;

/** What a special frame is for. */
export type SpecialFrameKind = 'heartbeat' | 'frag-test' | 'pmtu-test';

/** Whether `frame` is special: at least an Ethernet header long, and that header all zero. */
export function isSpecialFrame(frame: Uint8Array): boolean {
  if (frame.length < ETHERNET_OVERHEAD) return false;
  for (let i = 0; i < ETHERNET_OVERHEAD; i++) if (frame[i] !== 0) return false;
  return true;
}

/** Classifies a special frame by its length. */
export function specialFrameKind(frame: Uint8Array): SpecialFrameKind {
  if (frame.length === HEARTBEAT_FRAME_SIZE) return 'heartbeat';
  if (frame.length === FRAG_TEST_SIZE) return 'frag-test';
  return 'pmtu-test';
}

/** A heartbeat carrying the connection's uid (both ends know it, so stray heartbeats are ignored). */
export function makeHeartbeatFrame(connUID: bigint): Uint8Array {
  const frame = new Uint8Array(HEARTBEAT_FRAME_SIZE);
  new DataView(frame.buffer).setBigUint64(ETHERNET_OVERHEAD, BigInt.asUintN(64, connUID));
  return frame;
}

/** The connUID in a heartbeat frame. */
export function heartbeatConnUID(frame: Uint8Array): bigint {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getBigUint64(ETHERNET_OVERHEAD);
}

/** The test frame for overlay MTU `mtu`: `mtu + 14` zero bytes. */
export function makePmtuTestFrame(mtu: number): Uint8Array {
  return new Uint8Array(mtu + ETHERNET_OVERHEAD);
}

/** Whether every byte of `frame` is zero (a fragmentation test frame must be). */
export function isAllZero(frame: Uint8Array): boolean {
  for (let i = 0; i < frame.length; i++) if (frame[i] !== 0) return false;
  return true;
}
