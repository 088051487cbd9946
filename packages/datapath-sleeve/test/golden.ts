import { readFileSync } from 'node:fs';
import { fromHex } from './frames.js';

/** One datagram of the upstream captures (see fixtures/weaver-2.8.1). */
export interface CapturedDatagram {
  readonly t: number;
  readonly src: string;
  readonly dst: string;
  /** "1" when the IP header had Don't Fragment set. */
  readonly df: string;
  readonly hex: string;
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/weaver-2.8.1/udp-datagrams.json', import.meta.url), 'utf8'),
) as { captures: Record<'ab' | 'c' | 'enc', CapturedDatagram[]> };

export const captures = fixture.captures;

export function bytesOf(d: CapturedDatagram): Uint8Array {
  return fromHex(d.hex);
}
