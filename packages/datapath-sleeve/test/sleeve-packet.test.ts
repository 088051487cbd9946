import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME_OVERHEAD,
  HEARTBEAT_FRAME_SIZE,
  heartbeatConnUID,
  isSpecialFrame,
  iterateFrameRecords,
  NAME_SIZE,
  PacketDecodingError,
  PlainFrameEncoder,
  specialFrameKind,
} from '../src/index.js';
import { bytesOf, captures } from './golden.js';
import { hex } from './frames.js';

const NAME_A = Uint8Array.of(0x0a, 0, 0, 0, 0, 1);
const NAME_B = Uint8Array.of(0x0a, 0, 0, 0, 0, 2);

interface Record3 {
  src: Uint8Array;
  dst: Uint8Array;
  frame: Uint8Array;
}

function parse(datagram: Uint8Array): { records: Record3[]; error?: PacketDecodingError } {
  const records: Record3[] = [];
  const error = iterateFrameRecords(datagram.subarray(NAME_SIZE), (src, dst, frame) =>
    records.push({ src, dst, frame }),
  );
  return error ? { records, error } : { records };
}

describe('plain sleeve packets', () => {
  it('lays out sender name, then src ‖ dst ‖ uint16 length ‖ frame per record', () => {
    const enc = new PlainFrameEncoder(NAME_A);
    enc.append(NAME_A, NAME_B, Uint8Array.of(1, 2, 3));
    enc.append(NAME_B, NAME_A, Uint8Array.of(9));
    expect(enc.frameCount).toBe(2);
    expect(enc.totalLength()).toBe(6 + 14 + 3 + 14 + 1);
    const datagram = enc.seal();
    expect(hex(datagram)).toBe(
      `0a0000000001${'0a0000000001'}${'0a0000000002'}0003010203${'0a0000000002'}${'0a0000000001'}000109`,
    );
    expect(enc.frameCount).toBe(0);
    expect(enc.totalLength()).toBe(6);
  });

  it('hands out a fresh buffer per datagram', () => {
    const enc = new PlainFrameEncoder(NAME_A);
    enc.append(NAME_A, NAME_B, Uint8Array.of(7));
    const first = enc.seal();
    enc.append(NAME_A, NAME_B, Uint8Array.of(8));
    enc.seal();
    expect(first[first.length - 1]).toBe(7);
  });

  it('fits() accounts for the record header', () => {
    const enc = new PlainFrameEncoder(NAME_A);
    expect(enc.fits(1452, 1472)).toBe(true);
    expect(enc.fits(1453, 1472)).toBe(false);
  });

  it('refuses to append past the largest datagram', () => {
    const enc = new PlainFrameEncoder(NAME_A);
    enc.append(NAME_A, NAME_B, new Uint8Array(60000));
    expect(() => enc.append(NAME_A, NAME_B, new Uint8Array(6000))).toThrow(RangeError);
  });

  it('reports a truncated frame with upstream wording, after the complete records', () => {
    const enc = new PlainFrameEncoder(NAME_A);
    enc.append(NAME_A, NAME_B, Uint8Array.of(1, 2));
    enc.append(NAME_A, NAME_B, new Uint8Array(10));
    const datagram = enc.seal().subarray(0, 6 + 16 + 14 + 4);
    const { records, error } = parse(datagram);
    expect(records).toHaveLength(1);
    expect(error).toBeInstanceOf(PacketDecodingError);
    expect(error?.message).toBe('Failed to decode packet: too short; expected frame of length 10, got 4');
  });

  it('reports trailing garbage shorter than a record header', () => {
    const enc = new PlainFrameEncoder(NAME_A);
    enc.append(NAME_A, NAME_B, Uint8Array.of(1));
    const sealed = enc.seal();
    const datagram = new Uint8Array(sealed.length + 5);
    datagram.set(sealed);
    const { records, error } = parse(datagram);
    expect(records).toHaveLength(1);
    expect(error?.message).toBe('Failed to decode packet: 5 octets of trailing garbage');
  });

  it('round-trips any list of frames (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 60 }), (frames) => {
        const enc = new PlainFrameEncoder(NAME_B);
        for (const f of frames) enc.append(NAME_A, NAME_B, f);
        const { records, error } = parse(enc.seal());
        expect(error).toBeUndefined();
        expect(records.map((r) => hex(r.frame))).toEqual(frames.map(hex));
        for (const r of records) {
          expect(hex(r.src)).toBe(hex(NAME_A));
          expect(hex(r.dst)).toBe(hex(NAME_B));
        }
      }),
    );
  });

  it('never throws on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        let seen = 0;
        const error = iterateFrameRecords(body, (_s, _d, frame) => {
          seen += FRAME_OVERHEAD + frame.length;
        });
        expect(seen <= body.length).toBe(true);
        if (!error) expect(seen).toBe(body.length);
      }),
    );
  });
});

describe('golden: datagrams of a stock Weave 2.8.1 sleeve', () => {
  const plain = [...captures.ab, ...captures.c];

  it('parses every captured datagram cleanly and re-packs it to identical bytes', () => {
    expect(plain.length).toBeGreaterThan(150);
    for (const d of plain) {
      const datagram = bytesOf(d);
      const { records, error } = parse(datagram);
      expect(error).toBeUndefined();
      expect(records.length).toBeGreaterThan(0);
      const enc = new PlainFrameEncoder(datagram.subarray(0, NAME_SIZE));
      for (const r of records) enc.append(r.src, r.dst, r.frame);
      expect(hex(enc.seal())).toBe(d.hex);
    }
  });

  it('names the sending host first: 10.250.0.x sends as 0a:00:00:00:00:0x', () => {
    for (const d of plain) {
      const host = Number(d.src.split(':')[0]!.split('.')[3]);
      expect(hex(bytesOf(d).subarray(0, 6))).toBe(`0a00000000${host.toString(16).padStart(2, '0')}`);
    }
  });

  it('carries heartbeats with the connection uid, sent DF', () => {
    const heartbeats = plain
      .map((d) => ({ d, records: parse(bytesOf(d)).records }))
      .filter(({ records }) => records.length === 1 && isSpecialFrame(records[0]!.frame))
      .filter(({ records }) => specialFrameKind(records[0]!.frame) === 'heartbeat');
    expect(heartbeats.length).toBeGreaterThan(100);
    for (const { d, records } of heartbeats) {
      expect(records[0]!.frame.length).toBe(HEARTBEAT_FRAME_SIZE);
      expect(d.df).toBe('1');
      // src = the sender, dst = its peer on this link
      expect(hex(records[0]!.src)).toBe(hex(bytesOf(d).subarray(0, 6)));
    }
    const abUid = heartbeatConnUID(parse(bytesOf(captures.ab[0]!)).records[0]!.frame);
    expect(abUid).toBe(0x9506b8534fd55308n);
  });

  it('carries PMTU tests of 1438 + 14 bytes (underlay 1500) as full 1472-byte DF datagrams', () => {
    const tests = plain.filter((d) => d.hex.length / 2 === 1472);
    expect(tests.length).toBeGreaterThan(0);
    for (const d of tests) {
      const { records } = parse(bytesOf(d));
      expect(records).toHaveLength(1);
      expect(specialFrameKind(records[0]!.frame)).toBe('pmtu-test');
      expect(records[0]!.frame.length - 14).toBe(1438);
      expect(d.df).toBe('1');
    }
  });

  it('carries captured container frames (ARP, IPv4, IPv6) between the right peers', () => {
    const data = plain.flatMap((d) => parse(bytesOf(d)).records.filter((r) => !isSpecialFrame(r.frame)));
    expect(data.length).toBeGreaterThan(20);
    const types = new Set(data.map((r) => hex(r.frame.subarray(12, 14))));
    expect(types).toEqual(new Set(['0800', '0806', '86dd']));
  });
});
