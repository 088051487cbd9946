// Helpers for tests that feed decoders hostile input: gob streams with counts no encoder would write,
// and what a decode attempt threw and how much heap it took.
import { concatBytes } from '../bytes.js';

/** Gob's unsigned integer encoding of `n` (one byte below 128, else a negated length and big-endian bytes). */
export function gobUint(n: number): number[] {
  if (n < 128) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [256 - bytes.length, ...bytes];
}

/** Splits a gob stream into its messages (each sent as `uint(length) ‖ bytes`). */
export function gobMessages(stream: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < stream.length) {
    let len = stream[pos]!;
    pos++;
    if (len >= 128) {
      const n = 256 - len;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + stream[pos++]!;
    }
    out.push(stream.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

/**
 * `stream` (a real encoding: type definitions, then one value) with its value replaced by the value's
 * type id followed by `body`, e.g. a field delta, a count past a limit and that many empty elements.
 */
export function replaceGobValue(
  stream: Uint8Array,
  body: readonly (Uint8Array | readonly number[])[],
): Uint8Array {
  const messages = gobMessages(stream);
  const value = messages.pop();
  if (!value) throw new Error('replaceGobValue: empty gob stream');
  const id = value.subarray(0, value[0]! < 128 ? 1 : 1 + 256 - value[0]!); // the type id, as sent
  const bytes = (p: Uint8Array | readonly number[]) => (p instanceof Uint8Array ? p : Uint8Array.from(p));
  const newValue = concatBytes([id, ...body.map(bytes)]);
  return concatBytes([...messages, newValue].flatMap((m) => [Uint8Array.from(gobUint(m.length)), m]));
}

/** What `fn` threw (undefined when it returned). */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** What {@link caughtWithHeapGrowth} saw. */
export interface CaughtWithHeapGrowth {
  /** What the function threw (undefined when it returned). */
  readonly error: unknown;
  /** How much the heap grew while it ran, in bytes (noisy: for bounds like `< 4 MiB`). */
  readonly heapGrowth: number;
}

/** What `fn` threw, and how much the heap grew while it ran. */
export function caughtWithHeapGrowth(fn: () => unknown): CaughtWithHeapGrowth {
  const before = process.memoryUsage().heapUsed;
  const error = caught(fn);
  return { error, heapGrowth: process.memoryUsage().heapUsed - before };
}
