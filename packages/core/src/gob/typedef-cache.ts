/**
 * Type definitions an encoder sends, and a cache of them for encoders with a fresh id table.
 *
 * Before the first value of a type an encoder sends its definition and those of the types it
 * reaches, each in its own message (`int(-id) ‖ wireType`, outermost first). For an encoder that
 * starts from a fresh id table (the default, as a fresh Go process), what it sends and the ids it
 * uses depend only on the sequence of types it has encoded so far. Weave builds a fresh encoder for
 * every message, so those definition bytes are computed once and shared: a tree of
 * {@link TypedefState}s whose root is "nothing sent", with one step per schema (by its type key)
 * giving the definition bytes to send, the value's id and the state after. A step that sends
 * nothing leads back to the same state, so the tree grows with the types sent, not the values.
 *
 * Invalidation: a state's table and sent set are never changed after it is made (encoders that need
 * a table of their own get a copy), so steps never go stale. At most {@link MAX_SHARED_STEPS} steps
 * are shared: past that the tree is dropped and started again (encoders holding old states go on
 * using them).
 */
import { baseType, builtinId, GobTypeIds, typeKey } from './type-ids.js';
import type { GobType } from './schema.js';
import { GobWriter } from './varint.js';
import { encodeWireType } from './wire-types.js';

/** Most steps shared at once, across all encoders. */
const MAX_SHARED_STEPS = 1024;

let sharedSteps = 0;
let root: TypedefState | undefined;

/**
 * Sends the definition of `type` and of the types it reaches that `sent` lacks (by type key),
 * numbering them in `ids`, as messages appended to `w`.
 */
export function sendTypes(w: GobWriter, ids: GobTypeIds, sent: Set<string>, type: GobType): void {
  const b = baseType(type);
  if (builtinId(b) !== undefined) return;
  const key = typeKey(b);
  if (sent.has(key)) return;
  ids.register(b);
  sent.add(key);
  const def = ids.definition(b);
  const start = w.beginMessage();
  w.int(-def.id);
  encodeWireType(w, def);
  w.endMessage(start);
  switch (b.kind) {
    case 'struct':
      for (const ft of Object.values(b.fields)) sendTypes(w, ids, sent, ft);
      break;
    case 'slice':
    case 'array':
      sendTypes(w, ids, sent, b.elem);
      break;
    case 'map':
      sendTypes(w, ids, sent, b.key);
      sendTypes(w, ids, sent, b.elem);
      break;
  }
}

/** Encoding one more value of some type: the definitions to send first, the value's id, and the state after. */
export interface TypedefStep {
  readonly defs: Uint8Array;
  readonly id: number;
  readonly next: TypedefState;
}

/** What a fresh-table encoder has numbered and sent after some sequence of types. */
export class TypedefState {
  private readonly steps = new Map<string, TypedefStep>();

  private constructor(
    /** The id table at this point (never handed out: copy it). */
    readonly ids: GobTypeIds,
    /** Type keys of the types already defined on the stream. */
    readonly sent: ReadonlySet<string>,
  ) {}

  /** The state of an encoder that has sent nothing, with a fresh id table. */
  static initial(): TypedefState {
    if (root === undefined) {
      root = new TypedefState(new GobTypeIds(), new Set());
      sharedSteps = 0;
    }
    return root;
  }

  /**
   * The step for a value of composite type `base` (pointers already flattened), or undefined if
   * numbering or defining it fails (the caller then redoes it on a table of its own, to fail alike).
   */
  step(base: GobType): TypedefStep | undefined {
    const key = typeKey(base);
    const known = this.steps.get(key);
    if (known !== undefined) return known;
    const ids = this.ids.clone();
    const sent = new Set(this.sent);
    const w = new GobWriter();
    let id: number;
    try {
      id = ids.register(base);
      sendTypes(w, ids, sent, base);
    } catch {
      return undefined;
    }
    const defs = w.view().slice();
    // Sending nothing means nothing was numbered either (a fresh table numbers exactly what it sends).
    const step = { defs, id, next: defs.length === 0 ? this : new TypedefState(ids, sent) };
    if (sharedSteps >= MAX_SHARED_STEPS) {
      root = undefined;
    } else {
      this.steps.set(key, step);
      sharedSteps++;
    }
    return step;
  }
}
