// Hostile IPAM gossip: element counts past what the protocol can carry are refused before anything is
// allocated, with a GobLimitError (which closes the connection that sent it, like any decode error).
import { peerNameFromNumber } from '@weave-ts/core';
import { encodeGob, GobLimitError } from '@weave-ts/core/protocol';
import { describe, expect, it } from 'vitest';
import { decodeGossipState, encodeGossipState, gossipStateType } from '../src/ipam-gossip.js';
import { MAX_IPAM_PEERS, MAX_RING_ENTRIES } from '../src/ring-wire.js';

/** Gob's unsigned integer encoding. */
function uint(n: number): number[] {
  if (n < 128) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [256 - bytes.length, ...bytes];
}

/** Concatenates byte arrays and number lists. */
function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits a gob stream into its messages (`uint(len) ‖ bytes`). */
function messages(stream: Uint8Array): Uint8Array[] {
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
 * A gossipState whose ring has `count` entries, every one the zero entry (one byte on the wire): the
 * type definitions of a real message, then a hand-written value.
 */
function zeroEntries(count: number): Uint8Array {
  const real = messages(
    encodeGob(gossipStateType, {
      Now: 0n,
      Nicknames: new Map(),
      Paxos: new Map(),
      Ring: { Start: 0, End: 0, Peer: 0, Entries: [], Seeds: [] },
    }),
  );
  const value = real.pop()!;
  const id = value.subarray(0, value[0]! < 128 ? 1 : 1 + 256 - value[0]!); // the value's type id, as sent
  // field 3 of gossipState (Ring), field 3 of Ring (Entries), the count, `count` empty structs, two ends
  const body = concat([id, [4, 4], uint(count), new Uint8Array(count), [0, 0]]);
  return concat([...real, body].flatMap((m) => [uint(m.length), m]));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('IPAM gossip element bounds', () => {
  it('the hand-made message is a real gossip state', () => {
    const state = decodeGossipState(zeroEntries(3));
    expect(state.ring?.entries).toHaveLength(3);
  });

  it('refuses a 10 MiB message of zero ring entries without growing the heap', () => {
    const bytes = zeroEntries(10 << 20);
    expect(bytes.length).toBeGreaterThan(10 << 20);
    const before = process.memoryUsage().heapUsed;
    const e = thrown(() => decodeGossipState(bytes));
    const grown = process.memoryUsage().heapUsed - before;
    expect(e).toBeInstanceOf(GobLimitError);
    expect((e as Error).name).toBe('GobLimitError');
    expect((e as GobLimitError).limit).toBe(MAX_RING_ENTRIES);
    expect(grown).toBeLessThan(4 << 20);
  });

  it('accepts the largest ring allowed and refuses one entry more', () => {
    expect(decodeGossipState(zeroEntries(MAX_RING_ENTRIES)).ring?.entries).toHaveLength(MAX_RING_ENTRIES);
    expect(thrown(() => decodeGossipState(zeroEntries(MAX_RING_ENTRIES + 1)))).toBeInstanceOf(GobLimitError);
  });

  it('bounds the peers a message names (nicknames)', () => {
    const ok = encodeGossipState({
      now: 0n,
      nicknames: new Map([[peerNameFromNumber(1), 'a']]),
      paxos: undefined,
      ring: undefined,
    });
    expect(decodeGossipState(ok).nicknames.size).toBe(1);
    const many = encodeGob(gossipStateType, {
      Now: 0n,
      Nicknames: new Map(Array.from({ length: MAX_IPAM_PEERS + 1 }, (_, i) => [i + 1, ''])),
      Paxos: new Map(),
      Ring: undefined,
    });
    expect(thrown(() => decodeGossipState(many))).toBeInstanceOf(GobLimitError);
  });
});
