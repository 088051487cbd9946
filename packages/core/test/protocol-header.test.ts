import { describe, expect, it } from 'vitest';
import {
  HEADER_TIMEOUT_MS,
  IncompatibleVersionError,
  PROTOCOL_HEADER_SIZE,
  UnrecognisedHeaderError,
  encodeProtocolHeader,
  negotiateVersion,
  parseProtocolHeader,
} from '@weave-ts/core/protocol';

describe('protocol header', () => {
  it('is "weave" followed by the min and max version bytes', () => {
    expect(Array.from(encodeProtocolHeader({ min: 1, max: 2 }))).toEqual([
      0x77, 0x65, 0x61, 0x76, 0x65, 1, 2,
    ]);
    expect(Array.from(encodeProtocolHeader({ min: 2, max: 2 }))).toEqual([
      0x77, 0x65, 0x61, 0x76, 0x65, 2, 2,
    ]);
    expect(PROTOCOL_HEADER_SIZE).toBe(7);
    expect(HEADER_TIMEOUT_MS).toBe(10_000);
  });

  it('refuses versions that are not bytes', () => {
    expect(() => encodeProtocolHeader({ min: -1, max: 2 })).toThrow(RangeError);
    expect(() => encodeProtocolHeader({ min: 1, max: 256 })).toThrow(RangeError);
    expect(() => encodeProtocolHeader({ min: 1.5, max: 2 })).toThrow(RangeError);
  });

  it('parses the remote range and round-trips ours', () => {
    expect(parseProtocolHeader(encodeProtocolHeader({ min: 3, max: 200 }))).toEqual({ min: 3, max: 200 });
    // The header stock Weave 2.8.1 sends (ab.json).
    expect(parseProtocolHeader(Buffer.from('77656176650102', 'hex'))).toEqual({ min: 1, max: 2 });
  });

  it('reports an unrecognised header with the first five bytes in Go notation', () => {
    const header = new TextEncoder().encode('GET / ');
    const bad = Uint8Array.of(...header.subarray(0, 6), 9);
    expect(() => parseProtocolHeader(bad)).toThrow(UnrecognisedHeaderError);
    expect(() => parseProtocolHeader(bad)).toThrow('remote protocol header not recognised: [71 69 84 32 47]');
    expect(() => parseProtocolHeader(Uint8Array.of(0x77, 0x65, 0x61, 0x76, 0x66, 1, 2))).toThrow(
      'remote protocol header not recognised: [119 101 97 118 102]',
    );
  });
});

describe('version negotiation', () => {
  const ours = { min: 1, max: 2 };
  it('picks the highest common version', () => {
    expect(negotiateVersion(ours, { min: 1, max: 2 })).toBe(2);
    expect(negotiateVersion(ours, { min: 2, max: 2 })).toBe(2);
    expect(negotiateVersion(ours, { min: 1, max: 1 })).toBe(1);
    expect(negotiateVersion(ours, { min: 0, max: 9 })).toBe(2);
    expect(negotiateVersion({ min: 2, max: 2 }, { min: 1, max: 2 })).toBe(2);
  });
  it('is symmetric', () => {
    for (let a = 0; a < 4; a++)
      for (let b = a; b < 4; b++)
        for (let c = 0; c < 4; c++)
          for (let d = c; d < 4; d++) {
            let x: number | string;
            let y: number | string;
            try {
              x = negotiateVersion({ min: a, max: b }, { min: c, max: d });
            } catch {
              x = 'refused';
            }
            try {
              y = negotiateVersion({ min: c, max: d }, { min: a, max: b });
            } catch {
              y = 'refused';
            }
            expect(x).toBe(y);
          }
  });
  it('refuses disjoint ranges with upstream text', () => {
    expect(() => negotiateVersion(ours, { min: 3, max: 4 })).toThrow(IncompatibleVersionError);
    expect(() => negotiateVersion(ours, { min: 3, max: 4 })).toThrow(
      'remote version range [3,4] is incompatible with ours [1,2]',
    );
    expect(() => negotiateVersion({ min: 2, max: 2 }, { min: 1, max: 1 })).toThrow(
      'remote version range [1,1] is incompatible with ours [2,2]',
    );
  });
});
