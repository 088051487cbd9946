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
import type { GobType, Infer } from './schema.js';
import { TypedefState, sendTypes } from './typedef-cache.js';
import { baseType, builtinId, type GobTypeIds } from './type-ids.js';
import { bad, writerFor } from './value-writers.js';
import { copyOf, GobWriter } from './varint.js';

/** Options of {@link GobEncoder} and {@link encodeGob}. */
export interface GobEncodeOptions {
  /** Type id table to number types with (default: a fresh one, as in a fresh Go process). */
  readonly typeIds?: GobTypeIds;
  /** Bytes to reserve for the stream up front, when the caller can tell (it still grows as needed). */
  readonly sizeHint?: number;
}

/**
 * A gob stream from one encoder: type definitions are sent once, before the first value needing them.
 * `new GobEncoder().encode(t1, v1).encode(t2, v2).finish()`.
 */
export class GobEncoder {
  private readonly out: GobWriter;
  /**
   * While the encoder numbers types from a fresh table that nobody else has seen, its place in the
   * shared cache of definitions (typedef-cache.ts); undefined once it keeps a table of its own.
   */
  private state: TypedefState | undefined;
  private ids: GobTypeIds | undefined;
  private sent: Set<string> | undefined;

  constructor(options: GobEncodeOptions = {}) {
    this.out = new GobWriter(options.sizeHint);
    if (options.typeIds !== undefined) this.ownTable(options.typeIds, new Set());
    else this.state = TypedefState.initial();
  }

  /** The id table this encoder numbers types with. */
  get typeIds(): GobTypeIds {
    // The caller may change the table, so from now on it is this encoder's own.
    if (this.state !== undefined) this.ownTable(this.state.ids.clone(), new Set(this.state.sent));
    return this.ids!;
  }

  private ownTable(ids: GobTypeIds, sent: Set<string>): void {
    this.ids = ids;
    this.sent = sent;
    this.state = undefined;
  }

  /** Appends `value` of schema `type` (with any type definitions it needs). Returns this encoder. */
  encode<T extends GobType>(type: T, value: Infer<T>): this {
    this.encodeValue(type, value);
    return this;
  }

  /**
   * Appends a value of schema `type` given as its body, made by {@link encodeGobBody} for a schema
   * with the same Go type (definitions are sent as needed). The bytes are the same as `encode` of the
   * value would write. Returns this encoder.
   */
  encodeBody(type: GobType, body: Uint8Array): this {
    const out = this.out;
    const id = this.typeIdFor(baseType(type));
    const start = out.beginMessage();
    out.int(id);
    out.raw(body);
    out.endMessage(start);
    return this;
  }

  private encodeValue(type: GobType, v: unknown): void {
    const out = this.out;
    const id = this.typeIdFor(baseType(type));
    const start = out.beginMessage();
    try {
      out.int(id);
      writeBody(out, type, v);
    } catch (e) {
      // A value that cannot be encoded leaves no partial message behind (its definitions stay sent).
      out.truncate(start);
      throw e;
    }
    out.endMessage(start);
  }

  private typeIdFor(base: GobType): number {
    return builtinId(base) ?? this.defineTypes(base);
  }

  /** Sends whatever definitions composite type `base` needs first; returns its id. */
  private defineTypes(base: GobType): number {
    if (this.state !== undefined) {
      const step = this.state.step(base);
      if (step !== undefined) {
        this.out.raw(step.defs);
        this.state = step.next;
        return step.id;
      }
      this.ownTable(this.state.ids.clone(), new Set(this.state.sent));
    }
    const id = this.ids!.register(base);
    sendTypes(this.out, this.ids!, this.sent!, base);
    return id;
  }

  /** The bytes of the stream so far (a copy). */
  finish(): Uint8Array {
    return copyOf(this.out.view());
  }
}

/** Writes what follows the type id in a value message: a struct's fields, or 0 then any other value. */
function writeBody(w: GobWriter, type: GobType, v: unknown): void {
  if (type.kind === 'ptr' && type.elem.kind === 'struct') {
    if (v === undefined) throw bad(type, v, 'nil pointer at top level');
    writerFor(type.elem)(w, v);
  } else if (type.kind === 'struct') {
    writerFor(type)(w, v);
  } else {
    w.uint(0);
    writerFor(type)(w, v);
  }
}

/**
 * The body of a value message for `value` (everything after the type id). It does not depend on type
 * ids, so it can be kept and sent again on other streams with {@link GobEncoder.encodeBody}.
 */
export function encodeGobBody<T extends GobType>(type: T, value: Infer<T>): Uint8Array {
  const w = new GobWriter();
  writeBody(w, type, value);
  return copyOf(w.view());
}

/** What a fresh Go `gob.Encoder` (in a fresh process, unless `typeIds` says otherwise) writes for one value. */
export function encodeGob<T extends GobType>(
  type: T,
  value: Infer<T>,
  options: GobEncodeOptions = {},
): Uint8Array {
  return new GobEncoder(options).encode(type, value).finish();
}
