// Hand-built Ethernet/IPv4 frames for the TAP tests.

/** `aa:bb:…` → 6 bytes. */
export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':').map((h) => Number.parseInt(h, 16)));
}

function ipBytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** An Ethernet frame carrying an IPv4/UDP datagram (UDP checksum 0, i.e. none). */
export function udpFrame(o: {
  dstMac: string;
  srcMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 8 + o.payload.length);
  const v = new DataView(frame.buffer);
  frame.set(macBytes(o.dstMac), 0);
  frame.set(macBytes(o.srcMac), 6);
  v.setUint16(12, 0x0800);
  const ip = 14;
  v.setUint8(ip, 0x45);
  v.setUint16(ip + 2, 20 + 8 + o.payload.length);
  v.setUint8(ip + 8, 64); // TTL
  v.setUint8(ip + 9, 17); // UDP
  frame.set(ipBytes(o.srcIp), ip + 12);
  frame.set(ipBytes(o.dstIp), ip + 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(ip + 10, ~sum & 0xffff);
  const udp = ip + 20;
  v.setUint16(udp, o.srcPort);
  v.setUint16(udp + 2, o.dstPort);
  v.setUint16(udp + 4, 8 + o.payload.length);
  frame.set(o.payload, udp + 8);
  return frame;
}

/** The UDP destination port of an Ethernet/IPv4/UDP frame, or undefined for anything else. */
export function udpDstPort(frame: Uint8Array, offset = 0): number | undefined {
  const v = new DataView(frame.buffer, frame.byteOffset + offset, frame.length - offset);
  if (v.byteLength < 42 || v.getUint16(12) !== 0x0800 || v.getUint8(23) !== 17) return undefined;
  const ihl = (v.getUint8(14) & 0x0f) * 4;
  return v.getUint16(14 + ihl + 2);
}

/** For an ARP request frame: [sender IP, target IP, sender MAC]; otherwise undefined. */
export function arpRequest(
  frame: Uint8Array,
): { senderIp: string; targetIp: string; senderMac: string } | undefined {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.length);
  if (frame.length < 42 || v.getUint16(12) !== 0x0806 || v.getUint16(20) !== 1) return undefined;
  const ip = (at: number) => Array.from(frame.subarray(at, at + 4)).join('.');
  const mac = Array.from(frame.subarray(22, 28), (b) => b.toString(16).padStart(2, '0')).join(':');
  return { senderIp: ip(28), targetIp: ip(38), senderMac: mac };
}
