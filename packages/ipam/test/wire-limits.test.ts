// Hostile IPAM gossip: element counts past what the protocol can carry are refused before anything is
// allocated, with a GobLimitError (which closes the connection that sent it, like any decode error).
import { peerNameFromNumber } from '@weave-ts/core';
import { encodeGob, GobLimitError } from '@weave-ts/core/protocol';
import { caught, caughtWithHeapGrowth, gobUint, replaceGobValue } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { decodeGossipState, encodeGossipState, gossipStateType } from '../src/ipam-gossip.js';
import { MAX_IPAM_PEERS, MAX_RING_ENTRIES } from '../src/ring-wire.js';

/**
 * A gossipState whose ring has `count` entries, every one the zero entry (one byte on the wire): the
 * type definitions of a real message, then a hand-written value.
 */
function zeroEntries(count: number): Uint8Array {
  const real = encodeGob(gossipStateType, {
    Now: 0n,
    Nicknames: new Map(),
    Paxos: new Map(),
    Ring: { Start: 0, End: 0, Peer: 0, Entries: [], Seeds: [] },
  });
  // field 3 of gossipState (Ring), field 3 of Ring (Entries), the count, `count` empty structs, two ends
  return replaceGobValue(real, [[4, 4], gobUint(count), new Uint8Array(count), [0, 0]]);
}

describe('IPAM gossip element bounds', () => {
  it('the hand-made message is a real gossip state', () => {
    const state = decodeGossipState(zeroEntries(3));
    expect(state.ring?.entries).toHaveLength(3);
  });

  it('refuses a 10 MiB message of zero ring entries without growing the heap', () => {
    const bytes = zeroEntries(10 << 20);
    expect(bytes.length).toBeGreaterThan(10 << 20);
    const { error: e, heapGrowth: grown } = caughtWithHeapGrowth(() => decodeGossipState(bytes));
    expect(e).toBeInstanceOf(GobLimitError);
    expect((e as Error).name).toBe('GobLimitError');
    expect((e as GobLimitError).limit).toBe(MAX_RING_ENTRIES);
    expect(grown).toBeLessThan(4 << 20);
  });

  it('accepts the largest ring allowed and refuses one entry more', () => {
    expect(decodeGossipState(zeroEntries(MAX_RING_ENTRIES)).ring?.entries).toHaveLength(MAX_RING_ENTRIES);
    expect(caught(() => decodeGossipState(zeroEntries(MAX_RING_ENTRIES + 1)))).toBeInstanceOf(GobLimitError);
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
    expect(caught(() => decodeGossipState(many))).toBeInstanceOf(GobLimitError);
  });
});
