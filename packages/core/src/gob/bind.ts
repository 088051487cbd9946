/**
 * Binding: turning (schema, wire type id) into a decoding function, as Go compiles a decoder engine
 * from the local type and the type definitions received. Struct fields are matched by name; wire
 * fields the schema lacks are skipped; schema fields the message lacks keep their zero value. A wire
 * type that cannot fill the schema is a "type mismatch", reported when binding, before any value.
 */
import { GobError, MAX_GOB_DEPTH } from './errors.js';
import type { GobStructType, GobType } from './schema.js';
import { goTypeString } from './schema.js';
import { baseType, builtinId, type GobTypeIds } from './type-ids.js';
import { zeroValue } from './values.js';
import type { GobReader } from './varint.js';
import { BuiltinId, describeWireId, type WireType } from './wire-types.js';

/** Decodes one value whose encoding starts at the reader's position. */
export type DecodeFn = (r: GobReader, depth: number) => unknown;

function tooDeep(depth: number): void {
  if (depth > MAX_GOB_DEPTH) throw new GobError(`data nested deeper than ${MAX_GOB_DEPTH} levels`);
}

/** Binds schemas to the type definitions received on one stream. */
export class Binder {
  private readonly cache = new Map<GobType, Map<number, DecodeFn>>();

  constructor(
    private readonly defs: ReadonlyMap<number, WireType>,
    private readonly typeIds: GobTypeIds,
  ) {}

  /** Whether values of wire type `id` are encoded as structs (no singleton marker at top level). */
  isStruct(id: number): boolean {
    return this.defs.get(id)?.kind === 'struct';
  }

  /** The decoding function for values of wire type `id` read into `schema`. */
  bind(schema: GobType, id: number): DecodeFn {
    const base = baseType(schema);
    let byId = this.cache.get(base);
    if (byId === undefined) {
      byId = new Map();
      this.cache.set(base, byId);
    }
    let fn = byId.get(id);
    if (fn === undefined) {
      fn = this.compile(base, id);
      byId.set(id, fn);
    }
    return fn;
  }

  private mismatch(schema: GobType, id: number, detail = ''): GobError {
    const wire = describeWireId(id, this.defs);
    return new GobError(`type mismatch: cannot decode ${wire} into ${goTypeString(schema)}${detail}`);
  }

  private compile(schema: GobType, id: number): DecodeFn {
    const builtin = builtinId(schema);
    if (builtin !== undefined) {
      if (builtin !== id) throw this.mismatch(schema, id);
      return basicDecoder(schema);
    }
    const def = this.defs.get(id);
    if (def === undefined || def.kind !== schema.kind) throw this.mismatch(schema, id);
    this.typeIds.set(schema, id, def.name);
    if (schema.kind === 'struct' && def.kind === 'struct') return this.compileStruct(schema, def);
    if (schema.kind === 'slice' && def.kind === 'slice') {
      const elem = this.bind(schema.elem, def.elem);
      return (r, depth) => {
        tooDeep(depth);
        const n = r.uint();
        // Every element takes at least one byte: a larger count cannot be honest.
        r.need(n, 'slice elements');
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = elem(r, depth + 1);
        return out;
      };
    }
    if (schema.kind === 'array' && def.kind === 'array') {
      if (def.len !== schema.len) throw this.mismatch(schema, id, ` (length ${def.len} ≠ ${schema.len})`);
      const elem = this.bind(schema.elem, def.elem);
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
      const key = this.bind(schema.key, def.key);
      const elem = this.bind(schema.elem, def.elem);
      return (r, depth) => {
        tooDeep(depth);
        const n = r.uint();
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

  private compileStruct(schema: GobStructType, def: WireType & { kind: 'struct' }): DecodeFn {
    const names = Object.keys(schema.fields);
    let matched = 0;
    const plan = def.fields.map((wf): { key: string | undefined; fn: DecodeFn } => {
      const ft = Object.hasOwn(schema.fields, wf.name) ? schema.fields[wf.name] : undefined;
      if (ft === undefined) {
        this.checkKnown(wf.id);
        return { key: undefined, fn: (r, depth) => this.skip(r, wf.id, depth) };
      }
      matched++;
      try {
        return { key: wf.name, fn: this.bind(ft, wf.id) };
      } catch (e) {
        if (!(e instanceof GobError)) throw e;
        throw new GobError(`field ${schema.name}.${wf.name}: ${e.message.replace(/^gob: /, '')}`);
      }
    });
    if (matched === 0 && names.length > 0 && def.fields.length > 0) {
      throw new GobError(`type mismatch: no fields matched compiling decoder for ${schema.name}`);
    }
    const zero = names.map((n) => [n, schema.fields[n]!] as const);
    const count = plan.length;
    return (r, depth) => {
      tooDeep(depth);
      const obj: Record<string, unknown> = {};
      for (const [n] of zero) obj[n] = undefined;
      let index = -1;
      for (;;) {
        const delta = r.uint();
        if (delta === 0) break;
        index += delta;
        const step = index < count ? plan[index] : undefined;
        if (step === undefined)
          throw new GobError(`field number ${index} out of range in ${def.name || 'struct'}`);
        const v = step.fn(r, depth + 1);
        if (step.key !== undefined) obj[step.key] = v;
      }
      for (const [n, ft] of zero) if (obj[n] === undefined && ft.kind !== 'ptr') obj[n] = zeroValue(ft);
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
      case BuiltinId.string:
        r.pos += r.length('a skipped string');
        return;
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
      case 'opaque':
        r.pos += r.length('a skipped opaque value');
        return;
    }
  }
}

function basicDecoder(schema: GobType): DecodeFn {
  switch (schema.kind) {
    case 'bool':
      return (r) => r.uint64() !== 0n;
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
