import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import dnsPacket from 'dns-packet';

/**
 * DNS message pieces the server needs beyond `dns-packet`: header flag bits, hand-built header-only
 * error replies (for packets that do not parse), reply flags as upstream's `SetReply` sets them, and
 * answer truncation to a size limit.
 */

/** Header size in bytes. */
export const HEADER_SIZE = 12;
/** The UDP reply limit without EDNS0 (RFC 1035). */
export const MIN_UDP_SIZE = 512;
/** The largest UDP payload over IPv4, whatever EDNS0 size a client claims. */
export const MAX_UDP_SIZE = 65507;
/** The largest message the 2-byte TCP length prefix can frame. */
export const MAX_TCP_SIZE = 65535;

export const FLAG_QR = 0x8000;
export const OPCODE_MASK = 0x7800;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const FLAG_CD = 0x0010;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
/** The server will not answer this client (recursion for clients outside the networks it serves). */
export const RCODE_REFUSED = 5;

/** Type numbers used here. */
export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_OPT = 41;
export const CLASS_IN = 1;

/**
 * The flags of a reply to a request with header flags `reqFlags`: QR, the request's opcode, RD and CD
 * copied for standard queries, RA always (weaveDNS recurses), plus `extra` and `rcode`.
 */
export function replyFlags(reqFlags: number, extra: number, rcode: number): number {
  let flags = FLAG_QR | (reqFlags & OPCODE_MASK) | FLAG_RA | extra | rcode;
  if ((reqFlags & OPCODE_MASK) === 0) flags |= reqFlags & (FLAG_RD | FLAG_CD);
  return flags;
}

/** A 12-byte reply carrying only the request's id and an error code (for requests we cannot parse). */
export function headerOnlyReply(request: Uint8Array, rcode: number): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  out[0] = request[0]!;
  out[1] = request[1]!;
  out.writeUInt16BE(replyFlags((request[2]! << 8) | request[3]!, 0, rcode), 2);
  return out;
}

/** The EDNS0 payload size a client announces, clamped to [512, 65507]; 512 without EDNS0. */
export function clampUdpSize(ednsSize: number | undefined): number {
  return ednsSize === undefined ? MIN_UDP_SIZE : Math.min(MAX_UDP_SIZE, Math.max(MIN_UDP_SIZE, ednsSize));
}

/** The largest reply a client accepts: over UDP its EDNS0 size (see {@link clampUdpSize}), over TCP 64 KiB. */
export function replyLimit(request: DecodedPacket, tcp: boolean): number {
  if (tcp) return MAX_TCP_SIZE;
  for (const rr of request.additionals ?? []) {
    if (rr.type === 'OPT') return clampUdpSize(rr.udpPayloadSize);
  }
  return MIN_UDP_SIZE;
}

/** The raw header flags word of a decoded request (dns-packet splits it into strings). */
export function rawFlags(request: Uint8Array): number {
  return (request[2]! << 8) | request[3]!;
}

/**
 * Encodes `reply` with as many of `answers` as fit in `maxSize` bytes.
 * As upstream: a reply with more than one answer that is too big keeps the largest prefix of its
 * answers that fits and gets TC set; a single answer is never cut.
 */
export function encodeFitted(reply: Packet, answers: Answer[], maxSize: number): Buffer {
  const full = { ...reply, answers };
  if (answers.length <= 1 || dnsPacket.encodingLength(full) <= maxSize) {
    return dnsPacket.encode(full);
  }
  // The smallest count that is too big; every count below it fits (lengths grow with the count).
  let lo = 0;
  let hi = answers.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (dnsPacket.encodingLength({ ...reply, answers: answers.slice(0, mid + 1) }) > maxSize) hi = mid;
    else lo = mid + 1;
  }
  return dnsPacket.encode({ ...reply, flags: (reply.flags ?? 0) | FLAG_TC, answers: answers.slice(0, lo) });
}
