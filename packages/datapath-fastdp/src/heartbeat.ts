import { ETHERNET_OVERHEAD } from './constants.js';

/**
 * Fastdp heartbeats (upstream `sendHeartbeat` / `handleVxlanSpecialPacket`): an Ethernet frame of
 * `14 + mtu` bytes whose header is all zero, sent through the tunnel, so a heartbeat that arrives
 * also proves that a full-MTU VXLAN packet gets through.
 *
 * ```
 * offset 0   14 zero bytes (dst MAC, src MAC, type)
 * offset 14  connection UID, uint64 big-endian
 * offset 22  total frame length (14 + mtu), uint16 big-endian
 * offset 24  zero padding up to 14 + mtu
 * ```
 */

/** The smallest heartbeat a receiver looks at: header, UID and length. */
export const MIN_HEARTBEAT_SIZE = ETHERNET_OVERHEAD + 10;

/** A heartbeat frame for connection `connUID` on a datapath of MTU `mtu`. */
export function makeHeartbeatFrame(connUID: bigint, mtu: number): Uint8Array {
  const length = ETHERNET_OVERHEAD + mtu;
  if (!Number.isInteger(mtu) || length < MIN_HEARTBEAT_SIZE || length > 0xffff) {
    throw new RangeError(`heartbeat MTU out of range: ${mtu}`);
  }
  const frame = new Uint8Array(length);
  const view = new DataView(frame.buffer);
  view.setBigUint64(ETHERNET_OVERHEAD, BigInt.asUintN(64, connUID));
  view.setUint16(ETHERNET_OVERHEAD + 8, length);
  return frame;
}

/** Whether `frame` is special: at least an Ethernet header, all zero. */
export function isSpecialFrame(frame: Uint8Array): boolean {
  if (frame.length < ETHERNET_OVERHEAD) return false;
  for (let i = 0; i < ETHERNET_OVERHEAD; i++) if (frame[i] !== 0) return false;
  return true;
}

/** What a received heartbeat says, or why it was ignored (upstream's log wording). */
export type ParsedHeartbeat = ValidHeartbeat | IgnoredHeartbeat;

/** A well-formed heartbeat. */
export interface ValidHeartbeat {
  /** Always true. */
  readonly ok: true;
  /** The connection UID it carries. */
  readonly connUID: bigint;
}

/** A special frame that is not a well-formed heartbeat. */
export interface IgnoredHeartbeat {
  /** Always false. */
  readonly ok: false;
  /** Why, in upstream's log wording. */
  readonly reason: string;
}

/** Reads a special frame as a heartbeat: the UID, after checking the length field against the frame. */
export function parseHeartbeat(frame: Uint8Array): ParsedHeartbeat {
  if (frame.length < MIN_HEARTBEAT_SIZE) return { ok: false, reason: 'Ignoring short heartbeat' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const length = view.getUint16(ETHERNET_OVERHEAD + 8);
  if (length !== frame.length) return { ok: false, reason: 'Ignoring truncated heartbeat' };
  return { ok: true, connUID: view.getBigUint64(ETHERNET_OVERHEAD) };
}
