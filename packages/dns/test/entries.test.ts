// Behaviour of the record set, ported from upstream nameserver/entry_test.go plus CRDT properties.
import { type PeerName, UNKNOWN_PEER_NAME } from '@weave-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Entries } from '../src/entries.js';
import { compareCaseInsensitive, type Entry } from '../src/entry.js';
import { NameGossipData } from '../src/gossip-data.js';
import { peer } from './helpers.js';

const none = UNKNOWN_PEER_NAME;

function entry(hostname: string, extra: Partial<Entry> = {}): Entry {
  return { hostname, containerId: '', origin: none, addr: 0, version: 0, tombstone: 0, ...extra };
}

/** One entry per character, as upstream's makeEntries. */
function makeEntries(names: string): Entry[] {
  return [...names].map((c) => entry(c));
}

describe('Entries (entry_test.go)', () => {
  it('TestAdd: adds, tombstones, then revives with a higher version', () => {
    const es = new Entries();
    es.add('A', '', none, 0);
    expect(es.all()).toEqual([entry('A')]);

    es.tombstone(none, 1234, (e) => e.hostname === 'A');
    expect(es.all()).toEqual([entry('A', { version: 1, tombstone: 1234 })]);

    es.add('A', '', none, 0);
    expect(es.all()).toEqual([entry('A', { version: 2 })]);
  });

  it('TestMerge: merge returns what was new and leaves the union', () => {
    const es = Entries.of(makeEntries('ACDF'));
    const diff = es.merge(makeEntries('BEF'));
    expect(diff).toEqual(makeEntries('BE'));
    expect(es.all()).toEqual(makeEntries('ABCDEF'));
    expect(es.merge(es.all())).toEqual([]);
  });

  it('TestOldMerge: a higher version wins, a lower one is ignored', () => {
    const es = Entries.of([entry('A')]);
    expect(es.merge([entry('A', { version: 1 })])).toEqual([entry('A', { version: 1 })]);
    expect(es.all()).toEqual([entry('A', { version: 1 })]);
    expect(es.merge([entry('A', { version: 0 })])).toEqual([]);
    expect(es.all()).toEqual([entry('A', { version: 1 })]);
  });

  it('TestTombstone: tombstoning bumps the version; at equal versions the later tombstone wins', () => {
    const es = Entries.of(makeEntries('AB'));
    es.tombstone(none, 1234, (e) => e.hostname === 'B');
    expect(es.all()).toEqual([entry('A'), entry('B', { version: 1, tombstone: 1234 })]);

    const other = es.all();
    other[1] = { ...other[1]!, tombstone: 5555 };
    const diff = es.merge(other);
    expect(es.all()).toEqual([entry('A'), entry('B', { version: 1, tombstone: 5555 })]);
    expect(diff).toEqual([entry('B', { version: 1, tombstone: 5555 })]);
    // An earlier tombstone at the same version changes nothing.
    expect(es.merge([entry('B', { version: 1, tombstone: 1000 })])).toEqual([]);
  });

  it('tombstones only entries of the given origin, and only once', () => {
    const es = Entries.of([entry('A', { origin: peer(1) }), entry('B', { origin: peer(2) })]);
    expect(es.tombstone(peer(1), 10, () => true).map((e) => e.hostname)).toEqual(['A']);
    expect(es.tombstone(peer(1), 20, () => true)).toEqual([]);
    expect(es.all()[0]).toEqual(entry('A', { origin: peer(1), version: 1, tombstone: 10 }));
  });

  it('TestDelete: filter drops what the predicate rejects', () => {
    const es = Entries.of(makeEntries('AB'));
    expect(es.filter((e) => e.hostname !== 'A')).toEqual([entry('A')]);
    expect(es.all()).toEqual(makeEntries('B'));
  });

  it('TestLookup: all entries of a name, case-insensitively', () => {
    const es = Entries.of([
      entry('A'),
      entry('B', { containerId: 'bar' }),
      entry('B', { containerId: 'foo' }),
      entry('C'),
    ]);
    const want = [entry('B', { containerId: 'bar' }), entry('B', { containerId: 'foo' })];
    expect(es.lookup('B')).toEqual(want);
    expect(es.lookup('b')).toEqual(want);
    expect(es.lookup('D')).toEqual([]);
  });

  it('keeps names differing only in case as distinct records, found by any case', () => {
    const es = new Entries();
    es.add('Web.weave.local.', 'c1', none, 1);
    es.add('web.weave.local.', 'c1', none, 1);
    es.add('Web.weave.local.', 'c1', none, 1);
    expect(es.size).toBe(2);
    expect(es.lookup('WEB.WEAVE.LOCAL.')).toHaveLength(2);
  });

  it('TestGossipDataMerge: merging gossip gives the sorted union', () => {
    const g1 = new NameGossipData(0, makeEntries('AcDf'));
    const g2 = new NameGossipData(0, makeEntries('BEf'));
    expect(g1.merge(g2)).toEqual(new NameGossipData(0, makeEntries('ABcDEf')));
    expect(new NameGossipData(5, []).merge(new NameGossipData(9, [])).timestamp).toBe(9);
  });
});

describe('Entries as a CRDT', () => {
  const names: PeerName[] = [peer(1), peer(2), peer(3)];
  const arbEntry = fc.record({
    hostname: fc.constantFrom('a.', 'A.', 'b.', 'web.weave.local.'),
    containerId: fc.constantFrom('', 'c1', 'c2'),
    origin: fc.constantFrom(...names),
    addr: fc.integer({ min: 0, max: 3 }),
    version: fc.integer({ min: 0, max: 3 }),
    tombstone: fc.constantFrom(0, 100, 200),
  });

  it('converges to the same state whatever the order and grouping of merges', () => {
    fc.assert(
      fc.property(
        fc
          .array(arbEntry, { maxLength: 30 })
          .chain((list) =>
            fc.tuple(
              fc.constant(list),
              fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
            ),
          ),
        ([list, shuffled]) => {
          const forward = Entries.of(list);
          const oneByOne = new Entries();
          for (const e of shuffled) oneByOne.merge([e]);
          expect(oneByOne.all()).toEqual(forward.all());
          // Idempotent: merging its own state again changes nothing.
          expect(forward.merge(forward.all())).toEqual([]);
          // Stored in strict case-insensitive order.
          const all = forward.all();
          for (let i = 1; i < all.length; i++)
            expect(compareCaseInsensitive(all[i - 1]!, all[i]!)).toBeLessThan(0);
        },
      ),
    );
  });
});
