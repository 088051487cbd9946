/**
 * Type ids and wire names, numbered the way Go numbers them.
 *
 * Go gives each user type an id from a process-wide counter (first user type: 65) when the type is
 * first used, registering everything it reaches at the same time: a struct takes its id before its
 * fields; a slice, array or map takes its id after its element (and key) types. The wire name is
 * fixed at that first registration and depends on where the type was reached:
 * - top level: the Go type name (`peerSummary`), or "" for an unnamed slice/map/array;
 * - a struct field: the name of the field's type, or its Go spelling when unnamed (`[]mesh.PeerName`);
 * - a slice element: the element's name ("" when the element is a pointer or unnamed);
 * - an array element, map key or map element: always "".
 */
import { GobError } from './errors.js';
import type { GobType } from './schema.js';
import { goTypeString } from './schema.js';
import { BuiltinId, FIRST_USER_TYPE_ID, type WireType } from './wire-types.js';

/** The type a schema stands for once pointers are flattened (gob never sends pointers). */
export function baseType(type: GobType): GobType {
  let b = type;
  while (b.kind === 'ptr') b = b.elem;
  return b;
}

/** The builtin id of a basic schema, or undefined for a composite one. */
export function builtinId(type: GobType): number | undefined {
  switch (type.kind) {
    case 'bool':
      return BuiltinId.bool;
    case 'int':
    case 'int64':
      return BuiltinId.int;
    case 'uint':
    case 'uint64':
      return BuiltinId.uint;
    case 'string':
      return BuiltinId.string;
    case 'bytes':
      return BuiltinId.bytes;
    default:
      return undefined;
  }
}

const keys = new WeakMap<GobType, string>();

/**
 * Identity of the Go type a schema stands for, as Go sees it: two unnamed types with the same
 * structure (`[2]main.inner` built twice) are one type, named ones are told apart by name (and, so
 * that test schemas sharing a name cannot collide, by their fields).
 */
export function typeKey(type: GobType): string {
  let key = keys.get(type);
  if (key !== undefined) return key;
  switch (type.kind) {
    case 'struct':
      key = `struct ${goTypeString(type)}{${Object.entries(type.fields)
        .map(([n, f]) => `${n} ${typeKey(f)}`)
        .join('; ')}}`;
      break;
    case 'ptr':
      key = `*${typeKey(type.elem)}`;
      break;
    case 'slice':
    case 'array':
      key = `${type.kind} ${type.name ?? ''} ${goTypeString(type)} [${typeKey(type.elem)}]`;
      break;
    case 'map':
      key = `map ${type.name ?? ''} ${goTypeString(type)} [${typeKey(type.key)}]${typeKey(type.elem)}`;
      break;
    default:
      key = type.kind;
  }
  keys.set(type, key);
  return key;
}

/** Go's `reflect.Type.Name()`: "" for unnamed types and pointers. */
function goName(type: GobType): string {
  switch (type.kind) {
    case 'struct':
      return type.name;
    case 'slice':
    case 'array':
    case 'map':
      return type.name ?? '';
    case 'ptr':
      return '';
    default:
      return type.kind;
  }
}

/**
 * A table of type ids, like the one a Go process keeps. Pass the same table to several encoders to
 * number types as one Go process would across its encoders, or pass a decoder's table
 * ({@link GobDecoder.typeIds}) to re-encode captured messages with the sender's ids.
 */
export class GobTypeIds {
  private readonly entries = new Map<string, { id: number; name: string }>();
  private last: number;

  /** @param lastUsedId the id below the first one to assign (Go: 64, so a fresh process starts at 65). */
  constructor(lastUsedId = FIRST_USER_TYPE_ID) {
    this.last = lastUsedId;
  }

  /** A copy of this table: later changes to either do not show in the other. */
  clone(): GobTypeIds {
    const copy = new GobTypeIds(this.last);
    for (const [key, entry] of this.entries) copy.entries.set(key, entry);
    return copy;
  }

  /** The id of a schema: builtin for basic types; undefined for a composite one not yet numbered. */
  get(type: GobType): number | undefined {
    const b = baseType(type);
    return builtinId(b) ?? this.entries.get(typeKey(b))?.id;
  }

  /** Pins a composite schema to an id and wire name; later ids are numbered above the largest seen. */
  set(type: GobType, id: number, name: string): void {
    const b = baseType(type);
    if (builtinId(b) !== undefined) return;
    this.entries.set(typeKey(b), { id, name });
    if (id > this.last) this.last = id;
  }

  /** Numbers `type` and everything it reaches (no-op for types already numbered); returns its id. */
  register(type: GobType, name: string = goName(baseType(type))): number {
    const b = baseType(type);
    const known = this.get(b);
    if (known !== undefined) return known;
    switch (b.kind) {
      case 'struct': {
        const id = ++this.last;
        this.entries.set(typeKey(b), { id, name });
        for (const field of Object.values(b.fields)) {
          const fb = baseType(field);
          const fieldName = goName(fb);
          this.register(fb, fieldName === '' ? goTypeString(fb) : fieldName);
        }
        return id;
      }
      case 'slice':
        this.register(b.elem, goName(b.elem));
        break;
      case 'array':
        this.register(b.elem, '');
        break;
      case 'map':
        this.register(b.key, '');
        this.register(b.elem, '');
        break;
      default:
        throw new GobError(`cannot number schema of kind ${b.kind}`);
    }
    const id = ++this.last;
    this.entries.set(typeKey(b), { id, name });
    return id;
  }

  /** The type definition gob sends for a numbered composite schema. */
  definition(type: GobType): WireType {
    const b = baseType(type);
    const entry = this.entries.get(typeKey(b));
    if (entry === undefined) throw new GobError(`schema ${goTypeString(b)} has no type id`);
    const { id, name } = entry;
    const idOf = (t: GobType): number => {
      const found = this.get(t);
      if (found === undefined) throw new GobError(`schema ${goTypeString(t)} has no type id`);
      return found;
    };
    switch (b.kind) {
      case 'struct':
        return {
          kind: 'struct',
          name,
          id,
          fields: Object.entries(b.fields).map(([field, ft]) => ({ name: field, id: idOf(ft) })),
        };
      case 'slice':
        return { kind: 'slice', name, id, elem: idOf(b.elem) };
      case 'array':
        return { kind: 'array', name, id, elem: idOf(b.elem), len: b.len };
      case 'map':
        return { kind: 'map', name, id, key: idOf(b.key), elem: idOf(b.elem) };
      default:
        throw new GobError(`schema of kind ${b.kind} has no type definition`);
    }
  }
}
