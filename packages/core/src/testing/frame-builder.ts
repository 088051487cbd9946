import { WeaveError } from '../errors.js';
import {
  BROADCAST_MAC,
  ETHERNET_HEADER_SIZE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  type MacKey,
  etherType,
  formatMac,
  macAt,
  parseMac,
  writeMac,
} from '../ethernet.js';

/**
 * Builds and parses the frames datapath tests push around (like wireguard-go's `tuntest` ping
 * builder): Ethernet, ARP, IPv4 and ICMP echo, with correct checksums.
 *
 * ```
 * pingFrame ─▶ Ethernet(type 0x0800) ‖ IPv4(proto 1, header checksum) ‖ ICMP echo(id, seq, checksum) ‖ data
 * arpFrame  ─▶ Ethernet(type 0x0806) ‖ ARP(Ethernet/IPv4, request or reply)
 * ```
 */

/** A MAC as `aa:bb:cc:dd:ee:ff` or as its 48-bit number. */
export type MacLike = string | MacKey;

/** IP protocol number of ICMP. */
export const IP_PROTOCOL_ICMP = 1;
/** ICMP echo request type. */
export const ICMP_ECHO_REQUEST = 8;
/** ICMP echo reply type. */
export const ICMP_ECHO_REPLY = 0;

/** A frame too short or malformed for what the parser was asked to read. */
export class FrameParseError extends WeaveError {
  /** The error's stable name: `'FrameParseError'`. */
  override name = 'FrameParseError';
}

const toMac = (m: MacLike): MacKey => (typeof m === 'number' ? m : parseMac(m));

function ipBytes(ip: string): Uint8Array {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new FrameParseError(`invalid IPv4 address: ${JSON.stringify(ip)}`);
  }
  return Uint8Array.from(parts);
}

const ipText = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** The Internet checksum (RFC 1071) of `bytes`. */
export function internetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An Ethernet frame. */
export function ethernetFrame(o: {
  dst: MacLike;
  src: MacLike;
  etherType: number;
  payload: Uint8Array;
}): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_SIZE + o.payload.length);
  writeMac(frame, 0, toMac(o.dst));
  writeMac(frame, 6, toMac(o.src));
  frame[12] = o.etherType >>> 8;
  frame[13] = o.etherType & 0xff;
  frame.set(o.payload, ETHERNET_HEADER_SIZE);
  return frame;
}

/** An ARP request (to broadcast) or reply (to `targetMac`) for Ethernet/IPv4. */
export function arpFrame(o: {
  op: 'request' | 'reply';
  senderMac: MacLike;
  senderIp: string;
  targetMac?: MacLike;
  targetIp: string;
}): Uint8Array {
  const arp = new Uint8Array(28);
  arp.set([0, 1, 0x08, 0x00, 6, 4, 0, o.op === 'request' ? 1 : 2]);
  writeMac(arp, 8, toMac(o.senderMac));
  arp.set(ipBytes(o.senderIp), 14);
  writeMac(arp, 18, o.targetMac === undefined ? 0 : toMac(o.targetMac));
  arp.set(ipBytes(o.targetIp), 24);
  const dst = o.op === 'request' ? BROADCAST_MAC : toMac(o.targetMac ?? BROADCAST_MAC);
  return ethernetFrame({ dst, src: o.senderMac, etherType: ETHERTYPE_ARP, payload: arp });
}

/** An IPv4 packet (20-byte header, checksum filled in). */
export function ipv4Packet(o: {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
  df?: boolean;
}): Uint8Array {
  const total = 20 + o.payload.length;
  if (total > 0xffff) throw new FrameParseError(`IPv4 packet too long: ${total}`);
  const p = new Uint8Array(total);
  const id = o.id ?? 0;
  p.set([0x45, 0, total >>> 8, total & 0xff, (id >>> 8) & 0xff, id & 0xff, o.df ? 0x40 : 0, 0]);
  p[8] = o.ttl ?? 64;
  p[9] = o.protocol;
  p.set(ipBytes(o.src), 12);
  p.set(ipBytes(o.dst), 16);
  const sum = internetChecksum(p.subarray(0, 20));
  p[10] = sum >>> 8;
  p[11] = sum & 0xff;
  p.set(o.payload, 20);
  return p;
}

/** An ICMP echo request or reply (checksum filled in). */
export function icmpEcho(o: { reply?: boolean; id: number; seq: number; data?: Uint8Array }): Uint8Array {
  const data = o.data ?? new Uint8Array(0);
  const m = new Uint8Array(8 + data.length);
  m.set([o.reply ? ICMP_ECHO_REPLY : ICMP_ECHO_REQUEST, 0, 0, 0, (o.id >>> 8) & 0xff, o.id & 0xff]);
  m[6] = (o.seq >>> 8) & 0xff;
  m[7] = o.seq & 0xff;
  m.set(data, 8);
  const sum = internetChecksum(m);
  m[2] = sum >>> 8;
  m[3] = sum & 0xff;
  return m;
}

/** Options of {@link pingFrame}. */
export interface PingOptions {
  /** Source MAC (`aa:bb:…` or a {@link MacKey}). */
  srcMac: MacLike;
  /** Destination MAC. */
  dstMac: MacLike;
  /** Source IPv4 address, dotted. */
  srcIp: string;
  /** Destination IPv4 address, dotted. */
  dstIp: string;
  /** ICMP echo identifier (default 0). */
  id?: number;
  /** ICMP echo sequence number (default 0). */
  seq?: number;
  /** ICMP data bytes (default 56, like `ping`; filled with a byte pattern). */
  size?: number;
  /** Set IPv4 Don't Fragment (as Linux ping does with PMTU discovery). */
  df?: boolean;
  /** Build the echo reply instead of the request. */
  reply?: boolean;
}

/** A complete Ethernet frame carrying an ICMP echo request (or reply). */
export function pingFrame(o: PingOptions): Uint8Array {
  const data = new Uint8Array(o.size ?? 56);
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
  const icmp = icmpEcho({ reply: o.reply ?? false, id: o.id ?? 1, seq: o.seq ?? 1, data });
  const ip = ipv4Packet({
    src: o.srcIp,
    dst: o.dstIp,
    protocol: IP_PROTOCOL_ICMP,
    payload: icmp,
    df: o.df ?? false,
  });
  return ethernetFrame({ dst: o.dstMac, src: o.srcMac, etherType: ETHERTYPE_IPV4, payload: ip });
}

/** A parsed ARP message. */
export interface ParsedArp {
  /** ARP operation: 1 request, 2 reply. */
  op: number;
  /** Sender hardware address, `aa:bb:…`. */
  senderMac: string;
  /** Sender protocol address, dotted. */
  senderIp: string;
  /** Target hardware address, `aa:bb:…`. */
  targetMac: string;
  /** Target protocol address, dotted. */
  targetIp: string;
}

/** A parsed ICMP echo (or other ICMP message: id/seq are then bytes 4–7). */
export interface ParsedIcmp {
  /** ICMP type (8 echo request, 0 echo reply). */
  type: number;
  /** ICMP code. */
  code: number;
  /** Echo identifier. */
  id: number;
  /** Echo sequence number. */
  seq: number;
  /** Whether the ICMP checksum verifies. */
  checksumValid: boolean;
  /** The echo payload. */
  data: Uint8Array;
}

/** A parsed IPv4 packet. */
export interface ParsedIpv4 {
  /** Source address, dotted. */
  src: string;
  /** Destination address, dotted. */
  dst: string;
  /** IP protocol number (1 = ICMP). */
  protocol: number;
  /** Time to live. */
  ttl: number;
  /** IP identification field. */
  id: number;
  /** Whether Don't Fragment is set. */
  df: boolean;
  /** The header's total length field. */
  totalLength: number;
  /** Whether the header checksum verifies. */
  headerChecksumValid: boolean;
  /** The bytes after the IP header. */
  payload: Uint8Array;
  /** The ICMP message, when `protocol` is 1. */
  icmp?: ParsedIcmp;
}

/** A parsed Ethernet frame. */
export interface ParsedFrame {
  /** Destination MAC, `aa:bb:…`. */
  dst: string;
  /** Source MAC, `aa:bb:…`. */
  src: string;
  /** The EtherType (0x0800 IPv4, 0x0806 ARP). */
  etherType: number;
  /** The bytes after the Ethernet header. */
  payload: Uint8Array;
  /** The ARP packet, for EtherType 0x0806. */
  arp?: ParsedArp;
  /** The IPv4 packet, for EtherType 0x0800. */
  ipv4?: ParsedIpv4;
}

/** Parses an Ethernet frame and, where present, its ARP / IPv4 / ICMP contents. @throws FrameParseError */
export function parseFrame(frame: Uint8Array): ParsedFrame {
  if (frame.length < ETHERNET_HEADER_SIZE)
    throw new FrameParseError(`frame too short: ${frame.length} bytes`);
  const type = etherType(frame);
  const payload = frame.subarray(ETHERNET_HEADER_SIZE);
  const out: ParsedFrame = {
    dst: formatMac(macAt(frame, 0)),
    src: formatMac(macAt(frame, 6)),
    etherType: type,
    payload,
  };
  if (type === ETHERTYPE_ARP) out.arp = parseArp(payload);
  else if (type === ETHERTYPE_IPV4) out.ipv4 = parseIpv4(payload);
  return out;
}

function parseArp(p: Uint8Array): ParsedArp {
  if (p.length < 28) throw new FrameParseError(`ARP message too short: ${p.length} bytes`);
  return {
    op: (p[6]! << 8) | p[7]!,
    senderMac: formatMac(macAt(p, 8)),
    senderIp: ipText(p, 14),
    targetMac: formatMac(macAt(p, 18)),
    targetIp: ipText(p, 24),
  };
}

function parseIpv4(p: Uint8Array): ParsedIpv4 {
  if (p.length < 20 || p[0]! >>> 4 !== 4) throw new FrameParseError('not an IPv4 packet');
  const headerLength = (p[0]! & 0x0f) * 4;
  const totalLength = (p[2]! << 8) | p[3]!;
  if (headerLength < 20 || totalLength < headerLength || totalLength > p.length) {
    throw new FrameParseError(
      `bad IPv4 lengths: header ${headerLength}, total ${totalLength}, have ${p.length}`,
    );
  }
  const payload = p.subarray(headerLength, totalLength);
  const out: ParsedIpv4 = {
    src: ipText(p, 12),
    dst: ipText(p, 16),
    protocol: p[9]!,
    ttl: p[8]!,
    id: (p[4]! << 8) | p[5]!,
    df: (p[6]! & 0x40) !== 0,
    totalLength,
    headerChecksumValid: internetChecksum(p.subarray(0, headerLength)) === 0,
    payload,
  };
  if (out.protocol === IP_PROTOCOL_ICMP && payload.length >= 8) {
    out.icmp = {
      type: payload[0]!,
      code: payload[1]!,
      id: (payload[4]! << 8) | payload[5]!,
      seq: (payload[6]! << 8) | payload[7]!,
      checksumValid: internetChecksum(payload) === 0,
      data: payload.subarray(8),
    };
  }
  return out;
}
