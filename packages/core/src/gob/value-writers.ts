/**
 * Writing values: each schema is compiled once into a function writing its values, so encoding does
 * not walk the schema again for every value. The functions depend only on the schema (never on type
 * ids), so they are cached per schema object for as long as it lives.
 *
 * In a struct, each sent field is `uint(field number − previous field number) ‖ value` and a 0 ends
 * it; zero numbers, bools, strings, empty slices, nil maps and nil pointers are omitted, while
 * structs and arrays always go.
 */
import { GobError } from './errors.js';
import type { GobStructType, GobType } from './schema.js';
import { goTypeString } from './schema.js';
import { isGobNilMap } from './values.js';
import { fitsInt64, fitsUint64, type GobWriter } from './varint.js';

/** Writes one value of the schema it was compiled for (no message framing). */
export type WriteFn = (w: GobWriter, v: unknown) => void;

/** The error for a value that does not fit its schema. */
export function bad(type: GobType, value: unknown, why = 'not a valid value'): GobError {
  const shown = typeof value === 'bigint' ? `${value}n` : String(value);
  return new GobError(`cannot encode ${shown} as ${goTypeString(type)}: ${why}`);
}

const writers = new WeakMap<GobType, WriteFn>();

/** The writer for values of `type` (compiled on first use). */
export function writerFor(type: GobType): WriteFn {
  let fn = writers.get(type);
  if (fn === undefined) {
    fn = compile(type);
    writers.set(type, fn);
  }
  return fn;
}

type OmitFn = (v: unknown) => boolean;
const never: OmitFn = () => false;
const isFalse: OmitFn = (v) => v === false;
const isZero: OmitFn = (v) => v === 0;
const isZeroBig: OmitFn = (v) => v === 0n;
const isEmptyString: OmitFn = (v) => v === '';
const isEmpty: OmitFn = (v) => (v as { length?: unknown })?.length === 0;
const isNilMap: OmitFn = (v) => v instanceof Map && isGobNilMap(v);
const isNil: OmitFn = (v) => v === undefined;

/** Whether a struct field of `type` holding a value is left out of the struct's encoding. */
function omitFor(type: GobType): OmitFn {
  switch (type.kind) {
    case 'bool':
      return isFalse;
    case 'int':
    case 'uint':
      return isZero;
    case 'int64':
    case 'uint64':
      return isZeroBig;
    case 'string':
      return isEmptyString;
    case 'bytes':
    case 'slice':
      return isEmpty;
    case 'map':
      return isNilMap;
    case 'ptr':
      return isNil;
    default:
      return never;
  }
}

function compile(type: GobType): WriteFn {
  switch (type.kind) {
    case 'bool':
      return (w, v) => {
        if (typeof v !== 'boolean') throw bad(type, v);
        w.uint(v ? 1 : 0);
      };
    case 'int':
      return (w, v) => {
        if (!Number.isSafeInteger(v)) throw bad(type, v, 'not a safe integer');
        w.int(v as number);
      };
    case 'uint':
      return (w, v) => {
        if (!Number.isSafeInteger(v) || (v as number) < 0)
          throw bad(type, v, 'not a non-negative safe integer');
        w.uint(v as number);
      };
    case 'int64':
      return (w, v) => {
        if (typeof v !== 'bigint' || !fitsInt64(v)) throw bad(type, v, 'not an int64 bigint');
        w.int64(v);
      };
    case 'uint64':
      return (w, v) => {
        if (typeof v !== 'bigint' || !fitsUint64(v)) throw bad(type, v, 'not a uint64 bigint');
        w.uint64(v);
      };
    case 'string':
      return (w, v) => {
        if (typeof v !== 'string') throw bad(type, v);
        w.string(v);
      };
    case 'bytes':
      return (w, v) => {
        if (!(v instanceof Uint8Array)) throw bad(type, v, 'not a Uint8Array');
        w.bytes(v);
      };
    case 'struct':
      return compileStruct(type);
    case 'slice':
    case 'array': {
      // Element writers are looked up on first use, so compiling never recurses.
      let elem: WriteFn | undefined;
      return (w, v) => {
        if (!Array.isArray(v)) throw bad(type, v, 'not an array');
        if (type.kind === 'array' && v.length !== type.len)
          throw bad(type, v, `length ${v.length} ≠ ${type.len}`);
        w.uint(v.length);
        const write = elem ?? writerFor(type.elem);
        elem = write;
        for (let i = 0; i < v.length; i++) write(w, v[i]);
      };
    }
    case 'map': {
      let key: WriteFn | undefined;
      let elem: WriteFn | undefined;
      return (w, v) => {
        if (!(v instanceof Map)) throw bad(type, v, 'not a Map');
        w.uint(v.size);
        const writeKey = key ?? writerFor(type.key);
        const writeElem = elem ?? writerFor(type.elem);
        key = writeKey;
        elem = writeElem;
        for (const [k, e] of v) {
          writeKey(w, k);
          writeElem(w, e);
        }
      };
    }
    case 'ptr': {
      let elem: WriteFn | undefined;
      return (w, v) => {
        // Only a struct field may be nil; gob has no way to send a nil element or top-level value.
        if (v === undefined) throw bad(type, v, 'nil pointer outside a struct field');
        const write = elem ?? writerFor(type.elem);
        elem = write;
        write(w, v);
      };
    }
  }
}

function compileStruct(type: GobStructType): WriteFn {
  const names = Object.keys(type.fields);
  const fieldTypes = names.map((n) => type.fields[n]!);
  const omit = fieldTypes.map(omitFor);
  const isPtr = fieldTypes.map((ft) => ft.kind === 'ptr');
  let fields: WriteFn[] | undefined;
  return (w, v) => {
    if (typeof v !== 'object' || v === null) throw bad(type, v, 'not an object');
    const obj = v as Record<string, unknown>;
    const write = fields ?? fieldTypes.map(writerFor);
    fields = write;
    let last = -1;
    for (let i = 0; i < names.length; i++) {
      const fv = obj[names[i]!];
      if (fv === undefined && !isPtr[i]) throw bad(type, v, `field ${names[i]} is missing`);
      if (!omit[i]!(fv)) {
        w.uint(i - last);
        write[i]!(w, fv);
        last = i;
      }
    }
    w.uint(0);
  };
}
