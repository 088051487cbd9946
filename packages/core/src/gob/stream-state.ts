/**
 * The type definitions a stream has carried so far, shared between streams.
 *
 * Weave sends every message as a fresh gob stream, so each one repeats the same type definitions and
 * a decoder that started from nothing would parse them and compile its decoding functions again for
 * every message. Instead, decoders walk a shared tree of {@link StreamState}s: the root is "no
 * definitions yet", and each definition message leads to the child keyed by its exact bytes. Two
 * streams at the same node have received byte-identical definitions in the same order, hence the same
 * definition table, so the bindings compiled there (see bind.ts) serve both. A sender numbering or
 * naming its types differently sends other bytes and lands on another node: nothing is assumed about
 * ids.
 *
 * Cost: a node holds only its own definition and its parent; the full table (and the binder over it)
 * is built the first time a value is decoded at that node, from the nearest ancestor that has one.
 * Defining n types costs O(n), not a copy of the table per definition (which made a stream of 24 000
 * definitions block for ~50 s). The decoder keeps its own set of defined ids for the duplicate check.
 *
 * Invalidation: nodes never change once made (definitions are never redefined), so nothing goes stale.
 * To bound memory against streams with ever-new definitions, at most {@link MAX_SHARED_STATES} nodes
 * are shared: past that the tree is dropped and started again (decoders still holding old nodes keep
 * using them), and a definition message longer than {@link MAX_SHARED_DEFINITION} bytes leads to a
 * node of its own that is not shared.
 */
import { Binder } from './bind.js';
import { GobError } from './errors.js';
import type { GobReader } from './varint.js';
import { decodeWireType, type WireType } from './wire-types.js';

/** Ids up to this one are gob's own (builtin and bootstrap types) and are never defined by a stream. */
const LAST_RESERVED_ID = 23;
/** Most nodes shared at once, across all decoders. */
const MAX_SHARED_STATES = 1024;
/** Longest definition message (id and body) whose node is shared. */
const MAX_SHARED_DEFINITION = 4096;

let sharedStates = 0;
let root: StreamState | undefined;

/** `bytes[start, end)` as a string key, one char per byte (in slices, to keep `apply` arguments few). */
function bytesKey(bytes: Uint8Array, start: number, end: number): string {
  let key = '';
  for (let i = start; i < end; i += 1024) {
    key += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 1024)) as never);
  }
  return key;
}

/** A set of received type definitions, with the bindings compiled against it. */
export class StreamState {
  private readonly children = new Map<string, StreamState>();
  private table: Map<number, WireType> | undefined;
  private binderOf: Binder | undefined;

  private constructor(
    private readonly parent: StreamState | undefined,
    /** The definition this node adds to its parent's (undefined at the root). */
    private readonly def: WireType | undefined,
  ) {
    if (parent === undefined) this.table = new Map();
  }

  /** The state of a stream that has received no definitions. */
  static initial(): StreamState {
    if (root === undefined) {
      root = new StreamState(undefined, undefined);
      sharedStates = 1;
    }
    return root;
  }

  /** The definitions, by id (built on first use, in time linear in the definitions not yet tabled). */
  get defs(): ReadonlyMap<number, WireType> {
    if (this.table !== undefined) return this.table;
    const added: WireType[] = [];
    let s: StreamState = this;
    while (s.table === undefined) {
      added.push(s.def!);
      s = s.parent!;
    }
    const table = new Map(s.table);
    for (let i = added.length - 1; i >= 0; i--) table.set(added[i]!.id, added[i]!);
    this.table = table;
    return table;
  }

  /** Bindings of schemas to these definitions. */
  get binder(): Binder {
    this.binderOf ??= new Binder(this.defs);
    return this.binderOf;
  }

  /**
   * The state after the definition message `m` (positioned at the start of the message: the id
   * `-id`, then the body), whose negated id has been read as `id`. `defined` holds the ids the
   * stream has defined so far (checked for duplicates, then `id` is added).
   * @throws GobError for a reserved or duplicate id, or a malformed definition
   */
  define(id: number, m: GobReader, messageStart: number, defined: Set<number>): StreamState {
    if (id <= LAST_RESERVED_ID) throw new GobError(`type id ${id} is reserved`);
    if (defined.has(id)) throw new GobError(`duplicate type received: id ${id}`);
    const shared = m.end - messageStart <= MAX_SHARED_DEFINITION;
    const key = shared ? bytesKey(m.bytes, messageStart, m.end) : '';
    if (shared) {
      const known = this.children.get(key);
      if (known !== undefined) {
        m.pos = m.end;
        defined.add(id);
        return known;
      }
    }
    const def = decodeWireType(m, id);
    if (m.remaining !== 0) throw new GobError(`extra data after type definition ${id}`);
    defined.add(id);
    const next = new StreamState(this, def);
    if (shared) {
      if (sharedStates >= MAX_SHARED_STATES) {
        // Start the shared tree again; this node (and the decoders on it) keep working unshared.
        root = undefined;
      } else {
        this.children.set(key, next);
        sharedStates++;
      }
    }
    return next;
  }
}
