/**
 * A memo of decoded values by their encoded bytes, for streams that carry the same values again and
 * again (Weave's topology gossip repeats each peer's entry to every neighbour, many times over).
 *
 * A value is found again only for the same binding (schema and type definitions, see bind.ts) and a
 * byte-identical message body, so it is exactly what decoding would give; it is the same object,
 * though, so callers must treat values from a cache as read-only.
 *
 * Invalidation: entries never go stale (the same bytes under the same binding always decode to the
 * same value). To bound memory, the oldest entries are dropped once the cache holds more than its
 * byte budget of message bodies or its entry limit.
 */
import type { Binding } from './bind.js';

interface Entry {
  readonly binding: Binding;
  /** A copy of the body the value was decoded from. */
  readonly bytes: DataView;
  readonly value: unknown;
  /** Another entry with the same hash. */
  readonly next: Entry | undefined;
}

/** A view of `bytes` to hand to {@link GobValueCache} (read four bytes at a time). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A hash of the body at `[start, end)` of `bytes` and the binding's serial number. Every byte counts:
 * lists that differ only in the middle (two peers' connection lists) must not share a chain, where
 * each lookup would compare them all.
 */
function hashBody(bytes: DataView, start: number, end: number, seed: number): number {
  return mix(bytes, start, end, (0x811c9dc5 ^ seed ^ (end - start)) | 0) >>> 0;
}

/** Folds the bytes at `[from, to)` into `h`, four at a time. */
function mix(bytes: DataView, from: number, to: number, h: number): number {
  let i = from;
  for (; i + 4 <= to; i += 4) h = Math.imul(h ^ bytes.getInt32(i, true), 0x01000193) ^ (h >>> 15);
  for (; i < to; i++) h = Math.imul(h ^ bytes.getUint8(i), 0x01000193);
  return h;
}

/** Whether `a` holds the same bytes as `b` at `[start, end)` (compared four at a time). */
function sameBytes(a: DataView, b: DataView, start: number, end: number): boolean {
  const n = a.byteLength;
  if (n !== end - start) return false;
  let i = 0;
  for (; i + 4 <= n; i += 4) if (a.getInt32(i, true) !== b.getInt32(start + i, true)) return false;
  for (; i < n; i++) if (a.getUint8(i) !== b.getUint8(start + i)) return false;
  return true;
}

/** Decoded values by message body; pass one to {@link GobDecoder.decode} (values are shared: read-only). */
export class GobValueCache {
  private readonly byHash = new Map<number, Entry>();
  private bytes = 0;
  private entries = 0;

  /**
   * @param maxBytes budget of message bodies kept (default 4 MiB)
   * @param maxEntries most values kept (default 16384)
   */
  constructor(
    private readonly maxBytes = 4 << 20,
    private readonly maxEntries = 16384,
  ) {}

  /** @internal The hash to look the body at `[start, end)` of `bytes` up by, under `binding`. */
  hash(binding: Binding, bytes: DataView, start: number, end: number): number {
    return hashBody(bytes, start, end, binding.serial);
  }

  /** @internal The value decoded before from the same body under `binding`, if kept. */
  find(binding: Binding, h: number, bytes: DataView, start: number, end: number): Entry | undefined {
    for (let e = this.byHash.get(h); e !== undefined; e = e.next) {
      if (e.binding === binding && sameBytes(e.bytes, bytes, start, end)) return e;
    }
    return undefined;
  }

  /** @internal Keeps `value`, decoded from the body at `[start, end)` of `bytes` under `binding`. */
  keep(binding: Binding, h: number, bytes: Uint8Array, start: number, end: number, value: unknown): void {
    const size = end - start;
    if (size > this.maxBytes) return;
    while (this.bytes + size > this.maxBytes || this.entries >= this.maxEntries) this.dropOldest();
    const copy = viewOf(bytes.slice(start, end));
    this.byHash.set(h, { binding, bytes: copy, value, next: this.byHash.get(h) });
    this.bytes += size;
    this.entries++;
  }

  /** Drops the entries under the hash set longest ago (Map order is insertion order). */
  private dropOldest(): void {
    const first = this.byHash.entries().next();
    if (first.done === true) return;
    const [h, chain] = first.value;
    this.byHash.delete(h);
    for (let e: Entry | undefined = chain; e !== undefined; e = e.next) {
      this.bytes -= e.bytes.byteLength;
      this.entries--;
    }
  }
}
