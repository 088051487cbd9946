import { internetChecksum } from '../src/index.js';

/** MAC addresses of two containers. */
export const MAC_1 = Uint8Array.of(0xd2, 0x26, 0xfa, 0x16, 0x17, 0xc0);
export const MAC_2 = Uint8Array.of(0xca, 0x97, 0x65, 0xc4, 0x5b, 0xca);

export interface Ipv4FrameOptions {
  /** IP total length (header + payload). */
  readonly ipLength: number;
  readonly df?: boolean;
  readonly protocol?: number;
  readonly id?: number;
  readonly tos?: number;
  readonly options?: Uint8Array;
  readonly src?: readonly number[];
  readonly dst?: readonly number[];
  readonly dstMac?: Uint8Array;
}

/** An Ethernet frame carrying an IPv4 packet with a patterned payload and a valid header checksum. */
export function ipv4Frame(o: Ipv4FrameOptions): Uint8Array {
  const headerLength = 20 + (o.options?.length ?? 0);
  const frame = new Uint8Array(14 + o.ipLength);
  frame.set(o.dstMac ?? MAC_2, 0);
  frame.set(MAC_1, 6);
  frame[12] = 0x08;
  frame[14] = 0x40 | (headerLength / 4);
  frame[15] = o.tos ?? 0;
  frame[16] = o.ipLength >>> 8;
  frame[17] = o.ipLength & 0xff;
  frame[18] = (o.id ?? 0x3384) >>> 8;
  frame[19] = (o.id ?? 0x3384) & 0xff;
  frame[20] = o.df ? 0x40 : 0;
  frame[22] = 64;
  frame[23] = o.protocol ?? 17;
  frame.set(o.src ?? [172, 16, 16, 1], 26);
  frame.set(o.dst ?? [172, 16, 16, 128], 30);
  if (o.options) frame.set(o.options, 34);
  for (let i = 14 + headerLength; i < frame.length; i++) frame[i] = (i * 31) & 0xff;
  const sum = internetChecksum(frame, 14, 14 + headerLength);
  frame[24] = sum >>> 8;
  frame[25] = sum & 0xff;
  return frame;
}

/** An ARP-like non-IP frame of `length` bytes. */
export function arpFrame(length = 42): Uint8Array {
  const frame = new Uint8Array(length);
  frame.fill(0xff, 0, 6);
  frame.set(MAC_1, 6);
  frame[12] = 0x08;
  frame[13] = 0x06;
  for (let i = 14; i < length; i++) frame[i] = i & 0xff;
  return frame;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}
