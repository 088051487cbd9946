import { ETHERNET_OVERHEAD } from './constants.js';
import {
  IPV4_FLAG_MF,
  ipv4FlagsAndOffset,
  ipv4HeaderLength,
  ipv4TotalLength,
  setIpv4HeaderChecksum,
} from './ipv4.js';

/**
 * IPv4 fragmentation done by the sleeve itself, for non-DF packets too big for the overlay MTU when
 * the underlay is not trusted to carry IP fragments (`fragment()` upstream). Each fragment is a whole
 * Ethernet frame with the original Ethernet header and a copy of the IP header (options included),
 * its own total length, flags and offset, and a fresh header checksum. Payload checksums (TCP, UDP)
 * stay as they are: nothing is rewritten, the receiver's stack reassembles.
 */

const IP = ETHERNET_OVERHEAD;

/**
 * Splits the IPv4 packet in `frame` into frames whose IP packets are at most `mtu` bytes, payloads cut
 * at multiples of 8. A packet that is itself a fragment keeps its place: offsets continue from its own
 * and only the final piece keeps its original MF flag. Returns undefined when `frame` carries no
 * complete IPv4 packet or `mtu` leaves no room for 8 payload bytes.
 */
export function fragmentIpv4(frame: Uint8Array, mtu: number): Uint8Array[] | undefined {
  const headerLength = ipv4HeaderLength(frame);
  if (headerLength === 0) return undefined;
  const totalLength = ipv4TotalLength(frame);
  const maxSegment = (mtu - headerLength) & ~7;
  if (maxSegment <= 0 || IP + totalLength > frame.length) return undefined;

  const flagsAndOffset = ipv4FlagsAndOffset(frame);
  const originalFlags = flagsAndOffset & 0xe000;
  const offsetBase = (flagsAndOffset & 0x1fff) * 8;
  const headerEnd = IP + headerLength;
  const payloadSize = totalLength - headerLength;
  const fragments: Uint8Array[] = [];

  for (let offset = 0; offset < payloadSize; offset += maxSegment) {
    const remaining = payloadSize - offset;
    const last = remaining <= maxSegment;
    const segment = last ? remaining : maxSegment;
    const out = new Uint8Array(headerEnd + segment);
    out.set(frame.subarray(0, headerEnd));
    out.set(frame.subarray(headerEnd + offset, headerEnd + offset + segment), headerEnd);
    const length = headerLength + segment;
    out[IP + 2] = length >>> 8;
    out[IP + 3] = length & 0xff;
    const word = (last ? originalFlags : originalFlags | IPV4_FLAG_MF) | ((offset + offsetBase) >>> 3);
    out[IP + 6] = word >>> 8;
    out[IP + 7] = word & 0xff;
    setIpv4HeaderChecksum(out, headerLength);
    fragments.push(out);
  }
  return fragments;
}
