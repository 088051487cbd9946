/**
 * Decoding a gob stream by the type definitions it carries.
 *
 * The stream is read message by message (`uint(length) ‖ int(id) ‖ body`): a negative id defines a
 * type, a positive one carries a value of that type, which is bound to the caller's schema by name
 * (see bind.ts). Ids are the sender's; nothing is assumed about them.
 */
import { type Binding, pinBinding } from './bind.js';
import { GobError, GobLimitError } from './errors.js';
import { type GobDecodeLimits, MAX_GOB_DEFINITION_BYTES, MAX_GOB_DEFINITIONS } from './limits.js';
import type { GobType, Infer } from './schema.js';
import { StreamState } from './stream-state.js';
import { type GobValueCache, viewOf } from './value-cache.js';
import { GobTypeIds } from './type-ids.js';
import { GobReader } from './varint.js';
import { BuiltinId, type WireType } from './wire-types.js';

/**
 * Reads values from a gob stream written by one encoder.
 * `const d = new GobDecoder(bytes); d.decode(type); d.atEnd`.
 */
export class GobDecoder {
  private readonly r: GobReader;
  /** One reader reused for each message in turn. */
  private readonly m: GobReader;
  /** The definitions received so far, with their compiled bindings (shared; see stream-state.ts). */
  private state = StreamState.initial();
  /** Top-level bindings used so far, in order, until {@link typeIds} is first asked for. */
  private readonly bound = new Set<Binding>();
  /** The id table, once asked for, and the (schema, id) pairs pinned in it. */
  private ids: { readonly table: GobTypeIds; readonly pinned: Map<GobType, Set<number>> } | undefined;
  /** The bytes seen through a DataView, made when a value cache first needs it. */
  private view: DataView | undefined;
  /** Ids the stream has defined (for the duplicate check). */
  private readonly defined = new Set<number>();
  /** Bytes of definition messages so far. */
  private definitionBytes = 0;
  private readonly maxDefinitions: number;
  private readonly maxDefinitionBytes: number;

  /** @param limits bounds on the definitions the stream may carry (see limits.ts for the defaults) */
  constructor(bytes: Uint8Array, limits: GobDecodeLimits = {}) {
    this.r = new GobReader(bytes);
    this.m = new GobReader(bytes, 0, 0);
    this.maxDefinitions = limits.maxDefinitions ?? MAX_GOB_DEFINITIONS;
    this.maxDefinitionBytes = limits.maxDefinitionBytes ?? MAX_GOB_DEFINITION_BYTES;
  }

  /** Whether every byte has been consumed. */
  get atEnd(): boolean {
    return this.r.remaining === 0;
  }

  /** The type definitions received so far, by id. */
  get wireTypes(): ReadonlyMap<number, WireType> {
    return this.state.defs;
  }

  /**
   * The ids and wire names the stream gave each schema bound so far; reusable to encode alike. The
   * same table every time, kept up to date by later decoding (built on first use).
   */
  get typeIds(): GobTypeIds {
    if (this.ids === undefined) {
      this.ids = { table: new GobTypeIds(), pinned: new Map() };
      for (const b of this.bound) pinBinding(b, this.ids.table, this.ids.pinned);
      this.bound.clear();
    }
    return this.ids.table;
  }

  /**
   * Reads the next value (and any type definitions before it) into schema `type`. With `cache`, a
   * value whose message repeats one decoded before through the same cache is that same object.
   */
  decode<T extends GobType>(type: T, cache?: GobValueCache): Infer<T> {
    const r = this.r;
    const m = this.m;
    for (;;) {
      if (r.remaining === 0) throw new GobError('end of stream: no more values');
      const len = r.length('a message');
      if (len === 0) throw new GobError('empty message');
      const start = r.pos;
      m.pos = start;
      m.end = start + len;
      r.pos += len;
      const id = m.int();
      if (id < 0) {
        this.checkDefinitionLimits(len);
        this.state = this.state.define(-id, m, start, this.defined);
      } else {
        return this.value(type, id, m, cache) as Infer<T>;
      }
    }
  }

  private checkDefinitionLimits(len: number): void {
    const count = this.defined.size + 1;
    if (count > this.maxDefinitions) {
      throw new GobLimitError(
        'type definitions',
        this.maxDefinitions,
        count,
        `stream carries more than ${this.maxDefinitions} type definitions`,
      );
    }
    this.definitionBytes += len;
    if (this.definitionBytes > this.maxDefinitionBytes) {
      throw new GobLimitError(
        'type definition bytes',
        this.maxDefinitionBytes,
        this.definitionBytes,
        `stream carries type definitions longer than ${this.maxDefinitionBytes} bytes in all`,
      );
    }
  }

  private value(type: GobType, id: number, m: GobReader, cache: GobValueCache | undefined): unknown {
    const defs = this.state.defs;
    if (id === 0 || id === BuiltinId.interface || (id > BuiltinId.interface && !defs.has(id))) {
      throw new GobError(`value of unknown type id ${id}`);
    }
    const b = this.state.binder.bind(type, id);
    if (this.ids === undefined) this.bound.add(b);
    else pinBinding(b, this.ids.table, this.ids.pinned);
    const start = m.pos;
    let h = 0;
    if (cache !== undefined) {
      this.view ??= viewOf(m.bytes);
      h = cache.hash(b, this.view, start, m.end);
      const hit = cache.find(b, h, this.view, start, m.end);
      if (hit !== undefined) {
        m.pos = m.end;
        return hit.value;
      }
    }
    if (!b.isStruct && m.uint() !== 0) {
      throw new GobError('corrupted data: non-zero delta for singleton');
    }
    const v = b.fn(m, 0);
    if (m.remaining !== 0) throw new GobError(`extra data after a value of type id ${id}`);
    cache?.keep(b, h, m.bytes, start, m.end, v);
    return v;
  }
}

/**
 * Decodes exactly one value (with its type definitions) from `bytes`, as a fresh Go decoder would.
 * @param limits bounds on the stream's type definitions (defaults in limits.ts)
 */
export function decodeGob<T extends GobType>(type: T, bytes: Uint8Array, limits?: GobDecodeLimits): Infer<T> {
  const d = new GobDecoder(bytes, limits);
  const v = d.decode(type);
  if (!d.atEnd) throw new GobError('extra data after the value');
  return v;
}
