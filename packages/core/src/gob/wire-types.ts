/**
 * Type definitions as gob sends them: `-id ‖ wireType` messages, where wireType is itself a gob
 * struct { ArrayT, SliceT, StructT, MapT, GobEncoderT, BinaryMarshalerT, TextMarshalerT } with
 * exactly one field set, and each variant starts with CommonType { Name string; Id typeId }.
 */
import { GobError } from './errors.js';
import type { GobReader, GobWriter } from './varint.js';

/** Type ids gob predefines; user types start above {@link FIRST_USER_TYPE_ID}. */
export const BuiltinId = {
  bool: 1,
  int: 2,
  uint: 3,
  float: 4,
  bytes: 5,
  string: 6,
  complex: 7,
  interface: 8,
} as const;

/** Go's `firstUserId`: a fresh process numbers its first user type one above this. */
export const FIRST_USER_TYPE_ID = 64;

const BUILTIN_NAMES: Record<number, string> = {
  1: 'bool',
  2: 'int',
  3: 'uint',
  4: 'float',
  5: '[]byte',
  6: 'string',
  7: 'complex',
  8: 'interface',
};

/** A received or generated type definition. */
export type WireType =
  | {
      /** The definition's kind. */
      readonly kind: 'struct';
      /** The Go type name (empty for an unnamed composite). */
      readonly name: string;
      /** The type id the definition was sent under. */
      readonly id: number;
      /** The fields, in Go declaration order. */
      readonly fields: WireField[];
    }
  | {
      /** The definition's kind. */
      readonly kind: 'slice';
      /** The Go type name (empty for an unnamed composite). */
      readonly name: string;
      /** The type id the definition was sent under. */
      readonly id: number;
      /** The element's type id. */
      readonly elem: number;
    }
  | {
      /** The definition's kind. */
      readonly kind: 'array';
      /** The Go type name (empty for an unnamed composite). */
      readonly name: string;
      /** The type id the definition was sent under. */
      readonly id: number;
      /** The element's type id. */
      readonly elem: number;
      /** The array's length. */
      readonly len: number;
    }
  | {
      /** The definition's kind. */
      readonly kind: 'map';
      /** The Go type name (empty for an unnamed composite). */
      readonly name: string;
      /** The type id the definition was sent under. */
      readonly id: number;
      /** The key's type id. */
      readonly key: number;
      /** The value's type id. */
      readonly elem: number;
    }
  /** GobEncoder / BinaryMarshaler / TextMarshaler types: opaque to us. */
  | {
      /** The definition's kind. */
      readonly kind: 'opaque';
      /** The Go type name (empty for an unnamed composite). */
      readonly name: string;
      /** The type id the definition was sent under. */
      readonly id: number;
    };

/** One field of a struct definition. */
export interface WireField {
  /** The Go field name. */
  readonly name: string;
  /** The type id of the field's type. */
  readonly id: number;
}

const VARIANT_FIELD = { array: 1, slice: 2, struct: 3, map: 4 } as const;

/** Human-readable description of a wire type id, for error messages. */
export function describeWireId(id: number, defs: ReadonlyMap<number, WireType>): string {
  const builtin = BUILTIN_NAMES[id];
  if (builtin !== undefined) return builtin;
  const def = defs.get(id);
  if (def === undefined) return `unknown type id ${id}`;
  return `${def.kind} ${def.name === '' ? '(unnamed)' : def.name} (id ${id})`;
}

function writeCommon(w: GobWriter, name: string, id: number): void {
  if (name !== '') {
    w.uint(1);
    w.string(name);
    w.uint(1);
  } else {
    w.uint(2);
  }
  w.int(id);
  w.uint(0);
}

/** Writes the body of a type-definition message (after `-id`). */
export function encodeWireType(w: GobWriter, def: WireType): void {
  if (def.kind === 'opaque') throw new GobError(`cannot send opaque type ${def.name}`);
  w.uint(VARIANT_FIELD[def.kind]);
  w.uint(1);
  writeCommon(w, def.name, def.id);
  switch (def.kind) {
    case 'struct':
      if (def.fields.length > 0) {
        w.uint(1);
        w.uint(def.fields.length);
        for (const f of def.fields) {
          if (f.name !== '') {
            w.uint(1);
            w.string(f.name);
            w.uint(1);
          } else {
            w.uint(2);
          }
          w.int(f.id);
          w.uint(0);
        }
      }
      break;
    case 'slice':
      w.uint(1);
      w.int(def.elem);
      break;
    case 'array':
      w.uint(1);
      w.int(def.elem);
      // Len is an ordinary int field: zero is omitted.
      if (def.len !== 0) {
        w.uint(1);
        w.int(def.len);
      }
      break;
    case 'map':
      w.uint(1);
      w.int(def.key);
      w.uint(1);
      w.int(def.elem);
      break;
  }
  w.uint(0);
  w.uint(0);
}

/** Calls `onField(index)` for each field present in a struct encoding, until its terminator. */
function readStruct(r: GobReader, fieldCount: number, what: string, onField: (index: number) => void): void {
  let index = -1;
  for (;;) {
    const delta = r.uint();
    if (delta === 0) return;
    index += delta;
    if (index >= fieldCount) throw new GobError(`bad field number in ${what}`);
    onField(index);
  }
}

function readCommon(r: GobReader): { name: string; id: number } {
  let name = '';
  let id = 0;
  readStruct(r, 2, 'CommonType', (i) => {
    if (i === 0) name = r.string();
    else id = r.int();
  });
  return { name, id };
}

/** Reads the body of a type-definition message for the type `id`. */
export function decodeWireType(r: GobReader, id: number): WireType {
  let def: WireType | undefined;
  readStruct(r, 7, 'wireType', (variant) => {
    if (def !== undefined) throw new GobError(`type definition ${id} has more than one variant`);
    let common = { name: '', id: 0 };
    const nums = [0, 0, 0];
    let fields: WireField[] = [];
    const fieldCount = [3, 2, 2, 3, 1, 1, 1][variant]!;
    readStruct(r, fieldCount, 'type definition', (f) => {
      if (f === 0) common = readCommon(r);
      else if (variant === 2 && f === 1) fields = readFields(r);
      else nums[f] = r.int();
    });
    if (common.id !== id) throw new GobError(`type definition ${id} carries id ${common.id}`);
    const name = common.name;
    if (variant === 0) {
      if (nums[2]! < 0) throw new GobError(`array type ${id} has negative length`);
      def = { kind: 'array', name, id, elem: nums[1]!, len: nums[2]! };
    } else if (variant === 1) def = { kind: 'slice', name, id, elem: nums[1]! };
    else if (variant === 2) def = { kind: 'struct', name, id, fields };
    else if (variant === 3) def = { kind: 'map', name, id, key: nums[1]!, elem: nums[2]! };
    else def = { kind: 'opaque', name, id };
  });
  if (def === undefined) throw new GobError(`type definition ${id} is empty`);
  return def;
}

function readFields(r: GobReader): WireField[] {
  const n = r.uint();
  // Each field takes at least one byte, so a count beyond the bytes left is a lie.
  r.need(n, 'struct fields');
  const fields: WireField[] = [];
  for (let i = 0; i < n; i++) {
    let name = '';
    let id = 0;
    readStruct(r, 2, 'fieldType', (f) => {
      if (f === 0) name = r.string();
      else id = r.int();
    });
    fields.push({ name, id });
  }
  return fields;
}
