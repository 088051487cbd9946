// Hostile `nameserver` gossip: more entries than a payload can legitimately carry are refused before
// they are allocated (InvalidNameGossipError caused by a GobLimitError).
import { encodeGob, GobLimitError } from '@weave-ts/core/protocol';
import { caughtWithHeapGrowth, gobUint, replaceGobValue } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { InvalidNameGossipError } from '../src/errors.js';
import { GobNameGossip, MAX_NAME_GOSSIP_ENTRIES, NameGossipData } from '../src/gossip-data.js';

/** A payload of `count` empty entries (one byte each): a real message's definitions, then a hand-written value. */
function emptyEntries(count: number): Uint8Array {
  const real = encodeGob(GobNameGossip, { Timestamp: 0, Entries: [] });
  return replaceGobValue(real, [[2], gobUint(count), new Uint8Array(count), [0]]); // field 1: Entries
}

describe('nameserver gossip element bounds', () => {
  it('the hand-made payload decodes when small', () => {
    expect(NameGossipData.decode(emptyEntries(3)).entries).toHaveLength(3);
  });

  it('refuses a 10 MiB payload of empty entries before allocating them', () => {
    const bytes = emptyEntries(10 << 20);
    const { error: thrown, heapGrowth } = caughtWithHeapGrowth(() => NameGossipData.decode(bytes));
    expect(heapGrowth).toBeLessThan(4 << 20);
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
