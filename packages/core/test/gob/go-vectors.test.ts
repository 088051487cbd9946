// Golden vectors from Go's encoding/gob (tools/gob-vectors): TS decodes Go's bytes to the values Go
// encoded, and encodes those values to Go's bytes, type ids and names included.
import { readFileSync } from 'node:fs';
import {
  decodeGob,
  GobDecoder,
  GobEncoder,
  type GobType,
  GobTypeIds,
  isGobNilMap,
  t,
} from '@weave-ts/core/protocol';
import { describe, expect, it } from 'vitest';
import { bytesToHex, fromJson, hasUnorderedMap, hexToBytes } from './json-values.js';
import * as s from './schemas.js';

interface Vectors {
  go: string;
  cases: { name: string; encodings: { hex: string; values: unknown[] }[] }[];
}
const vectors: Vectors = JSON.parse(
  readFileSync(new URL('../fixtures/gob/vectors.json', import.meta.url), 'utf8'),
) as Vectors;

const pair = t.array(t.string, 2);
const byteLists = t.slice(t.bytes);
const intToStrings = t.map(t.int, t.slice(t.string));

/** Schemas of each case: one list per encoder, one schema per value. */
const schemas: Record<string, GobType[][]> = {
  'features-one': [[s.features]],
  'features-many': [[s.features]],
  'features-empty': [[s.features]],
  singletons: [[t.string], [t.uint64], [t.bytes], [t.int], [t.bool], [t.string], [t.uint], [t.bytes]],
  'gossip-header': [[t.string, t.uint64, t.bytes]],
  'unicast-header': [[t.string, t.uint64, t.uint64, t.bytes]],
  topology: [[s.peerSummary, s.connections, s.peerSummary, s.connections, s.peerSummary, s.connections]],
  ring: [[t.ptr(s.ring)]],
  'ring-zero': [[s.ring]],
  'ipam-gossip': [[s.gossipState]],
  'ipam-gossip-many': [[s.gossipState]],
  'ipam-gossip-empty-maps': [[s.gossipState]],
  'ipam-range': [[s.range]],
  'dns-gossip': [[s.gossipData]],
  process: [[s.features], [s.gossipData], [s.features], [s.gossipData]],
  'zero-probe': [[s.zeroProbe], [s.zeroProbe], [s.zeroProbe]],
  'wide-ints': [[s.wideInts, s.wideInts, s.wideInts]],
  nested: [[s.nested]],
  'elem-names': [[t.array(s.inner, 2)], [t.map(t.string, s.wideInts)], [t.slice(s.nested)]],
  'top-level-composites': [[pair, byteLists, intToStrings, t.ptr(s.inner), s.inner]],
};

describe(`gob golden vectors (${vectors.go})`, () => {
  it('covers every case the generator wrote', () => {
    expect(vectors.cases.map((c) => c.name).sort()).toEqual(Object.keys(schemas).sort());
  });

  for (const c of vectors.cases) {
    const perEncoder = schemas[c.name] ?? [];
    it(`${c.name}: decodes Go's bytes to Go's values`, () => {
      c.encodings.forEach((enc, i) => {
        const types = perEncoder[i]!;
        const d = new GobDecoder(hexToBytes(enc.hex));
        enc.values.forEach((json, j) => {
          expect(d.decode(types[j]!)).toEqual(fromJson(types[j]!, json));
        });
        expect(d.atEnd).toBe(true);
      });
    });

    it(`${c.name}: encodes Go's values to Go's bytes, numbering types as one Go process`, () => {
      const process = new GobTypeIds();
      c.encodings.forEach((enc, i) => {
        const types = perEncoder[i]!;
        const e = new GobEncoder({ typeIds: process });
        enc.values.forEach((json, j) => {
          e.encode(types[j]!, fromJson(types[j]!, json) as never);
        });
        const ours = e.finish();
        if (enc.values.some((json, j) => hasUnorderedMap(types[j]!, json))) {
          // Go wrote the map in its random order: same bytes up to entry order.
          expect(ours.length).toBe(enc.hex.length / 2);
          const d = new GobDecoder(ours);
          for (const [j, json] of enc.values.entries())
            expect(d.decode(types[j]!)).toEqual(fromJson(types[j]!, json));
        } else {
          expect(bytesToHex(ours)).toBe(enc.hex);
        }
      });
    });

    it(`${c.name}: re-encodes decoded values to identical bytes`, () => {
      for (const [i, enc] of c.encodings.entries()) {
        const types = perEncoder[i]!;
        const d = new GobDecoder(hexToBytes(enc.hex));
        const values = types.map((ty) => d.decode(ty));
        const e = new GobEncoder({ typeIds: d.typeIds });
        values.forEach((v, j) => {
          e.encode(types[j]!, v as never);
        });
        expect(bytesToHex(e.finish())).toBe(enc.hex);
      }
    });
  }

  it('tells a nil map (omitted) from an empty one (sent with count 0)', () => {
    const probe = vectors.cases.find((c) => c.name === 'zero-probe')!;
    const [withEmpty, allZero] = probe.encodings.map((e) => decodeGob(s.zeroProbe, hexToBytes(e.hex)));
    expect(isGobNilMap(withEmpty!.EmptyMap)).toBe(false);
    expect(isGobNilMap(allZero!.EmptyMap)).toBe(true);
    expect(allZero!.PtrInner).toBeUndefined();
    expect(withEmpty!.PtrInner).toEqual({ A: 0, B: '' });
  });
});
