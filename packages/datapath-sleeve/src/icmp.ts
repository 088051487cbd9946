import { ETHERNET_OVERHEAD } from './constants.js';
import { IP_PROTOCOL_ICMP, internetChecksum, ipv4HeaderLength, setIpv4HeaderChecksum } from './ipv4.js';

/**
 * ICMP "fragmentation needed" (type 3, code 4) synthesis: PMTU discovery *inside* the overlay. When a
 * DF packet is too big for the sleeve path, the sender is told the overlay MTU as if a router had
 * answered (`makeICMPFragNeeded` upstream).
 *
 * ```
 * Ethernet: dst = original src MAC, src = original dst MAC, same EtherType
 * IPv4:     20-byte header, TOS copied, id 0, no flags, TTL 64, protocol 1, addresses swapped
 * ICMP:     type 3, code 4, checksum, 2 unused bytes, next-hop MTU (uint16 BE)
 * payload:  the original IP header and the first 8 bytes of its payload
 * ```
 */

const IP = ETHERNET_OVERHEAD;
const ICMP_HEADER = 8;

/**
 * Builds the frag-needed frame answering the IPv4 `frame` with next-hop MTU `mtu`, or returns
 * undefined when `frame` carries no decodable IPv4 packet.
 */
export function makeIcmpFragNeeded(frame: Uint8Array, mtu: number): Uint8Array | undefined {
  const headerLength = ipv4HeaderLength(frame);
  if (headerLength === 0) return undefined;
  const quoted = frame.subarray(IP, Math.min(frame.length, IP + headerLength + 8));
  const icmp = IP + 20;
  const out = new Uint8Array(icmp + ICMP_HEADER + quoted.length);

  out.set(frame.subarray(6, 12), 0);
  out.set(frame.subarray(0, 6), 6);
  out[12] = frame[12]!;
  out[13] = frame[13]!;

  const ipLength = 20 + ICMP_HEADER + quoted.length;
  out[IP] = 0x45;
  out[IP + 1] = frame[IP + 1]!;
  out[IP + 2] = ipLength >>> 8;
  out[IP + 3] = ipLength & 0xff;
  out[IP + 8] = 64;
  out[IP + 9] = IP_PROTOCOL_ICMP;
  out.set(frame.subarray(IP + 16, IP + 20), IP + 12);
  out.set(frame.subarray(IP + 12, IP + 16), IP + 16);
  setIpv4HeaderChecksum(out, 20);

  out[icmp] = 3;
  out[icmp + 1] = 4;
  out[icmp + 6] = (mtu >>> 8) & 0xff;
  out[icmp + 7] = mtu & 0xff;
  out.set(quoted, icmp + ICMP_HEADER);
  const checksum = internetChecksum(out, icmp, out.length);
  out[icmp + 2] = checksum >>> 8;
  out[icmp + 3] = checksum & 0xff;
  return out;
}
