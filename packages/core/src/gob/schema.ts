/**
 * Schemas: TypeScript descriptions of the Go types a gob stream carries.
 *
 * A schema plays the part of the Go type on our side. Decoding binds the type definitions found in the
 * bytes to a schema by Go field name (as Go does); encoding writes the type definitions Go would write
 * for the same Go type, so schemas carry the Go names that appear on the wire:
 * - a struct's `name` is the Go type name (`peerSummary`), `pkg` its package (`mesh`) for `pkg.Name`;
 * - a named slice/array/map (`type Value []PeerName`) sets `name`; an unnamed one may set `goString`,
 *   the text Go's `reflect.Type.String()` gives (`map[mesh.PeerName]string`) when the default built
 *   from the element types is not right (named basic types such as `mesh.PeerName` need this).
 */

/** Go `bool`. */
export interface GobBoolType {
  /** Discriminant. */
  readonly kind: 'bool';
}
/** A Go signed integer decoded as a JS `number` (must fit in ±2^53). */
export interface GobIntType {
  /** Discriminant. */
  readonly kind: 'int';
}
/** A Go signed integer decoded as a `bigint` (full int64 range). */
export interface GobInt64Type {
  /** Discriminant. */
  readonly kind: 'int64';
}
/** A Go unsigned integer decoded as a JS `number` (must be below 2^53). */
export interface GobUintType {
  /** Discriminant. */
  readonly kind: 'uint';
}
/** A Go unsigned integer decoded as a `bigint` (full uint64 range). */
export interface GobUint64Type {
  /** Discriminant. */
  readonly kind: 'uint64';
}
/** Go `string`. */
export interface GobStringType {
  /** Discriminant. */
  readonly kind: 'string';
}
/** Go `[]byte`, as a `Uint8Array`. */
export interface GobBytesType {
  /** Discriminant. */
  readonly kind: 'bytes';
}

/** Go names of a slice, array or map type (see the module comment). */
export interface GobNaming {
  /** Go type name of a named type (`Value` for `type Value []PeerName`); absent for unnamed types. */
  readonly name?: string;
  /** Go `reflect.Type.String()` of an unnamed type, when the default derived from its parts is wrong. */
  readonly goString?: string;
}

/**
 * A bound on the elements of a slice or map, checked against the count on the wire before anything
 * is allocated: a larger count fails with {@link GobLimitError}. Protocol schemas set it to what the
 * protocol can legitimately carry (peers, ring entries, DNS entries). It does not change the wire type.
 */
export interface GobBounds {
  /** Most elements (slice) or entries (map) a decoded value may have. */
  readonly maxLen?: number;
}

/** Fields of a struct schema, in Go declaration order, keyed by Go field name. */
export type GobFields = { readonly [field: string]: GobType };

/** A Go struct. */
export interface GobStructType<F extends GobFields = GobFields> {
  /** Discriminant. */
  readonly kind: 'struct';
  /** Go type name, as sent in the type definition. */
  readonly name: string;
  /** Go package name, used to spell `pkg.Name` inside the names of unnamed composite types. */
  readonly pkg: string | undefined;
  /** The struct's fields by Go field name, in Go declaration order. */
  readonly fields: F;
}
/** A Go slice. */
export interface GobSliceType<E extends GobType = GobType> extends GobNaming, GobBounds {
  /** Discriminant. */
  readonly kind: 'slice';
  /** The element schema. */
  readonly elem: E;
}
/** A Go array of fixed length. */
export interface GobArrayType<E extends GobType = GobType> extends GobNaming {
  /** Discriminant. */
  readonly kind: 'array';
  /** The element schema. */
  readonly elem: E;
  /** The array's fixed length. */
  readonly len: number;
}
/** A Go map, decoded as a JS `Map`. */
export interface GobMapType<K extends GobType = GobType, V extends GobType = GobType>
  extends GobNaming,
    GobBounds {
  /** Discriminant. */
  readonly kind: 'map';
  /** The key schema. */
  readonly key: K;
  /** The value schema. */
  readonly elem: V;
}
/** A Go pointer: gob flattens it; `undefined` stands for nil (an omitted struct field). */
export interface GobPtrType<E extends GobValueType = GobValueType> {
  /** Discriminant. */
  readonly kind: 'ptr';
  /** The schema pointed to (a nil pointer decodes as that type's zero value, as in Go). */
  readonly elem: E;
}

/** Any schema but a pointer (what a pointer may point to). */
export type GobValueType =
  | GobBoolType
  | GobIntType
  | GobInt64Type
  | GobUintType
  | GobUint64Type
  | GobStringType
  | GobBytesType
  | GobStructType
  | GobSliceType
  | GobArrayType
  | GobMapType;

/** Any schema. */
export type GobType = GobValueType | GobPtrType;

/** The TypeScript value type a schema decodes to and encodes from. */
export type Infer<T extends GobType> = T extends GobBoolType
  ? boolean
  : T extends GobIntType | GobUintType
    ? number
    : T extends GobInt64Type | GobUint64Type
      ? bigint
      : T extends GobStringType
        ? string
        : T extends GobBytesType
          ? Uint8Array
          : T extends GobStructType<infer F>
            ? { -readonly [K in keyof F]: Infer<F[K]> }
            : T extends GobSliceType<infer E> | GobArrayType<infer E>
              ? Infer<E>[]
              : T extends GobMapType<infer K, infer V>
                ? Map<Infer<K>, Infer<V>>
                : T extends GobPtrType<infer E>
                  ? Infer<E> | undefined
                  : never;

const EXPORTED = /^\p{Lu}/u;

function checkBounds(opts: GobBounds): void {
  const max = opts.maxLen;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 0))
    throw new TypeError(`gob schema: bad maxLen ${max}`);
}

function struct<const F extends GobFields>(
  name: string,
  fields: F,
  opts: { readonly pkg?: string } = {},
): GobStructType<F> {
  for (const field of Object.keys(fields)) {
    // gob only sends exported fields, so a schema field Go would never send is a mistake.
    if (!EXPORTED.test(field)) throw new TypeError(`gob schema ${name}: field ${field} is not exported`);
  }
  return { kind: 'struct', name, pkg: opts.pkg, fields };
}

function array<E extends GobType>(elem: E, len: number, naming: GobNaming = {}): GobArrayType<E> {
  if (!Number.isSafeInteger(len) || len < 0) throw new TypeError(`gob schema: bad array length ${len}`);
  return { kind: 'array', elem, len, ...naming };
}

/** Schema builders. Basic types are shared constants; composite builders return fresh schemas. */
export const t = {
  /** Go `bool`. */
  bool: { kind: 'bool' } as GobBoolType,
  /** Go `int`/`int32`/…, decoded as a `number`. */
  int: { kind: 'int' } as GobIntType,
  /** Go `int64`, decoded as a `bigint`. */
  int64: { kind: 'int64' } as GobInt64Type,
  /** Go `uint`/`uint32`/…, decoded as a `number`. */
  uint: { kind: 'uint' } as GobUintType,
  /** Go `uint64`, decoded as a `bigint`. */
  uint64: { kind: 'uint64' } as GobUint64Type,
  /** Go `string`. */
  string: { kind: 'string' } as GobStringType,
  /** Go `[]byte`, as a `Uint8Array`. */
  bytes: { kind: 'bytes' } as GobBytesType,
  /** A struct named `name` (Go type name) with `fields` in Go declaration order. */
  struct,
  /** A slice of `elem` (at most `opts.maxLen` elements when decoding, if given). */
  slice: <E extends GobType>(elem: E, opts: GobNaming & GobBounds = {}): GobSliceType<E> => {
    checkBounds(opts);
    return { kind: 'slice', elem, ...opts };
  },
  /** An array of `len` elements. */
  array,
  /** A map from `key` to `elem` (at most `opts.maxLen` entries when decoding, if given). */
  map: <K extends GobType, V extends GobType>(
    key: K,
    elem: V,
    opts: GobNaming & GobBounds = {},
  ): GobMapType<K, V> => {
    checkBounds(opts);
    return { kind: 'map', key, elem, ...opts };
  },
  /** A pointer to `elem` (nil is `undefined`). */
  ptr: <E extends GobValueType>(elem: E): GobPtrType<E> => ({ kind: 'ptr', elem }),
} as const;

/** The text Go's `reflect.Type.String()` gives for the Go type a schema stands for. */
export function goTypeString(type: GobType): string {
  switch (type.kind) {
    case 'bool':
    case 'string':
      return type.kind;
    case 'int':
    case 'uint':
      return type.kind;
    case 'int64':
    case 'uint64':
      return type.kind;
    case 'bytes':
      return '[]uint8';
    case 'struct':
      return type.pkg === undefined ? type.name : `${type.pkg}.${type.name}`;
    case 'ptr':
      return `*${goTypeString(type.elem)}`;
    case 'slice':
      return type.goString ?? type.name ?? `[]${goTypeString(type.elem)}`;
    case 'array':
      return type.goString ?? type.name ?? `[${type.len}]${goTypeString(type.elem)}`;
    case 'map':
      return type.goString ?? type.name ?? `map[${goTypeString(type.key)}]${goTypeString(type.elem)}`;
  }
}
