/**
 * Zero values, and Go's nil map.
 *
 * Go omits a nil map from a struct but sends an empty non-nil one (count 0), so the two encode
 * differently. A plain `new Map()` encodes as Go's empty map; {@link gobNilMap} makes an empty map
 * that encodes as nil. The decoder returns such maps for map fields absent from a message, so
 * decoded values re-encode to the same bytes.
 */
import type { GobType, Infer } from './schema.js';

const nilMaps = new WeakSet<Map<unknown, unknown>>();

/** An empty map that a struct field omits, like Go's nil map (once entries are added it is sent). */
export function gobNilMap<K, V>(): Map<K, V> {
  const m = new Map<K, V>();
  nilMaps.add(m);
  return m;
}

/** Whether `m` stands for Go's nil map: made by {@link gobNilMap} and still empty. */
export function isGobNilMap(m: Map<unknown, unknown>): boolean {
  return m.size === 0 && nilMaps.has(m);
}

/** The value Go leaves in a field the message does not carry. */
export function zeroValue<T extends GobType>(type: T): Infer<T> {
  return zeroOf(type) as Infer<T>;
}

function zeroOf(type: GobType): unknown {
  switch (type.kind) {
    case 'bool':
      return false;
    case 'int':
    case 'uint':
      return 0;
    case 'int64':
    case 'uint64':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const [name, field] of Object.entries(type.fields)) out[name] = zeroOf(field);
      return out;
    }
    case 'slice':
      return [];
    case 'array':
      return Array.from({ length: type.len }, () => zeroOf(type.elem));
    case 'map':
      return gobNilMap();
    case 'ptr':
      return undefined;
  }
}
