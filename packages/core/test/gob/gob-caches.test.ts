// Shared caches of the gob codec: type definitions, bindings and decoded values are reused across
// streams only where the bytes make them exactly the same.
import {
  decodeGob,
  encodeGob,
  encodeGobBody,
  GobDecoder,
  GobEncoder,
  GobTypeIds,
  GobValueCache,
  t,
} from '@weave-ts/core/protocol';
import { describe, expect, it } from 'vitest';

const inner = t.struct('inner', { A: t.int, B: t.string });
const outer = t.struct('outer', { Name: t.string, Items: t.slice(inner), Tags: t.map(t.string, t.uint) });
const value = {
  Name: 'x',
  Items: [
    { A: 1, B: 'one' },
    { A: -2, B: 'two' },
  ],
  Tags: new Map([['k', 7]]),
};

describe('gob caches', () => {
  it('decodes streams from senders numbering and naming types differently, one after the other', () => {
    const fresh = encodeGob(outer, value);
    const shifted = encodeGob(outer, value, { typeIds: new GobTypeIds(200) });
    // Same schema under other wire names: field names match, type names differ.
    const renamed = encodeGob(
      t.struct('Outer2', {
        Name: t.string,
        Items: t.slice(t.struct('Inner2', { A: t.int, B: t.string })),
        Tags: t.map(t.string, t.uint),
      }),
      value,
    );
    expect(shifted).not.toEqual(fresh);
    for (const bytes of [fresh, shifted, renamed, fresh, shifted, renamed]) {
      expect(decodeGob(outer, bytes)).toEqual(value);
    }
    // A narrower schema bound to the same definitions skips the missing fields.
    const narrow = t.struct('outer', { Name: t.string });
    expect(decodeGob(narrow, shifted)).toEqual({ Name: 'x' });
    expect(decodeGob(outer, shifted)).toEqual(value);
  });

  it('gives each decoder the ids its own stream used', () => {
    const a = new GobDecoder(encodeGob(outer, value));
    a.decode(outer);
    const b = new GobDecoder(encodeGob(outer, value, { typeIds: new GobTypeIds(300) }));
    b.decode(outer);
    expect(a.typeIds.get(outer)).toBe(65);
    expect(b.typeIds.get(outer)).toBe(301);
    // Re-encoding with a decoder's table reproduces that stream.
    expect(new GobEncoder({ typeIds: b.typeIds }).encode(outer, value).finish()).toEqual(
      encodeGob(outer, value, { typeIds: new GobTypeIds(300) }),
    );
  });

  it('writes the same bytes from cached definitions as a fresh table does, in any order of types', () => {
    const orders = [
      [inner, outer],
      [outer, inner],
      [outer, outer, inner],
    ] as const;
    for (const order of orders) {
      const sample = (s: typeof inner | typeof outer) => (s === inner ? value.Items[0]! : value);
      const cached = new GobEncoder();
      const own = new GobEncoder({ typeIds: new GobTypeIds() });
      for (const s of order) {
        cached.encode(s, sample(s) as never);
        own.encode(s, sample(s) as never);
      }
      expect(cached.finish()).toEqual(own.finish());
      // The table an encoder reports matches what it sent, and stays its own.
      expect(cached.typeIds.get(outer)).toBe(own.typeIds.get(outer));
      cached.encode(t.struct('later', { X: t.int }), { X: 1 });
      expect(new GobEncoder().typeIds.get(t.struct('later', { X: t.int }))).toBeUndefined();
    }
  });

  it('appends pre-encoded bodies exactly as encode would', () => {
    const body = encodeGobBody(outer, value);
    const list = t.slice(t.string);
    const a = new GobEncoder()
      .encodeBody(outer, body)
      .encodeBody(list, encodeGobBody(list, ['p', 'q']))
      .finish();
    const b = new GobEncoder().encode(outer, value).encode(list, ['p', 'q']).finish();
    expect(a).toEqual(b);
  });

  it('leaves no partial message behind a value that cannot be encoded', () => {
    const e = new GobEncoder();
    expect(() => e.encode(outer, { ...value, Name: 5 as unknown as string })).toThrow(/cannot encode/);
    e.encode(outer, value);
    const d = new GobDecoder(e.finish());
    expect(d.decode(outer)).toEqual(value);
    expect(d.atEnd).toBe(true);
  });

  it('returns the same object for a repeated value, and a new one for other bytes', () => {
    const cache = new GobValueCache();
    const bytes = encodeGob(outer, value);
    const first = new GobDecoder(bytes).decode(outer, cache);
    const again = new GobDecoder(bytes).decode(outer, cache);
    expect(again).toBe(first);
    const other = new GobDecoder(encodeGob(outer, { ...value, Name: 'y' })).decode(outer, cache);
    expect(other).not.toBe(first);
    expect(other.Name).toBe('y');
    // The same bytes under another schema are decoded for that schema.
    const narrow = t.struct('outer', { Name: t.string });
    expect(new GobDecoder(bytes).decode(narrow, cache)).toEqual({ Name: 'x' });
  });

  it('keeps a value cache within its budget', () => {
    const cache = new GobValueCache(1000, 4);
    const list = t.slice(t.int);
    const decoded = Array.from({ length: 10 }, (_, i) =>
      new GobDecoder(encodeGob(list, [i])).decode(list, cache),
    );
    // The oldest were dropped: decoding them again gives new objects; the newest are still kept.
    expect(new GobDecoder(encodeGob(list, [0])).decode(list, cache)).not.toBe(decoded[0]);
    expect(new GobDecoder(encodeGob(list, [9])).decode(list, cache)).toBe(decoded[9]);
  });

  it('decodes many differently defined streams correctly past the shared-state limit', () => {
    for (let i = 0; i < 1500; i++) {
      const s = t.struct(`T${i}`, { V: t.int });
      expect(decodeGob(s, encodeGob(s, { V: i }))).toEqual({ V: i });
    }
    expect(decodeGob(outer, encodeGob(outer, value))).toEqual(value);
  });

  it('skips string and nested fields the schema lacks (the length is not read twice)', () => {
    const wide = t.struct('row', { Id: t.int, Label: t.string, Inner: inner, Last: t.uint });
    const narrow = t.struct('row', { Id: t.int, Last: t.uint });
    const bytes = encodeGob(wide, { Id: 3, Label: 'a label', Inner: { A: 1, B: 'bee' }, Last: 9 });
    expect(decodeGob(narrow, bytes)).toEqual({ Id: 3, Last: 9 });
  });
});
