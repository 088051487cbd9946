/**
 * Encoding, as a Go `gob.Encoder` writes.
 *
 * A stream is a sequence of messages `uint(length) ‖ body`. Before the first value of a type the
 * encoder sends its definition and those of the types it reaches, each in its own message
 * (`int(-id) ‖ wireType`, outermost first). A value message is `int(id) ‖ value`; a struct value is
 * its fields, any other value is a 0 byte then the value ("singleton"). In a struct, each sent field
 * is `uint(field number − previous field number) ‖ value` and a 0 ends it; zero numbers, bools,
 * strings, empty slices, nil maps and nil pointers are omitted, while structs and arrays always go.
 */
import { GobError } from './errors.js';
import type { GobType, Infer } from './schema.js';
import { goTypeString } from './schema.js';
import { baseType, builtinId, GobTypeIds, typeKey } from './type-ids.js';
import { isGobNilMap } from './values.js';
import { fitsInt64, fitsUint64, GobWriter } from './varint.js';
import { encodeWireType } from './wire-types.js';

/** Options of {@link GobEncoder} and {@link encodeGob}. */
export interface GobEncodeOptions {
  /** Type id table to number types with (default: a fresh one, as in a fresh Go process). */
  readonly typeIds?: GobTypeIds;
}

function bad(type: GobType, value: unknown, why = 'not a valid value'): GobError {
  const shown = typeof value === 'bigint' ? `${value}n` : String(value);
  return new GobError(`cannot encode ${shown} as ${goTypeString(type)}: ${why}`);
}

function isOmitted(type: GobType, v: unknown): boolean {
  switch (type.kind) {
    case 'bool':
      return v === false;
    case 'int':
    case 'uint':
      return v === 0;
    case 'int64':
    case 'uint64':
      return v === 0n;
    case 'string':
      return v === '';
    case 'bytes':
    case 'slice':
      return (v as { length?: unknown })?.length === 0;
    case 'map':
      return v instanceof Map && isGobNilMap(v);
    case 'ptr':
      return v === undefined;
    default:
      return false;
  }
}

function writeValue(w: GobWriter, type: GobType, v: unknown): void {
  switch (type.kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw bad(type, v);
      w.uint(v ? 1 : 0);
      return;
    case 'int':
      if (!Number.isSafeInteger(v)) throw bad(type, v, 'not a safe integer');
      w.int(v as number);
      return;
    case 'uint':
      if (!Number.isSafeInteger(v) || (v as number) < 0)
        throw bad(type, v, 'not a non-negative safe integer');
      w.uint(v as number);
      return;
    case 'int64':
      if (typeof v !== 'bigint' || !fitsInt64(v)) throw bad(type, v, 'not an int64 bigint');
      w.int64(v);
      return;
    case 'uint64':
      if (typeof v !== 'bigint' || !fitsUint64(v)) throw bad(type, v, 'not a uint64 bigint');
      w.uint64(v);
      return;
    case 'string':
      if (typeof v !== 'string') throw bad(type, v);
      w.string(v);
      return;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw bad(type, v, 'not a Uint8Array');
      w.bytes(v);
      return;
    case 'struct':
      writeStruct(w, type, v);
      return;
    case 'slice':
    case 'array':
      if (!Array.isArray(v)) throw bad(type, v, 'not an array');
      if (type.kind === 'array' && v.length !== type.len)
        throw bad(type, v, `length ${v.length} ≠ ${type.len}`);
      w.uint(v.length);
      for (const e of v) writeValue(w, type.elem, e);
      return;
    case 'map':
      if (!(v instanceof Map)) throw bad(type, v, 'not a Map');
      w.uint(v.size);
      for (const [k, e] of v) {
        writeValue(w, type.key, k);
        writeValue(w, type.elem, e);
      }
      return;
    case 'ptr':
      // Only a struct field may be nil; gob has no way to send a nil element or top-level value.
      if (v === undefined) throw bad(type, v, 'nil pointer outside a struct field');
      writeValue(w, type.elem, v);
      return;
  }
}

function writeStruct(w: GobWriter, type: GobType & { kind: 'struct' }, v: unknown): void {
  if (typeof v !== 'object' || v === null) throw bad(type, v, 'not an object');
  const obj = v as Record<string, unknown>;
  let last = -1;
  let index = 0;
  for (const [name, ft] of Object.entries(type.fields)) {
    const fv = obj[name];
    if (fv === undefined && ft.kind !== 'ptr') throw bad(type, v, `field ${name} is missing`);
    if (!isOmitted(ft, fv)) {
      w.uint(index - last);
      writeValue(w, ft, fv);
      last = index;
    }
    index++;
  }
  w.uint(0);
}

/**
 * A gob stream from one encoder: type definitions are sent once, before the first value needing them.
 * `new GobEncoder().encode(t1, v1).encode(t2, v2).finish()`.
 */
export class GobEncoder {
  private readonly out = new GobWriter();
  private readonly msg = new GobWriter();
  private readonly sent = new Set<string>();
  /** The id table this encoder numbers types with. */
  readonly typeIds: GobTypeIds;

  constructor(options: GobEncodeOptions = {}) {
    this.typeIds = options.typeIds ?? new GobTypeIds();
  }

  /** Appends `value` of schema `type` (with any type definitions it needs). Returns this encoder. */
  encode<T extends GobType>(type: T, value: Infer<T>): this {
    this.encodeValue(type, value);
    return this;
  }

  private encodeValue(type: GobType, v: unknown): void {
    const base = baseType(type);
    let id = builtinId(base);
    if (id === undefined) {
      id = this.typeIds.register(base);
      this.sendType(base);
    }
    const msg = this.startMessage();
    msg.int(id);
    if (base.kind === 'struct') {
      writeStruct(msg, base, type.kind === 'ptr' ? this.deref(type, v) : v);
    } else {
      msg.uint(0);
      writeValue(msg, type, v);
    }
    this.endMessage();
  }

  /** The bytes of the stream so far (a copy). */
  finish(): Uint8Array {
    return this.out.view().slice();
  }

  private deref(type: GobType, value: unknown): unknown {
    if (value === undefined) throw bad(type, value, 'nil pointer at top level');
    return value;
  }

  private startMessage(): GobWriter {
    this.msg.reset();
    return this.msg;
  }

  private endMessage(): void {
    const body = this.msg.view();
    this.out.uint(body.length);
    this.out.raw(body);
  }

  private sendType(type: GobType): void {
    const b = baseType(type);
    if (builtinId(b) !== undefined) return;
    const key = typeKey(b);
    if (this.sent.has(key)) return;
    this.typeIds.register(b);
    this.sent.add(key);
    const def = this.typeIds.definition(b);
    const msg = this.startMessage();
    msg.int(-def.id);
    encodeWireType(msg, def);
    this.endMessage();
    switch (b.kind) {
      case 'struct':
        for (const ft of Object.values(b.fields)) this.sendType(ft);
        break;
      case 'slice':
      case 'array':
        this.sendType(b.elem);
        break;
      case 'map':
        this.sendType(b.key);
        this.sendType(b.elem);
        break;
    }
  }
}

/** What a fresh Go `gob.Encoder` (in a fresh process, unless `typeIds` says otherwise) writes for one value. */
export function encodeGob<T extends GobType>(
  type: T,
  value: Infer<T>,
  options: GobEncodeOptions = {},
): Uint8Array {
  return new GobEncoder(options).encode(type, value).finish();
}
