// Hostile streams: type definitions cost linear time and are bounded per stream; element counts are
// bounded by the schema; every refusal is a GobLimitError (a GobError) thrown before the allocation.
import {
  decodeGob,
  encodeGob,
  GobDecoder,
  GobError,
  GobLimitError,
  MAX_GOB_DEFINITION_BYTES,
  MAX_GOB_DEFINITIONS,
  t,
} from '../../src/gob/index.js';
import { describe, expect, it } from 'vitest';
import { caught } from '../../src/testing/index.js';
import { GobWriter } from '../../src/gob/varint.js';
import { encodeWireType, type WireType } from '../../src/gob/wire-types.js';
import { handMadeStream } from './hand-made-stream.js';

const FEATURES = t.map(t.string, t.string);

/** `n` unused `map[string]string` definitions, then a real features map defined and sent (as an attacker would). */
function manyDefinitions(n: number): Uint8Array {
  const def = (id: number): WireType => ({ kind: 'map', name: '', id, key: 6, elem: 6 });
  const defs = Array.from({ length: n + 1 }, (_, i) => def(65 + i));
  return handMadeStream(defs, 65 + n, (msg) => {
    msg.uint(0); // singleton delta
    msg.uint(1);
    msg.string('Name');
    msg.string('x');
  });
}

describe('gob type definitions', () => {
  it('refuses 24 000 definitions before a features message (finding 1)', () => {
    const bytes = manyDefinitions(24_000);
    expect(bytes.length).toBeGreaterThan(300_000);
    const e = caught(() => decodeGob(FEATURES, bytes));
    expect(e).toBeInstanceOf(GobLimitError);
    expect(e).toBeInstanceOf(GobError);
    expect((e as Error).name).toBe('GobLimitError');
    expect((e as Error).message).toMatch(/more than \d+ type definitions/);
  });

  it('decodes the largest allowed number of definitions', () => {
    const v = decodeGob(FEATURES, manyDefinitions(MAX_GOB_DEFINITIONS - 1));
    expect(v.get('Name')).toBe('x');
    expect(caught(() => decodeGob(FEATURES, manyDefinitions(MAX_GOB_DEFINITIONS)))).toBeInstanceOf(
      GobLimitError,
    );
  });

  it('handles definitions in linear work when the bounds are raised (map insertions per definition bounded)', () => {
    // Counts every Map insertion (table copies included: the Map constructor inserts through
    // `Map.prototype.set`) while decoding n definitions. Linear handling does a few per definition;
    // copying the table per definition (~50 s for 24 000 here) does about n²/2.
    const insertions = (n: number): number => {
      const bytes = manyDefinitions(n);
      const set = Map.prototype.set;
      let count = 0;
      Map.prototype.set = function (this: Map<unknown, unknown>, k: unknown, v: unknown) {
        count++;
        return set.call(this, k, v);
      };
      try {
        const d = new GobDecoder(bytes, { maxDefinitions: 100_000, maxDefinitionBytes: 1 << 24 });
        expect(d.decode(FEATURES).get('Name')).toBe('x');
        expect(d.wireTypes.size).toBe(n + 1);
      } finally {
        Map.prototype.set = set;
      }
      return count;
    };
    const small = insertions(3_000);
    const large = insertions(12_000);
    expect(small).toBeGreaterThan(3_000); // the table itself is counted: the instrumentation works
    expect(small).toBeLessThan(8 * 3_000);
    expect(large).toBeLessThan(8 * 12_000);
    // Four times the definitions, about four times the work (quadratic would be sixteen).
    expect(large / small).toBeLessThan(6);
  });

  it('bounds the bytes of definitions a stream may carry', () => {
    // One struct definition with many long field names: few definitions, many bytes.
    const out = new GobWriter();
    const msg = new GobWriter();
    const fields = Array.from({ length: 6000 }, (_, i) => ({ name: `F${'x'.repeat(40)}${i}`, id: 2 }));
    msg.int(-65);
    encodeWireType(msg, { kind: 'struct', name: 'S', id: 65, fields });
    out.uint(msg.length);
    out.raw(msg.view());
    expect(out.length).toBeGreaterThan(MAX_GOB_DEFINITION_BYTES);
    const e = caught(() => decodeGob(t.struct('S', { A: t.int }), out.view().slice()));
    expect(e).toBeInstanceOf(GobLimitError);
    expect((e as Error).message).toMatch(/type definitions longer than/);
  });
});

describe('gob element bounds', () => {
  const bounded = t.struct('B', {
    L: t.slice(t.struct('E', {}), { maxLen: 3 }),
    M: t.map(t.int, t.int, { maxLen: 2 }),
  });
  const plain = t.struct('B', { L: t.slice(t.struct('E', {})), M: t.map(t.int, t.int) });
  const encode = (l: number, m: number) =>
    encodeGob(plain, {
      L: Array.from({ length: l }, () => ({})),
      M: new Map(Array.from({ length: m }, (_, i) => [i, i])),
    });

  it('decodes up to maxLen elements and refuses more before allocating them', () => {
    expect(decodeGob(bounded, encode(3, 2)).L).toHaveLength(3);
    const slice = caught(() => decodeGob(bounded, encode(1_000_000, 0)));
    expect(slice).toBeInstanceOf(GobLimitError);
    expect(slice).toMatchObject({ name: 'GobLimitError', limit: 3, actual: 1_000_000 });
    expect((slice as Error).message).toBe('gob: 1000000 elements of []E exceed the limit of 3');
    expect(caught(() => decodeGob(bounded, encode(0, 3)))).toMatchObject({ name: 'GobLimitError', limit: 2 });
  });

  it('keeps the wire type: a bounded schema encodes the same bytes', () => {
    const v = { L: [{}], M: new Map([[1, 2]]) };
    expect(encodeGob(bounded, v)).toEqual(encodeGob(plain, v));
  });

  it('rejects a bad bound in the schema', () => {
    expect(() => t.slice(t.int, { maxLen: -1 })).toThrow(TypeError);
  });
});
