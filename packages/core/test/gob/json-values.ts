// Rebuilds values from the JSON rendering of tools/gob-vectors (decimal-string ints, hex bytes,
// [key, value] map pairs, null for nil maps and pointers), guided by a schema.
import { type GobType, gobNilMap } from '@weave-ts/core/protocol';

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function fromJson(type: GobType, json: unknown): unknown {
  switch (type.kind) {
    case 'bool':
    case 'string':
      return json;
    case 'int':
    case 'uint':
      return Number(json);
    case 'int64':
    case 'uint64':
      return BigInt(json as string);
    case 'bytes':
      return hexToBytes(json as string);
    case 'ptr':
      return json === null ? undefined : fromJson(type.elem, json);
    case 'slice':
    case 'array':
      return (json as unknown[]).map((e) => fromJson(type.elem, e));
    case 'map': {
      if (json === null) return gobNilMap();
      const m = new Map();
      for (const [k, v] of json as [unknown, unknown][]) m.set(fromJson(type.key, k), fromJson(type.elem, v));
      return m;
    }
    case 'struct': {
      const obj = json as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [name, ft] of Object.entries(type.fields)) out[name] = fromJson(ft, obj[name]);
      return out;
    }
  }
}

/** Whether a JSON value (for `type`) holds a map with several entries, whose gob order Go randomises. */
export function hasUnorderedMap(type: GobType, json: unknown): boolean {
  if (json === null || json === undefined) return false;
  switch (type.kind) {
    case 'ptr':
      return hasUnorderedMap(type.elem, json);
    case 'slice':
    case 'array':
      return (json as unknown[]).some((e) => hasUnorderedMap(type.elem, e));
    case 'map': {
      const pairs = json as [unknown, unknown][];
      return (
        pairs.length > 1 ||
        pairs.some(([k, v]) => hasUnorderedMap(type.key, k) || hasUnorderedMap(type.elem, v))
      );
    }
    case 'struct':
      return Object.entries(type.fields).some(([n, ft]) =>
        hasUnorderedMap(ft, (json as Record<string, unknown>)[n]),
      );
    default:
      return false;
  }
}
