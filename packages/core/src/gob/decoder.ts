/**
 * Decoding a gob stream by the type definitions it carries.
 *
 * The stream is read message by message (`uint(length) ‖ int(id) ‖ body`): a negative id defines a
 * type, a positive one carries a value of that type, which is bound to the caller's schema by name
 * (see bind.ts). Ids are the sender's; nothing is assumed about them.
 */
import { Binder } from './bind.js';
import { GobError } from './errors.js';
import type { GobType, Infer } from './schema.js';
import { GobTypeIds } from './type-ids.js';
import { GobReader } from './varint.js';
import { BuiltinId, decodeWireType, type WireType } from './wire-types.js';

/** Ids up to this one are gob's own (builtin and bootstrap types) and are never defined by a stream. */
const LAST_RESERVED_ID = 23;

/**
 * Reads values from a gob stream written by one encoder.
 * `const d = new GobDecoder(bytes); d.decode(type); d.atEnd`.
 */
export class GobDecoder {
  private readonly r: GobReader;
  private readonly defs = new Map<number, WireType>();
  private readonly binder: Binder;
  /** The ids and wire names the stream gave each schema bound so far; reusable to encode alike. */
  readonly typeIds = new GobTypeIds();

  constructor(bytes: Uint8Array) {
    this.r = new GobReader(bytes);
    this.binder = new Binder(this.defs, this.typeIds);
  }

  /** Whether every byte has been consumed. */
  get atEnd(): boolean {
    return this.r.remaining === 0;
  }

  /** The type definitions received so far, by id. */
  get wireTypes(): ReadonlyMap<number, WireType> {
    return this.defs;
  }

  /** Reads the next value (and any type definitions before it) into schema `type`. */
  decode<T extends GobType>(type: T): Infer<T> {
    for (;;) {
      if (this.atEnd) throw new GobError('end of stream: no more values');
      const len = this.r.length('a message');
      if (len === 0) throw new GobError('empty message');
      const m = new GobReader(this.r.bytes, this.r.pos, this.r.pos + len);
      this.r.pos += len;
      const id = m.int();
      if (id < 0) {
        this.define(-id, m);
      } else {
        return this.value(type, id, m) as Infer<T>;
      }
    }
  }

  private define(id: number, m: GobReader): void {
    if (id <= LAST_RESERVED_ID) throw new GobError(`type id ${id} is reserved`);
    if (this.defs.has(id)) throw new GobError(`duplicate type received: id ${id}`);
    const def = decodeWireType(m, id);
    if (m.remaining !== 0) throw new GobError(`extra data after type definition ${id}`);
    this.defs.set(id, def);
  }

  private value(type: GobType, id: number, m: GobReader): unknown {
    if (id === 0 || id === BuiltinId.interface || (id > BuiltinId.interface && !this.defs.has(id))) {
      throw new GobError(`value of unknown type id ${id}`);
    }
    const fn = this.binder.bind(type, id);
    if (!this.binder.isStruct(id) && m.uint() !== 0) {
      throw new GobError('corrupted data: non-zero delta for singleton');
    }
    const v = fn(m, 0);
    if (m.remaining !== 0) throw new GobError(`extra data after a value of type id ${id}`);
    return v;
  }
}

/** Decodes exactly one value (with its type definitions) from `bytes`, as a fresh Go decoder would. */
export function decodeGob<T extends GobType>(type: T, bytes: Uint8Array): Infer<T> {
  const d = new GobDecoder(bytes);
  const v = d.decode(type);
  if (!d.atEnd) throw new GobError('extra data after the value');
  return v;
}
