import { type PeerName, peerNameFromBytes, peerNameToBytes } from '@weave-ts/core';
import { NAME_SIZE } from './constants.js';

/**
 * Converts peer names between their string form and the 6 wire bytes without allocating per frame:
 * both directions are memoised. Names read off the wire come from anyone who can send us a datagram,
 * so the caches are bounded and simply start over when full.
 */
export class PeerNameCache {
  private readonly toBytes = new Map<PeerName, Uint8Array>();
  private readonly fromKey = new Map<number, PeerName>();

  constructor(private readonly capacity = 4096) {}

  /** The 6 bytes of `name` (shared: do not modify). */
  bytes(name: PeerName): Uint8Array {
    let bytes = this.toBytes.get(name);
    if (!bytes) {
      if (this.toBytes.size >= this.capacity) this.toBytes.clear();
      bytes = peerNameToBytes(name);
      this.toBytes.set(name, bytes);
    }
    return bytes;
  }

  /** The name whose bytes start at `offset` of `buf`. */
  name(buf: Uint8Array, offset = 0): PeerName {
    const key = nameKey(buf, offset);
    let name = this.fromKey.get(key);
    if (name === undefined) {
      if (this.fromKey.size >= this.capacity) this.fromKey.clear();
      name = peerNameFromBytes(buf.slice(offset, offset + NAME_SIZE));
      this.fromKey.set(key, name);
    }
    return name;
  }
}

/** The 48-bit number of the name at `offset` of `buf` (a cheap map key). */
export function nameKey(buf: Uint8Array, offset = 0): number {
  return (
    buf[offset]! * 2 ** 40 +
    buf[offset + 1]! * 2 ** 32 +
    ((buf[offset + 2]! << 24) >>> 0) +
    (buf[offset + 3]! << 16) +
    (buf[offset + 4]! << 8) +
    buf[offset + 5]!
  );
}

/** Whether the 6-byte names at the given offsets are equal. */
export function sameName(a: Uint8Array, b: Uint8Array, aOffset = 0, bOffset = 0): boolean {
  for (let i = 0; i < NAME_SIZE; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}
