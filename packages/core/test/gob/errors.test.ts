// Bad input: every failure is a GobError with a clear message, never a crash, hang or huge allocation.
import {
  decodeGob,
  encodeGob,
  GobDecoder,
  GobError,
  type GobType,
  MAX_GOB_DEPTH,
  t,
} from '@weave-ts/core/protocol';
import { describe, expect, it } from 'vitest';
import type { WireType } from '../../src/gob/wire-types.js';
import { handMadeStream } from './hand-made-stream.js';
import { hexToBytes } from './json-values.js';
import * as s from './schemas.js';

function expectGobError(fn: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(GobError);
  expect((thrown as GobError).name).toBe('GobError');
  expect((thrown as GobError).message).toMatch(message);
}

const sample = encodeGob(s.gossipData, {
  Timestamp: 5n,
  Entries: [
    { ContainerID: 'c1', Origin: 1n, Addr: 1, Hostname: 'h.weave.local.', Version: 1, Tombstone: 0n },
  ],
});

describe('gob decoding failures', () => {
  it('reports every truncation of a valid stream', () => {
    for (let n = 0; n < sample.length; n++) {
      expectGobError(
        () => decodeGob(s.gossipData, sample.subarray(0, n)),
        /truncated|end of stream|unexpected end/,
      );
    }
  });

  it('rejects trailing bytes after the value', () => {
    const extra = Uint8Array.from([...sample, 0x01, 0x00]);
    expectGobError(() => decodeGob(s.gossipData, extra), /extra data|truncated|empty message/);
  });

  it('rejects absurd lengths and counts before allocating', () => {
    // A []byte singleton claiming 2^40 bytes, and a slice claiming 2^50 elements.
    expectGobError(() => decodeGob(t.bytes, hexToBytes('0a0a00fb0100000000')), /truncated/);
    const list = t.slice(t.string);
    const bytes = handMadeStream([{ kind: 'slice', name: '', id: 65, elem: 6 }], 65, (w) => {
      w.uint(0);
      w.uint(2 ** 50);
    });
    expectGobError(() => decodeGob(list, bytes), /truncated data reading slice elements/);
    expectGobError(() => decodeGob(t.uint64, hexToBytes('0a0600f7010203040506070809')), /bad uint|truncated/);
  });

  it('rejects unknown, reserved and duplicate type ids', () => {
    expectGobError(() => decodeGob(s.inner, hexToBytes('03ff820000')), /unknown type id 65/);
    const def: WireType = { kind: 'struct', name: 'inner', id: 65, fields: [{ name: 'A', id: 99 }] };
    expectGobError(
      () =>
        decodeGob(
          s.range,
          handMadeStream([def], 65, (w) => w.uint(0)),
        ),
      /no fields matched|unknown type id/,
    );
    const reserved: WireType = { kind: 'slice', name: '', id: 16, elem: 2 };
    expectGobError(
      () =>
        decodeGob(
          t.slice(t.int),
          handMadeStream([reserved], 16, (w) => w.uint(0)),
        ),
      /reserved/,
    );
    const twice: WireType = { kind: 'slice', name: '', id: 70, elem: 2 };
    expectGobError(
      () =>
        decodeGob(
          t.slice(t.int),
          handMadeStream([twice, twice], 70, (w) => w.uint(0)),
        ),
      /duplicate type/,
    );
  });

  it('reports a wire type that does not fit the schema as a type mismatch', () => {
    expectGobError(
      () => decodeGob(t.string, encodeGob(t.uint, 5)),
      /type mismatch: cannot decode uint into string/,
    );
    expectGobError(() => decodeGob(t.int, encodeGob(t.uint, 5)), /type mismatch/);
    const wrongField = t.struct('Range', { Start: t.string, End: t.uint });
    expectGobError(
      () => decodeGob(wrongField, encodeGob(s.range, { Start: 1, End: 2 })),
      /field Range.Start: type mismatch: cannot decode uint into string/,
    );
    expectGobError(
      () => decodeGob(t.array(t.int, 2), encodeGob(t.array(t.int, 3), [1, 2, 3])),
      /length 3 ≠ 2/,
    );
    expectGobError(() => decodeGob(t.map(t.string, t.int), encodeGob(t.slice(t.int), [1])), /type mismatch/);
    expectGobError(
      () => decodeGob(t.struct('Other', { X: t.int }), encodeGob(s.range, { Start: 1, End: 2 })),
      /no fields matched/,
    );
  });

  it('fills schema fields the message lacks with zero values and skips wire fields the schema lacks', () => {
    const bytes = encodeGob(s.wideInts, { I: -3n, U: 7n, I8: 1, U16: 2, N: 9n });
    const narrow = t.struct('wideInts', {
      U: t.uint64,
      Missing: t.string,
      Extra: t.map(t.string, t.int),
      P: t.ptr(s.inner),
    });
    const v = decodeGob(narrow, bytes);
    expect(v).toEqual({ U: 7n, Missing: '', Extra: new Map(), P: undefined });
  });

  it('rejects integers that do not fit the schema', () => {
    expectGobError(() => decodeGob(t.uint, encodeGob(t.uint64, 2n ** 60n)), /out of range/);
    expectGobError(() => decodeGob(t.int, encodeGob(t.int64, -(2n ** 60n))), /out of range/);
  });

  it('caps nesting depth, for schemas and for recursive wire types being skipped', () => {
    let deep: GobType = t.int;
    let value: unknown = 1;
    for (let i = 0; i < MAX_GOB_DEPTH + 5; i++) {
      deep = t.slice(deep);
      value = [value];
    }
    const bytes = encodeGob(deep, value as never);
    expectGobError(() => decodeGob(deep, bytes), /nested deeper/);

    // struct Node { A int; Next Node } (gob allows recursive types); the schema only knows A.
    const node: WireType = {
      kind: 'struct',
      name: 'Node',
      id: 65,
      fields: [
        { name: 'A', id: 2 },
        { name: 'Next', id: 65 },
      ],
    };
    const chain = (depth: number) =>
      handMadeStream([node], 65, (w) => {
        for (let i = 0; i < depth; i++) w.uint(2); // delta to Next
        w.uint(1);
        w.int(7);
        for (let i = 0; i <= depth; i++) w.uint(0);
      });
    const schema = t.struct('Node', { A: t.int });
    expect(decodeGob(schema, chain(0))).toEqual({ A: 7 });
    expect(decodeGob(schema, chain(10))).toEqual({ A: 0 }); // A only inside the skipped chain
    const outer = handMadeStream([node], 65, (w) => {
      w.uint(1);
      w.int(1);
      for (let i = 0; i < 10_000; i++) w.uint(1); // Next, Next, ...
      for (let i = 0; i < 10_000; i++) w.uint(0);
      w.uint(0);
    });
    expectGobError(() => decodeGob(schema, outer), /nested deeper/);
  });

  it('rejects a non-zero singleton marker and values after end of stream', () => {
    expectGobError(() => decodeGob(t.string, hexToBytes('040c01017a')), /non-zero delta for singleton/);
    const d = new GobDecoder(encodeGob(t.string, 'x'));
    d.decode(t.string);
    expectGobError(() => d.decode(t.string), /end of stream/);
  });

  it('refuses values gob cannot encode', () => {
    expectGobError(() => encodeGob(t.uint, -1), /non-negative/);
    expectGobError(() => encodeGob(t.uint64, 2n ** 64n), /uint64/);
    expectGobError(() => encodeGob(t.slice(t.ptr(s.inner)), [undefined]), /nil pointer/);
    expectGobError(() => encodeGob(t.array(t.int, 2), [1]), /length 1/);
  });
});
