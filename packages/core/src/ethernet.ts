import { WeaveError } from './errors.js';

/**
 * Ethernet frame helpers for the L2 forwarder: MAC addresses as 48-bit numbers (a JS number holds them
 * exactly, so a MAC can key a Map without allocating a string per frame), the ethertype, and the
 * addresses the forwarder treats specially.
 *
 * ```
 * frame = dst MAC[6] ‖ src MAC[6] ‖ ethertype/length[2] ‖ payload
 * ```
 */

/** Bytes of an Ethernet header (no VLAN tag). */
export const ETHERNET_HEADER_SIZE = 14;
/** Ethertype of IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** Ethertype of ARP. */
export const ETHERTYPE_ARP = 0x0806;

/** A MAC address as a number in [0, 2^48). */
export type MacKey = number;

/** `ff:ff:ff:ff:ff:ff`. */
export const BROADCAST_MAC: MacKey = 0xffff_ffff_ffff;
/** `01:80:c2:00:00:00`, the Spanning Tree Protocol group address, whose frames weave never forwards. */
export const STP_MAC: MacKey = 0x0180_c200_0000;

/** A string is not a MAC address. */
export class InvalidMacError extends WeaveError {
  /** The error's stable name: `'InvalidMacError'`. */
  override name = 'InvalidMacError';
  constructor(input: string) {
    super(`invalid MAC address: ${JSON.stringify(input)}`);
  }
}

/** The 6 bytes at `offset` as a number; the caller ensures they exist. */
export function macAt(bytes: Uint8Array, offset: number): MacKey {
  const high = (bytes[offset]! << 8) | bytes[offset + 1]!;
  const low =
    ((bytes[offset + 2]! << 24) >>> 0) +
    ((bytes[offset + 3]! << 16) | (bytes[offset + 4]! << 8) | bytes[offset + 5]!);
  return high * 0x1_0000_0000 + low;
}

/** The destination MAC of a frame of at least {@link ETHERNET_HEADER_SIZE} bytes. */
export function dstMac(frame: Uint8Array): MacKey {
  return macAt(frame, 0);
}

/** The source MAC of a frame of at least {@link ETHERNET_HEADER_SIZE} bytes. */
export function srcMac(frame: Uint8Array): MacKey {
  return macAt(frame, 6);
}

/** The ethertype (or 802.3 length) field of a frame of at least 14 bytes. */
export function etherType(frame: Uint8Array): number {
  return (frame[12]! << 8) | frame[13]!;
}

/** Whether the MAC is a group (broadcast or multicast) address: the low bit of its first byte is set. */
export function isGroupMac(mac: MacKey): boolean {
  return Math.floor(mac / 0x100_0000_0000) % 2 === 1;
}

/** `aa:bb:cc:dd:ee:ff` for a MAC number. */
export function formatMac(mac: MacKey): string {
  return mac
    .toString(16)
    .padStart(12, '0')
    .replace(/(..)(?!$)/g, '$1:');
}

/** Parses `aa:bb:cc:dd:ee:ff` (case-insensitive). @throws InvalidMacError */
export function parseMac(text: string): MacKey {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) throw new InvalidMacError(text);
  return Number.parseInt(text.replaceAll(':', ''), 16);
}

/** The 6 big-endian bytes of a MAC number. */
export function macBytes(mac: MacKey): Uint8Array {
  const out = new Uint8Array(6);
  writeMac(out, 0, mac);
  return out;
}

/** Writes a MAC's 6 bytes at `offset`. */
export function writeMac(out: Uint8Array, offset: number, mac: MacKey): void {
  const high = Math.floor(mac / 0x1_0000_0000);
  const low = mac % 0x1_0000_0000;
  out[offset] = high >>> 8;
  out[offset + 1] = high & 0xff;
  out[offset + 2] = low >>> 24;
  out[offset + 3] = (low >>> 16) & 0xff;
  out[offset + 4] = (low >>> 8) & 0xff;
  out[offset + 5] = low & 0xff;
}
