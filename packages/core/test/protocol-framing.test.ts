import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  EndOfStreamError,
  FrameDecoder,
  IncomingMessageTooLargeError,
  MAX_TCP_MSG_SIZE,
  OutgoingMessageTooLargeError,
  frameMessage,
} from '@weave-ts/core/protocol';

function drain(decoder: FrameDecoder): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let m = decoder.next(); m; m = decoder.next()) out.push(m);
  return out;
}

describe('frameMessage', () => {
  it('prefixes the big-endian uint32 length', () => {
    expect(Array.from(frameMessage(Uint8Array.of(7, 8, 9)))).toEqual([0, 0, 0, 3, 7, 8, 9]);
    expect(Array.from(frameMessage(new Uint8Array(0)))).toEqual([0, 0, 0, 0]);
    expect(Array.from(frameMessage(new Uint8Array(0x1234)).subarray(0, 4))).toEqual([0, 0, 0x12, 0x34]);
  });
  it('accepts exactly 10 MiB and refuses one byte more', () => {
    expect(MAX_TCP_MSG_SIZE).toBe(10 * 1024 * 1024);
    expect(frameMessage(new Uint8Array(MAX_TCP_MSG_SIZE)).length).toBe(MAX_TCP_MSG_SIZE + 4);
    const big = new Uint8Array(MAX_TCP_MSG_SIZE + 1);
    expect(() => frameMessage(big)).toThrow(OutgoingMessageTooLargeError);
    expect(() => frameMessage(big)).toThrow('outgoing message exceeds maximum size: 10485761 > 10485760');
  });
});

describe('FrameDecoder', () => {
  it('reassembles messages from arbitrary chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (messages, cuts) => {
          const stream = concatBytes(messages.map(frameMessage));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const decoder = new FrameDecoder();
          const got: Uint8Array[] = [];
          let from = 0;
          for (const p of [...points, stream.length]) {
            decoder.push(stream.subarray(from, p));
            from = p;
            got.push(...drain(decoder));
          }
          expect(got.map((m) => Array.from(m))).toEqual(messages.map((m) => Array.from(m)));
          expect(decoder.buffered).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('delivers byte by byte', () => {
    const messages = [Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3, 4, 5, 6)];
    const stream = concatBytes(messages.map(frameMessage));
    const decoder = new FrameDecoder();
    const got: number[][] = [];
    for (const b of stream) {
      decoder.push(Uint8Array.of(b));
      got.push(...drain(decoder).map((m) => Array.from(m)));
    }
    expect(got).toEqual([[1], [], [2, 3, 4, 5, 6]]);
  });

  it('refuses an oversized length as soon as the prefix is in, whatever follows', () => {
    for (const length of [MAX_TCP_MSG_SIZE + 1, 0x7fffffff, 0xffffffff]) {
      const decoder = new FrameDecoder();
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, length);
      decoder.push(prefix.subarray(0, 2));
      expect(decoder.next()).toBeUndefined();
      decoder.push(prefix.subarray(2));
      expect(() => decoder.next()).toThrow(IncomingMessageTooLargeError);
      expect(() => decoder.next()).toThrow(
        `incoming message exceeds maximum size: ${length} > ${MAX_TCP_MSG_SIZE}`,
      );
    }
  });

  it('holds only what arrived for a large announced length', () => {
    const decoder = new FrameDecoder();
    decoder.push(Uint8Array.of(0, 0xa0, 0, 0, 1, 2, 3)); // announces exactly 10 MiB
    expect(decoder.next()).toBeUndefined();
    expect(decoder.buffered).toBe(3);
  });

  it('reports EOF or unexpected EOF like io.ReadFull', () => {
    const d = new FrameDecoder();
    const eof = (x: FrameDecoder) => {
      const e = x.endOfStream();
      expect(e).toBeInstanceOf(EndOfStreamError);
      return e.message;
    };
    expect(eof(d)).toBe('EOF');
    d.push(Uint8Array.of(0, 0));
    expect(eof(d)).toBe('unexpected EOF');
    d.push(Uint8Array.of(0, 2));
    expect(d.next()).toBeUndefined();
    expect(eof(d)).toBe('EOF'); // prefix complete, no body byte yet
    d.push(Uint8Array.of(9));
    expect(eof(d)).toBe('unexpected EOF');
    d.push(Uint8Array.of(9));
    expect(Array.from(d.next()!)).toEqual([9, 9]);
    expect(eof(d)).toBe('EOF');
  });
});
