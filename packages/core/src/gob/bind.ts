/**
 * Binding: turning (schema, wire type id) into a decoding function, as Go compiles a decoder engine
 * from the local type and the type definitions received. Struct fields are matched by name; wire
 * fields the schema lacks are skipped; schema fields the message lacks keep their zero value. A wire
 * type that cannot fill the schema is a "type mismatch", reported when binding, before any value.
 */
import { GobError, GobLimitError, MAX_GOB_DEPTH } from './errors.js';
import type { GobStructType, GobType } from './schema.js';
import { goTypeString } from './schema.js';
import { baseType, builtinId, type GobTypeIds } from './type-ids.js';
import { zeroValue } from './values.js';
import type { GobReader } from './varint.js';
import { BuiltinId, describeWireId, type WireType } from './wire-types.js';

/** Decodes one value whose encoding starts at the reader's position. */
export type DecodeFn = (r: GobReader, depth: number) => unknown;

/**
 * A schema bound to a wire type. Bindings depend only on the schema and the type definitions, so
 * one is shared by every stream that carried the same definitions (see stream-state.ts). What binding
 * tells the decoder's id table (Go `Decoder` keeps no such table; ours lets callers re-encode alike)
 * is kept here and replayed per stream by {@link pinBinding}.
 */
export interface Binding {
  readonly fn: DecodeFn;
  /** Whether values of the wire type are structs (sent without the singleton marker at top level). */
  readonly isStruct: boolean;
  readonly schema: GobType;
  readonly id: number;
  /** The wire name to pin `schema` to `id` with; undefined for builtin types (nothing to pin). */
  readonly name: string | undefined;
  /** The bindings this one reached, in the order it bound them. */
  readonly reached: readonly Binding[];
  /** A number telling bindings apart (for hashing in value-cache.ts). */
  readonly serial: number;
}

let serials = 0;

/**
 * Pins `b` and everything it reached into `ids`, as binding them on a fresh stream would, once per
 * (schema, id) pair: `seen` holds the pairs this stream already pinned.
 */
export function pinBinding(b: Binding, ids: GobTypeIds, seen: Map<GobType, Set<number>>): void {
  let pinned = seen.get(b.schema);
  if (pinned === undefined) {
    pinned = new Set();
    seen.set(b.schema, pinned);
  }
  if (pinned.has(b.id)) return;
  pinned.add(b.id);
  if (b.name !== undefined) ids.set(b.schema, b.id, b.name);
  for (const r of b.reached) pinBinding(r, ids, seen);
}

/** Fails when `n` elements exceed the schema's bound (before they are allocated). */
function checkLen(schema: GobType & { readonly maxLen?: number }, n: number): void {
  const max = schema.maxLen;
  if (max !== undefined && n > max) {
    const type = goTypeString(schema);
    throw new GobLimitError(
      `elements of ${type}`,
      max,
      n,
      `${n} elements of ${type} exceed the limit of ${max}`,
    );
  }
}

function tooDeep(depth: number): void {
  if (depth > MAX_GOB_DEPTH) throw new GobError(`data nested deeper than ${MAX_GOB_DEPTH} levels`);
}

/** Bytes, structs, slices, arrays and maps get a fresh zero value each; the rest share constants. */
function hasFreshZero(type: GobType): boolean {
  switch (type.kind) {
    case 'bytes':
    case 'struct':
    case 'slice':
    case 'array':
    case 'map':
      return true;
    default:
      return false;
  }
}

/**
 * Binds schemas to one set of type definitions. Bindings are cached for as long as the binder and the
 * schema live (weakly by schema: callers may build schemas on the fly).
 */
export class Binder {
  private readonly cache = new WeakMap<GobType, Map<number, Binding>>();

  constructor(private readonly defs: ReadonlyMap<number, WireType>) {}

  /** The binding of values of wire type `id` read into `schema`. */
  bind(schema: GobType, id: number): Binding {
    const base = baseType(schema);
    let byId = this.cache.get(base);
    if (byId === undefined) {
      byId = new Map();
      this.cache.set(base, byId);
    }
    let b = byId.get(id);
    if (b === undefined) {
      b = this.compile(base, id);
      byId.set(id, b);
    }
    return b;
  }

  private mismatch(schema: GobType, id: number, detail = ''): GobError {
    const wire = describeWireId(id, this.defs);
    return new GobError(`type mismatch: cannot decode ${wire} into ${goTypeString(schema)}${detail}`);
  }

  private compile(schema: GobType, id: number): Binding {
    const builtin = builtinId(schema);
    if (builtin !== undefined) {
      if (builtin !== id) throw this.mismatch(schema, id);
      return {
        fn: basicDecoder(schema),
        isStruct: false,
        schema,
        id,
        name: undefined,
        reached: [],
        serial: ++serials,
      };
    }
    const def = this.defs.get(id);
    if (def === undefined || def.kind !== schema.kind) throw this.mismatch(schema, id);
    const reached: Binding[] = [];
    const bound = (s: GobType, i: number): DecodeFn => {
      const b = this.bind(s, i);
      reached.push(b);
      return b.fn;
    };
    const fn = this.compileFn(schema, id, def, bound);
    return { fn, isStruct: def.kind === 'struct', schema, id, name: def.name, reached, serial: ++serials };
  }

  private compileFn(
    schema: GobType,
    id: number,
    def: WireType,
    bound: (s: GobType, i: number) => DecodeFn,
  ): DecodeFn {
    if (schema.kind === 'struct' && def.kind === 'struct') return this.compileStruct(schema, def, bound);
    if (schema.kind === 'slice' && def.kind === 'slice') {
      const elem = bound(schema.elem, def.elem);
      return (r, depth) => {
        tooDeep(depth);
        const n = r.uint();
        checkLen(schema, n);
        // Every element takes at least one byte: a larger count cannot be honest.
        r.need(n, 'slice elements');
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = elem(r, depth + 1);
        return out;
      };
    }
    if (schema.kind === 'array' && def.kind === 'array') {
      if (def.len !== schema.len) throw this.mismatch(schema, id, ` (length ${def.len} ≠ ${schema.len})`);
      const elem = bound(schema.elem, def.elem);
      const len = schema.len;
      return (r, depth) => {
        tooDeep(depth);
        if (r.uint() !== len) throw new GobError(`array length mismatch for ${goTypeString(schema)}`);
        r.need(len, 'array elements');
        const out = new Array<unknown>(len);
        for (let i = 0; i < len; i++) out[i] = elem(r, depth + 1);
        return out;
      };
    }
    if (schema.kind === 'map' && def.kind === 'map') {
      const key = bound(schema.key, def.key);
      const elem = bound(schema.elem, def.elem);
      return (r, depth) => {
        tooDeep(depth);
        const n = r.uint();
        checkLen(schema, n);
        r.need(2 * n, 'map entries');
        const out = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = key(r, depth + 1);
          out.set(k, elem(r, depth + 1));
        }
        return out;
      };
    }
    throw this.mismatch(schema, id);
  }

  private compileStruct(
    schema: GobStructType,
    def: WireType & { kind: 'struct' },
    bound: (s: GobType, i: number) => DecodeFn,
  ): DecodeFn {
    const names = Object.keys(schema.fields);
    let matched = 0;
    // The plan, by wire field number: where the value goes (undefined: skipped) and how to read it.
    const keys: (string | undefined)[] = [];
    const fns: DecodeFn[] = [];
    for (const wf of def.fields) {
      const ft = Object.hasOwn(schema.fields, wf.name) ? schema.fields[wf.name] : undefined;
      if (ft === undefined) {
        this.checkKnown(wf.id);
        keys.push(undefined);
        fns.push((r, depth) => this.skip(r, wf.id, depth));
        continue;
      }
      matched++;
      try {
        keys.push(wf.name);
        fns.push(bound(ft, wf.id));
      } catch (e) {
        if (!(e instanceof GobError)) throw e;
        throw new GobError(`field ${schema.name}.${wf.name}: ${e.message.replace(/^gob: /, '')}`);
      }
    }
    if (matched === 0 && names.length > 0 && def.fields.length > 0) {
      throw new GobError(`type mismatch: no fields matched compiling decoder for ${schema.name}`);
    }
    // Every result starts as a copy of `template` (same keys, same order, so one object shape):
    // fields whose zero value is a shared constant hold it already; the others (and nil pointers)
    // hold undefined, and those left unset get a fresh zero value at the end.
    const template: Record<string, unknown> = {};
    const freshNames: string[] = [];
    const freshTypes: GobType[] = [];
    for (const n of names) {
      const ft = schema.fields[n]!;
      if (ft.kind === 'ptr' || hasFreshZero(ft)) template[n] = undefined;
      else template[n] = zeroValue(ft);
      if (ft.kind !== 'ptr' && hasFreshZero(ft)) {
        freshNames.push(n);
        freshTypes.push(ft);
      }
    }
    const count = fns.length;
    const defName = def.name || 'struct';
    return (r, depth) => {
      tooDeep(depth);
      const obj: Record<string, unknown> = { ...template };
      let index = -1;
      for (;;) {
        const delta = r.uint();
        if (delta === 0) break;
        index += delta;
        if (index >= count) throw new GobError(`field number ${index} out of range in ${defName}`);
        const v = fns[index]!(r, depth + 1);
        const key = keys[index];
        if (key !== undefined) obj[key] = v;
      }
      for (let i = 0; i < freshNames.length; i++) {
        const n = freshNames[i]!;
        if (obj[n] === undefined) obj[n] = zeroValue(freshTypes[i]!);
      }
      return obj;
    };
  }

  private checkKnown(id: number): void {
    if (id !== BuiltinId.interface && id >= 1 && id <= BuiltinId.complex) return;
    if (!this.defs.has(id)) throw new GobError(`unknown type id ${id}`);
  }

  /** Skips a value of wire type `id`, as Go ignores fields the local type lacks. */
  private skip(r: GobReader, id: number, depth: number): void {
    tooDeep(depth);
    switch (id) {
      case BuiltinId.bool:
      case BuiltinId.int:
      case BuiltinId.uint:
      case BuiltinId.float:
        r.skipUint();
        return;
      case BuiltinId.complex:
        r.skipUint();
        r.skipUint();
        return;
      case BuiltinId.bytes:
      case BuiltinId.string: {
        // Read the length before taking `pos` (`r.pos += r.length()` would lose the length's bytes).
        const n = r.length('a skipped string');
        r.pos += n;
        return;
      }
    }
    const def = this.defs.get(id);
    if (def === undefined) throw new GobError(`cannot skip a value of ${describeWireId(id, this.defs)}`);
    switch (def.kind) {
      case 'struct': {
        let index = -1;
        for (;;) {
          const delta = r.uint();
          if (delta === 0) return;
          index += delta;
          const f = def.fields[index];
          if (f === undefined)
            throw new GobError(`field number ${index} out of range in ${def.name || 'struct'}`);
          this.skip(r, f.id, depth + 1);
        }
      }
      case 'slice':
      case 'array': {
        const n = r.uint();
        if (def.kind === 'array' && n !== def.len) throw new GobError('array length mismatch');
        r.need(n, 'skipped elements');
        for (let i = 0; i < n; i++) this.skip(r, def.elem, depth + 1);
        return;
      }
      case 'map': {
        const n = r.uint();
        r.need(2 * n, 'skipped map entries');
        for (let i = 0; i < n; i++) {
          this.skip(r, def.key, depth + 1);
          this.skip(r, def.elem, depth + 1);
        }
        return;
      }
      case 'opaque': {
        const n = r.length('a skipped opaque value');
        r.pos += n;
        return;
      }
    }
  }
}

function basicDecoder(schema: GobType): DecodeFn {
  switch (schema.kind) {
    case 'bool':
      return (r) => r.nonZeroUint();
    case 'int':
      return (r) => r.int();
    case 'int64':
      return (r) => r.int64();
    case 'uint':
      return (r) => r.uint();
    case 'uint64':
      return (r) => r.uint64();
    case 'string':
      return (r) => r.string();
    default:
      return (r) => r.bytesValue();
  }
}
