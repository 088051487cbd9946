// Property tests: random schemas and values round-trip; random and mutated bytes only ever decode or
// fail with GobError, quickly.
import { readFileSync } from 'node:fs';
import {
  decodeGob,
  encodeGob,
  GobDecoder,
  GobEncoder,
  GobError,
  type GobType,
  type GobValueType,
  t,
} from '@weave-ts/core/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from './json-values.js';
import * as s from './schemas.js';

const fieldName = fc.constantFrom('A', 'B', 'Name', 'Peer', 'X1', 'Ünicode');

const schemaArb: fc.Arbitrary<GobValueType> = fc.letrec<{ type: GobValueType }>((tie) => ({
  type: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<GobValueType>(t.bool, t.int, t.int64, t.uint, t.uint64, t.string, t.bytes),
    tie('type').map((e) => t.slice(e)),
    fc.tuple(tie('type'), fc.integer({ min: 0, max: 3 })).map(([e, n]) => t.array(e, n)),
    fc
      .tuple(fc.constantFrom<GobValueType>(t.string, t.int, t.uint64), tie('type'))
      .map(([k, v]) => t.map(k, v)),
    fc
      .uniqueArray(fc.tuple(fieldName, tie('type'), fc.boolean()), { selector: ([n]) => n, maxLength: 4 })
      .map((fields) =>
        t.struct(
          'S',
          Object.fromEntries(fields.map(([n, ft, ptr]) => [n, ptr && ft.kind === 'struct' ? t.ptr(ft) : ft])),
        ),
      ),
  ),
})).type;

function valueArb(type: GobType): fc.Arbitrary<unknown> {
  switch (type.kind) {
    case 'bool':
      return fc.boolean();
    case 'int':
      return fc.maxSafeInteger();
    case 'uint':
      return fc.maxSafeNat();
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'uint64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 8 });
    case 'bytes':
      return fc.uint8Array({ maxLength: 8 });
    case 'slice':
      return fc.array(valueArb(type.elem), { maxLength: 3 });
    case 'array':
      return fc.array(valueArb(type.elem), { minLength: type.len, maxLength: type.len });
    case 'map':
      return fc
        .uniqueArray(fc.tuple(valueArb(type.key), valueArb(type.elem)), {
          selector: ([k]) => k,
          maxLength: 3,
        })
        .map((entries) => new Map(entries));
    case 'ptr':
      return fc.option(valueArb(type.elem), { nil: undefined });
    case 'struct':
      return fc.record(
        Object.fromEntries(Object.entries(type.fields).map(([n, ft]) => [n, valueArb(ft)])) as Record<
          string,
          fc.Arbitrary<unknown>
        >,
      );
  }
}

const typed = schemaArb.chain((type) => valueArb(type).map((value) => ({ type, value })));

describe('gob properties', () => {
  it('decode(encode(v)) = v and encoding is stable across a round trip, for random schemas', () => {
    fc.assert(
      fc.property(typed, ({ type, value }) => {
        const bytes = encodeGob(type, value as never);
        const back = decodeGob(type, bytes);
        expect(back).toEqual(value);
        expect(encodeGob(type, back as never)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('a stream of several values from one encoder decodes in order', () => {
    fc.assert(
      fc.property(fc.array(typed, { minLength: 1, maxLength: 4 }), (items) => {
        const enc = new GobEncoder();
        for (const { type, value } of items) enc.encode(type, value as never);
        const d = new GobDecoder(enc.finish());
        for (const { type, value } of items) expect(d.decode(type)).toEqual(value);
        expect(d.atEnd).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

// Fuzzing: the captured payloads (and random bytes), mutated, against Weave-like schemas.
const captured = (
  JSON.parse(readFileSync(new URL('../fixtures/gob/weaver-2.8.1-gossip.json', import.meta.url), 'utf8')) as {
    messages: { hex: string }[];
  }
).messages.map((m) => hexToBytes(m.hex));
const targets: GobType[] = [
  s.features,
  s.gossipState,
  s.gossipData,
  s.peerSummary,
  s.connections,
  s.range,
  t.string,
];

/** Decodes `bytes` as a gossip message (or, failing the header, as one value of each target). */
function decodeAnyway(bytes: Uint8Array): void {
  for (const type of targets) {
    try {
      const d = new GobDecoder(bytes);
      while (!d.atEnd) d.decode(type);
    } catch (e) {
      if (!(e instanceof GobError)) throw e;
    }
  }
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
);

function mutate(bytes: Uint8Array, muts: { kind: string; at: number; value: number }[]): Uint8Array {
  let out = Array.from(bytes);
  for (const m of muts) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'flip') out[at] = m.value;
    else if (m.kind === 'insert') out.splice(at, 0, m.value);
    else if (m.kind === 'delete') out.splice(at, 1);
    else out = out.slice(0, at);
  }
  return Uint8Array.from(out);
}

/** The gob payload inside a captured gossip message, or the features map itself. */
function gobPart(msg: Uint8Array): Uint8Array {
  if (msg[0] !== 4 && msg[0] !== 5 && msg[0] !== 6) return msg;
  const d = new GobDecoder(msg.subarray(1));
  d.decode(t.string);
  d.decode(t.uint64);
  if (msg[0] === 5) d.decode(t.uint64);
  const payload = d.decode(t.bytes);
  return msg[0] === 5 ? payload.subarray(1) : payload;
}
const payloads = captured.map(gobPart);

describe('gob fuzzing', () => {
  it('random bytes decode or fail with GobError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodeAnyway(bytes)),
      { numRuns: 400 },
    );
  });

  it('mutated captured messages and payloads decode or fail with GobError', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: captured.length - 1 }),
        fc.boolean(),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (index, whole, muts) => decodeAnyway(mutate(whole ? captured[index]! : payloads[index]!, muts)),
      ),
      { numRuns: 400 },
    );
  });
});
