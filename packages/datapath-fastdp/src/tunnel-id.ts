import { MAX_SHORT_ID, SHORT_ID_BITS, VXLAN_HEADER_SIZE } from './constants.js';
import { InvalidShortIdError } from './errors.js';

/**
 * The VXLAN network identifier of fastdp (upstream `tunnelIDFor` / `extractPeers`): the 12-bit short
 * ID of the peer that captured the frame in the low bits, the destination peer's above it.
 *
 * ```
 * tunnel id = src | dst << 12        VNI bits 23..12 = dst, 11..0 = src
 * VXLAN header (8 bytes): 0x08 00 00 00 | VNI (3 bytes, big-endian) | 00
 * ```
 * Short ID 1 → 2 gives VNI 0x002001.
 */

function checkShortId(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_SHORT_ID) throw new InvalidShortIdError(id);
  return id;
}

/** The two short IDs a tunnel id names. */
export interface TunnelPeers {
  /** The short ID of the peer that captured the frame. */
  readonly src: number;
  /** The short ID of the peer the frame is for. */
  readonly dst: number;
}

/** The tunnel id for a frame from short ID `src` to short ID `dst`. @throws InvalidShortIdError */
export function tunnelIdFor(src: number, dst: number): number {
  return checkShortId(src) | (checkShortId(dst) << SHORT_ID_BITS);
}

/** The source and destination short IDs of a tunnel id (only the low 24 bits count). */
export function peersOfTunnelId(tunnelId: number): TunnelPeers {
  return { src: tunnelId & MAX_SHORT_ID, dst: (tunnelId >>> SHORT_ID_BITS) & MAX_SHORT_ID };
}

/** Writes the 8-byte VXLAN header (flags `I`, the VNI) for `tunnelId` into `out` at `offset`. */
export function writeVxlanHeader(out: Uint8Array, tunnelId: number, offset = 0): void {
  out[offset] = 0x08;
  out[offset + 1] = 0;
  out[offset + 2] = 0;
  out[offset + 3] = 0;
  out[offset + 4] = (tunnelId >>> 16) & 0xff;
  out[offset + 5] = (tunnelId >>> 8) & 0xff;
  out[offset + 6] = tunnelId & 0xff;
  out[offset + 7] = 0;
}

/** A fresh VXLAN header for `tunnelId`. */
export function vxlanHeader(tunnelId: number): Uint8Array {
  const h = new Uint8Array(VXLAN_HEADER_SIZE);
  writeVxlanHeader(h, tunnelId);
  return h;
}

/** The VNI of a VXLAN header, or undefined when it is too short or lacks the `I` flag. */
export function readVxlanHeader(packet: Uint8Array): number | undefined {
  if (packet.length < VXLAN_HEADER_SIZE || (packet[0]! & 0x08) === 0) return undefined;
  return (packet[4]! << 16) | (packet[5]! << 8) | packet[6]!;
}
