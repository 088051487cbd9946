import { ETHERNET_OVERHEAD } from './constants.js';

/**
 * Just enough IPv4-in-Ethernet parsing for the forwarding decision, ICMP synthesis and fragmentation.
 * Offsets are into the Ethernet frame; the IPv4 header starts at byte 14.
 */

/** EtherType of IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** IP protocol number of ICMP. */
export const IP_PROTOCOL_ICMP = 1;
/** The Don't Fragment flag in the flags/fragment-offset word. */
export const IPV4_FLAG_DF = 0x4000;
/** The More Fragments flag in the flags/fragment-offset word. */
export const IPV4_FLAG_MF = 0x2000;

const IP = ETHERNET_OVERHEAD;

/**
 * The IPv4 header length in bytes if `frame` carries an IPv4 packet whose header decodes (EtherType
 * 0x0800, IHL ≥ 5, total length ≥ header length, whole header present), otherwise 0.
 */
export function ipv4HeaderLength(frame: Uint8Array): number {
  if (frame.length < IP + 20 || frame[12] !== 0x08 || frame[13] !== 0x00) return 0;
  const headerLength = (frame[IP]! & 0x0f) * 4;
  const totalLength = ipv4TotalLength(frame);
  if (headerLength < 20 || totalLength < headerLength || IP + headerLength > frame.length) return 0;
  return headerLength;
}

/** The IPv4 total length field (header + payload). */
export function ipv4TotalLength(frame: Uint8Array): number {
  return (frame[IP + 2]! << 8) | frame[IP + 3]!;
}

/** The flags/fragment-offset word. */
export function ipv4FlagsAndOffset(frame: Uint8Array): number {
  return (frame[IP + 6]! << 8) | frame[IP + 7]!;
}

/** Whether the packet's Don't Fragment flag is set. */
export function ipv4DontFragment(frame: Uint8Array): boolean {
  return (ipv4FlagsAndOffset(frame) & IPV4_FLAG_DF) !== 0;
}

/** The Internet checksum (RFC 1071) of `buf[start, end)`, as stored in headers. */
export function internetChecksum(buf: Uint8Array, start: number, end: number): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Recomputes the header checksum of the IPv4 header at byte 14 of `frame`. */
export function setIpv4HeaderChecksum(frame: Uint8Array, headerLength: number): void {
  frame[IP + 10] = 0;
  frame[IP + 11] = 0;
  const checksum = internetChecksum(frame, IP, IP + headerLength);
  frame[IP + 10] = checksum >>> 8;
  frame[IP + 11] = checksum & 0xff;
}
