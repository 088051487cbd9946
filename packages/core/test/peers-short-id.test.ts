import { describe, expect, it } from 'vitest';
import { PEER_SHORT_ID_COUNT, Peer, ShortIdIndex, noShortIdEffects } from '@weave-ts/core/protocol';
import { connect, disconnect, entriesOf, makeNode, n, seededRandom } from './peers-fixtures.js';

const peerWith = (name: number, shortId: number, uid = BigInt(name + 1)) =>
  new Peer({ name: n(name), nickname: '', uid, version: 0, shortId, hasShortId: true });

function shuffle<T>(items: T[], random: ReturnType<typeof seededRandom>): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('short-ID index', () => {
  it('makes the lowest name the principal under heavy collisions, and empties cleanly (mesh TestShortIDCollisions)', () => {
    const random = seededRandom(42);
    const us = peerWith(PEER_SHORT_ID_COUNT, 0);
    const index = new ShortIdIndex(us);
    const ps = shuffle(
      Array.from({ length: PEER_SHORT_ID_COUNT }, (_, i) => peerWith(i, random.int(PEER_SHORT_ID_COUNT))),
      random,
    );
    const effects = noShortIdEffects();
    for (const p of ps) index.add(p, effects);

    const seen = new Map<Peer, number>();
    let collisions = 0;
    for (const id of index.usedIds()) {
      const principal = index.get(id)!;
      expect(principal.shortId).toBe(id);
      seen.set(principal, (seen.get(principal) ?? 0) + 1);
      for (const other of index.contenders(id)) {
        collisions++;
        expect(other.shortId).toBe(id);
        expect(other.name > principal.name).toBe(true);
        seen.set(other, (seen.get(other) ?? 0) + 1);
      }
    }
    expect(collisions).toBeGreaterThan(0);
    expect(seen.size).toBe(ps.length);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);

    for (const p of shuffle(ps, random)) index.delete(p, effects);
    expect(index.usedIds()).toEqual([]);
  });

  it('reports when the mapping changes, and reuse of a vacated ID (mesh TestShortIDInvalidation)', () => {
    const us = peerWith(PEER_SHORT_ID_COUNT, 5);
    const index = new ShortIdIndex(us);
    const [a, b, c] = [peerWith(1, 6), peerWith(2, 6), peerWith(0, 6)];
    const step = (fn: (e: ReturnType<typeof noShortIdEffects>) => void) => {
      const e = noShortIdEffects();
      fn(e);
      return e.invalidated;
    };
    expect(step((e) => index.add(a, e))).toBe(false); // fresh ID
    expect(step((e) => index.add(b, e))).toBe(false); // a stays principal
    expect(step((e) => index.add(c, e))).toBe(true); // c has a lower name
    expect(step((e) => index.delete(b, e))).toBe(false); // a contender leaves
    expect(step((e) => index.delete(c, e))).toBe(true); // principal leaves, a takes over
    expect(index.get(6)).toBe(a);
    expect(step((e) => index.delete(a, e))).toBe(false); // last one leaves
    expect(step((e) => index.add(a, e))).toBe(true); // the vacated ID is reused
  });

  it('asks us to move when a lower name takes our ID', () => {
    const us = peerWith(9, 3);
    const index = new ShortIdIndex(us);
    const e = noShortIdEffects();
    index.add(us, e);
    index.add(peerWith(10, 3), e);
    expect(e.reassignLocal).toBe(false);
    index.add(peerWith(8, 3), e);
    expect(e.reassignLocal).toBe(true);
  });

  it('finds the last free IDs and gives up when none is left', () => {
    const index = new ShortIdIndex(peerWith(PEER_SHORT_ID_COUNT, 0));
    const e = noShortIdEffects();
    const free = new Set([17, 2048, 4095]);
    for (let i = 0; i < PEER_SHORT_ID_COUNT; i++) if (!free.has(i)) index.add(peerWith(i, i), e);
    const random = seededRandom(3);
    const picked = new Set<number>();
    for (let i = 0; i < 50; i++) picked.add(index.chooseFree(random)!);
    expect(picked).toEqual(free);
    for (const id of free) index.add(peerWith(5000 + id, id), e);
    expect(index.chooseFree(random)).toBeUndefined();
  });
});

describe('Peers: short-ID reassignment', () => {
  it('picks a new free ID for us when few are taken (mesh TestShortIDReassignmentEasy)', () => {
    const random = seededRandom(5);
    const { local, peers } = makeNode(n(0), { random });
    for (let i = 1; i <= 10; i++) peers.fetchWithDefault(peerWith(i, random.int(PEER_SHORT_ID_COUNT)));
    const [oldId, oldVersion] = [local.shortId, local.version];
    expect(peers.reassignLocalShortId()).toBe(true);
    expect(local.shortId).not.toBe(oldId);
    expect(local.version).toBe(oldVersion + 1);
    expect(peers.fetchByShortId(local.shortId)).toBe(local);
  });

  it('cannot move while every ID is taken, then can once some are freed (mesh TestShortIDReassignmentHard)', () => {
    const random = seededRandom(6);
    const { local, peers } = makeNode(n(PEER_SHORT_ID_COUNT), { random });
    const others = Array.from({ length: PEER_SHORT_ID_COUNT }, (_, i) =>
      peers.fetchWithDefault(peerWith(i, i)),
    );
    const oldId = local.shortId;
    expect(peers.reassignLocalShortId()).toBe(false);
    expect(local.shortId).toBe(oldId);
    for (const i of [3, 77, 1000]) peers.dereference(others[i]!);
    expect(peers.garbageCollect().map((p) => p.shortId)).toEqual([3, 77, 1000]);
    // garbage collection noticed we lack our own ID and took a freed one
    expect([3, 77, 1000]).toContain(local.shortId);
    expect(peers.fetchByShortId(local.shortId)).toBe(local);
  });

  it('propagates a reassigned short ID through gossip (mesh TestShortIDPropagation)', () => {
    const [a, b] = [makeNode(n(1)), makeNode(n(2))];
    connect(a, b.local);
    a.peers.applyEntries(entriesOf(b.peers));
    const copy = a.peers.fetch(n(2))!;
    const before = copy.summary();
    expect(b.peers.reassignLocalShortId()).toBe(true);
    a.peers.applyEntries(entriesOf(b.peers));
    expect(copy.version).not.toBe(before.version);
    expect(copy.shortId).not.toBe(before.shortId);
    expect(a.peers.fetchByShortId(copy.shortId)).toBe(copy);
  });

  it('resolves a collision in favour of the lowest name and gossips the change (mesh TestShortIDCollision)', () => {
    const [p1, p2, p3] = [makeNode(n(1)), makeNode(n(2)), makeNode(n(3))];
    p1.peers.setLocalShortId(1);
    p2.peers.setLocalShortId(2);
    p3.peers.setLocalShortId(3);
    connect(p2, p1.local);
    connect(p3, p2.local);
    p2.peers.applyEntries(entriesOf(p1.peers));
    p3.peers.applyEntries(entriesOf(p2.peers));

    p1.peers.setLocalShortId(2); // now collides with p2; p1 has the lower name
    let modified = 0;
    let invalidated = 0;
    p2.peers.on('localPeerModified', () => modified++);
    p2.peers.on('shortIdsInvalidated', () => invalidated++);
    const { improved } = p2.peers.applyEntries(entriesOf(p1.peers));
    expect(p2.local.shortId).not.toBe(2);
    expect(p2.peers.fetchByShortId(2)?.name).toBe(n(1));
    expect(p2.peers.fetchByShortId(p2.local.shortId)).toBe(p2.local);
    expect([modified, invalidated]).toEqual([1, 1]);

    // the router answers localPeerModified by gossiping us along with the improved peers
    p3.peers.applyEntries(entriesOf(p2.peers, [...improved, n(2)]));
    expect(p3.peers.fetch(n(2))?.shortId).toBe(p2.local.shortId);
    expect(p3.peers.fetchByShortId(2)?.name).toBe(n(1));
  });

  it('claims a freed ID after a disconnect when all were taken (mesh TestDeferredShortIDReassignment)', () => {
    const random = seededRandom(8);
    const us = makeNode(n(PEER_SHORT_ID_COUNT), { random });
    for (let i = 0; i < PEER_SHORT_ID_COUNT; i++) connect(us, peerWith(i, i));
    expect(us.peers.fetchByShortId(us.local.shortId)).not.toBe(us.local);
    const victim = random.int(PEER_SHORT_ID_COUNT);
    disconnect(us, n(victim));
    us.peers.garbageCollect();
    expect(us.local.shortId).toBe(victim);
    expect(us.peers.fetchByShortId(us.local.shortId)).toBe(us.local);
  });
});
