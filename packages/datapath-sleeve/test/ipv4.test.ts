import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fragmentIpv4,
  internetChecksum,
  ipv4DontFragment,
  ipv4HeaderLength,
  makeIcmpFragNeeded,
} from '../src/index.js';
import { arpFrame, hex, ipv4Frame, MAC_1, MAC_2 } from './frames.js';

const ipHeaderValid = (frame: Uint8Array, headerLength = 20) =>
  internetChecksum(frame, 14, 14 + headerLength) === 0;

describe('IPv4 header parsing', () => {
  it('finds the header length of IPv4 frames only', () => {
    expect(ipv4HeaderLength(ipv4Frame({ ipLength: 100 }))).toBe(20);
    expect(ipv4HeaderLength(ipv4Frame({ ipLength: 100, options: new Uint8Array(8) }))).toBe(28);
    expect(ipv4HeaderLength(arpFrame())).toBe(0);
    expect(ipv4HeaderLength(new Uint8Array(20))).toBe(0);
  });

  it('rejects headers that do not decode', () => {
    const bad = ipv4Frame({ ipLength: 100 });
    bad[14] = 0x44; // IHL 4
    expect(ipv4HeaderLength(bad)).toBe(0);
    const tooShortTotal = ipv4Frame({ ipLength: 100 });
    tooShortTotal[16] = 0;
    tooShortTotal[17] = 10;
    expect(ipv4HeaderLength(tooShortTotal)).toBe(0);
  });

  it('reads the DF flag', () => {
    expect(ipv4DontFragment(ipv4Frame({ ipLength: 100, df: true }))).toBe(true);
    expect(ipv4DontFragment(ipv4Frame({ ipLength: 100 }))).toBe(false);
  });
});

describe('ICMP fragmentation needed', () => {
  const original = ipv4Frame({ ipLength: 1500, df: true, protocol: 6, tos: 0x10 });
  const icmp = makeIcmpFragNeeded(original, 1438)!;

  it('goes back to the sender: MACs and addresses swapped, same EtherType', () => {
    expect(hex(icmp.subarray(0, 6))).toBe(hex(MAC_1));
    expect(hex(icmp.subarray(6, 12))).toBe(hex(MAC_2));
    expect(hex(icmp.subarray(12, 14))).toBe('0800');
    expect(Array.from(icmp.subarray(26, 30))).toEqual([172, 16, 16, 128]);
    expect(Array.from(icmp.subarray(30, 34))).toEqual([172, 16, 16, 1]);
  });

  it('has a valid IPv4 header: TOS copied, id 0, no flags, TTL 64, protocol ICMP, right length', () => {
    expect(icmp[14]).toBe(0x45);
    expect(icmp[15]).toBe(0x10);
    expect((icmp[16]! << 8) | icmp[17]!).toBe(icmp.length - 14);
    expect(Array.from(icmp.subarray(18, 22))).toEqual([0, 0, 0, 0]);
    expect(icmp[22]).toBe(64);
    expect(icmp[23]).toBe(1);
    expect(ipHeaderValid(icmp)).toBe(true);
    expect(ipv4DontFragment(icmp)).toBe(false);
  });

  it('is type 3 code 4 with the next-hop MTU, a valid checksum, and quotes header + 8 bytes', () => {
    const body = icmp.subarray(34);
    expect(body[0]).toBe(3);
    expect(body[1]).toBe(4);
    expect((body[4]! << 8) | body[5]!).toBe(0);
    expect((body[6]! << 8) | body[7]!).toBe(1438);
    expect(internetChecksum(body, 0, body.length)).toBe(0);
    expect(hex(body.subarray(8))).toBe(hex(original.subarray(14, 14 + 28)));
  });

  it('answers nothing for non-IP frames', () => {
    expect(makeIcmpFragNeeded(arpFrame(), 1400)).toBeUndefined();
  });
});

describe('IPv4 fragmentation', () => {
  function reassemble(pieces: Uint8Array[], headerLength: number): Uint8Array {
    const out: number[] = [];
    for (const p of pieces) {
      const offset = (((p[20]! << 8) | p[21]!) & 0x1fff) * 8;
      expect(offset).toBe(out.length);
      out.push(...p.subarray(14 + headerLength));
    }
    return Uint8Array.from(out);
  }

  it('cuts a 4000-byte packet for MTU 1438 into 8-aligned pieces with MF on all but the last', () => {
    const frame = ipv4Frame({ ipLength: 4000, id: 0x1234 });
    const pieces = fragmentIpv4(frame, 1438)!;
    expect(pieces.map((p) => (p[16]! << 8) | p[17]!)).toEqual([1436, 1436, 1168]);
    expect(pieces.map((p) => ((p[20]! << 8) | p[21]!) & 0x1fff)).toEqual([0, 177, 354]);
    expect(pieces.map((p) => (p[20]! & 0x20) !== 0)).toEqual([true, true, false]);
    for (const p of pieces) {
      expect(ipHeaderValid(p)).toBe(true);
      expect(hex(p.subarray(0, 14))).toBe(hex(frame.subarray(0, 14)));
      expect((p[18]! << 8) | p[19]!).toBe(0x1234);
      expect(p.length - 14).toBeLessThanOrEqual(1438);
    }
    expect(hex(reassemble(pieces, 20))).toBe(hex(frame.subarray(34)));
  });

  it('copies IP options and keeps the place of a packet that is itself a fragment', () => {
    const frame = ipv4Frame({ ipLength: 1000, options: Uint8Array.of(1, 1, 1, 0) });
    frame[20] = 0x20 | 0x00; // MF set, offset 0x0010 (128 bytes)
    frame[21] = 0x10;
    const pieces = fragmentIpv4(frame, 600)!;
    expect(pieces.map((p) => ((p[20]! << 8) | p[21]!) & 0x1fff)).toEqual([16, 16 + 72]);
    expect(pieces.every((p) => (p[20]! & 0x20) !== 0)).toBe(true);
    for (const p of pieces) {
      expect(p[14]).toBe(0x46);
      expect(ipHeaderValid(p, 24)).toBe(true);
    }
  });

  it('refuses truncated packets and MTUs without room for payload', () => {
    expect(fragmentIpv4(ipv4Frame({ ipLength: 1000 }).subarray(0, 500), 400)).toBeUndefined();
    expect(fragmentIpv4(ipv4Frame({ ipLength: 1000 }), 24)).toBeUndefined();
    expect(fragmentIpv4(arpFrame(), 1000)).toBeUndefined();
  });

  it('reassembles to the original payload for any size and MTU (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 21, max: 9000 }), fc.integer({ min: 68, max: 2000 }), (ipLength, mtu) => {
        const frame = ipv4Frame({ ipLength });
        const pieces = fragmentIpv4(frame, mtu)!;
        for (const p of pieces) {
          expect(p.length - 14).toBeLessThanOrEqual(mtu);
          expect(ipHeaderValid(p)).toBe(true);
        }
        expect(hex(reassemble(pieces, 20))).toBe(hex(frame.subarray(34)));
      }),
      { numRuns: 200 },
    );
  });
});
