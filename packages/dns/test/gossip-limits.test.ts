// Hostile `nameserver` gossip: more entries than a payload can legitimately carry are refused before
// they are allocated (InvalidNameGossipError caused by a GobLimitError).
import { encodeGob, GobLimitError } from '@weave-ts/core/protocol';
import { describe, expect, it } from 'vitest';
import { InvalidNameGossipError } from '../src/errors.js';
import { GobNameGossip, MAX_NAME_GOSSIP_ENTRIES, NameGossipData } from '../src/gossip-data.js';

function uint(n: number): number[] {
  if (n < 128) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [256 - bytes.length, ...bytes];
}

function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A payload of `count` empty entries (one byte each): a real message's definitions, then a hand-written value. */
function emptyEntries(count: number): Uint8Array {
  const real = encodeGob(GobNameGossip, { Timestamp: 0, Entries: [] });
  // The stream ends with the value message `09? id… 00`: keep the definitions, rewrite the value.
  const messages: Uint8Array[] = [];
  for (let pos = 0; pos < real.length; ) {
    const len = real[pos]!; // every message of this stream is shorter than 128 bytes
    messages.push(real.subarray(pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  const value = messages.pop()!;
  const id = value.subarray(0, value[0]! < 128 ? 1 : 1 + 256 - value[0]!);
  const body = concat([id, [2], uint(count), new Uint8Array(count), [0]]); // field 1: Entries
  return concat([...messages, body].flatMap((m) => [uint(m.length), m]));
}

describe('nameserver gossip element bounds', () => {
  it('the hand-made payload decodes when small', () => {
    expect(NameGossipData.decode(emptyEntries(3)).entries).toHaveLength(3);
  });

  it('refuses a 10 MiB payload of empty entries before allocating them', () => {
    const bytes = emptyEntries(10 << 20);
    const before = process.memoryUsage().heapUsed;
    let thrown: unknown;
    try {
      NameGossipData.decode(bytes);
    } catch (e) {
      thrown = e;
    }
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 << 20);
    expect(thrown).toBeInstanceOf(InvalidNameGossipError);
    const cause = (thrown as Error).cause;
    expect(cause).toBeInstanceOf(GobLimitError);
    expect((cause as GobLimitError).limit).toBe(MAX_NAME_GOSSIP_ENTRIES);
    expect(() => NameGossipData.decode(emptyEntries(MAX_NAME_GOSSIP_ENTRIES + 1))).toThrow(
      InvalidNameGossipError,
    );
    expect(NameGossipData.decode(emptyEntries(MAX_NAME_GOSSIP_ENTRIES)).entries).toHaveLength(
      MAX_NAME_GOSSIP_ENTRIES,
    );
  });
});
