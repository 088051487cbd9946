import { type PeerName, parsePeerName } from '@weave-ts/core';
import { describe, expect, it } from 'vitest';
import { parseAddress, type Range } from '../src/address.js';
import {
  DifferentRangeError,
  DifferentSeedsError,
  EntryInMyRangeError,
  InconsistentEntryError,
  MergeResultInvalidError,
  NewerVersionError,
  RingNotSortedError,
  RingPreconditionError,
  TokenOutOfRangeError,
  TokenRepeatedError,
  TooMuchFreeSpaceError,
} from '../src/errors.js';
import { type HasAllocations, Ring } from '../src/ring.js';
import { type RingEntry, ringInvariantError } from '../src/ring-entries.js';
import { seededRandom } from './seeded-random.js';

const ip = parseAddress;
const peer1 = parsePeerName('01:00:00:00:02:00');
const peer2 = parsePeerName('02:00:00:00:02:00');
const peer3 = parsePeerName('03:00:00:00:02:00');

const start = ip('10.0.0.0');
const end = ip('10.0.1.0');
const dot8 = ip('10.0.0.8');
const dot10 = ip('10.0.0.10');
const dot245 = ip('10.0.0.245');
const dot250 = ip('10.0.0.250');
const middle = ip('10.0.0.128');

const noAllocations = () => false;
const allocationsEverywhere = () => true;

function e(token: number, peer: PeerName, free = 0, version = 0): RingEntry {
  return { token, peer, version, free };
}

function ringOf(peer: PeerName, entries: RingEntry[], range: Range = { start, end }): Ring {
  return Ring.fromState({ ...range, peer, entries, seeds: [] });
}

function claimAll(ring: Ring): Ring {
  ring.claimForPeers([ring.peer]);
  return ring;
}

/** Merges `from` into `into` as if no addresses were allocated anywhere. */
function merge(into: Ring, from: Ring, hasAllocations: HasAllocations = noAllocations): boolean {
  return into.merge(from.toState(), hasAllocations);
}

describe('invariants (upstream TestInvariants)', () => {
  const check = (entries: RingEntry[], range: Range = { start, end }) => ringInvariantError(range, entries);

  it('detects unsorted, repeated, out-of-range and over-reported entries', () => {
    expect(check([e(dot245, peer1), e(dot10, peer2)])).toBeInstanceOf(RingNotSortedError);
    expect(check([e(dot245, peer1), e(dot245, peer2)])).toBeInstanceOf(TokenRepeatedError);
    expect(check([e(start, peer1)], { start: dot10, end: dot245 })).toBeInstanceOf(TokenOutOfRangeError);
    expect(check([e(end, peer1)], { start: dot10, end: dot245 })).toBeInstanceOf(TokenOutOfRangeError);
    const tooMuch = check([e(start, peer1, 10), e(dot8, peer2, 0)]);
    expect(tooMuch).toBeInstanceOf(TooMuchFreeSpaceError);
    expect(tooMuch?.message).toBe('Entry 10.0.0.0-10.0.0.8 reporting too much free space: 10 > 8');
    expect(check([e(start, peer1, 256)])).toBeUndefined();
    expect(check([])).toBeUndefined();
  });

  it('refuses to restore or build an invalid ring', () => {
    expect(() => ringOf(peer1, [e(dot245, peer1), e(dot10, peer2)])).toThrow(RingNotSortedError);
    expect(() => new Ring(end, start, peer1)).toThrow(RingPreconditionError);
  });
});

describe('tokens and ownership', () => {
  it('lists spans for status (upstream TestInsert)', () => {
    const ring = ringOf(peer1, [e(start, peer1), e(dot245, peer1)]);
    expect(ring.allRangeInfo()).toEqual([
      { peer: peer1, range: { start, end: dot245 }, version: 0 },
      { peer: peer1, range: { start: dot245, end }, version: 0 },
    ]);
    const three = ringOf(peer1, [e(start, peer1), e(dot10, peer1), e(dot245, peer1)]);
    expect(three.allRangeInfo().map((i) => i.range)).toEqual([
      { start, end: dot10 },
      { start: dot10, end: dot245 },
      { start: dot245, end },
    ]);
  });

  it('splits a span crossing the end of the range in two', () => {
    const ring = ringOf(peer1, [e(dot10, peer1, 3, 4), e(dot245, peer2)]);
    expect(ring.allRangeInfo()).toEqual([
      { peer: peer1, range: { start: dot10, end: dot245 }, version: 4 },
      { peer: peer2, range: { start, end: dot10 }, version: 0 },
      { peer: peer2, range: { start: dot245, end }, version: 0 },
    ]);
  });

  it('assigns every address to the token at or before it, wrapping (upstream TestBetween)', () => {
    const single = ringOf(peer1, [e(start, peer1, 255)]);
    for (let i = 0; i < 256; i++) expect(single.owner(start + i)).toBe(peer1);

    const ring = ringOf(peer1, [e(dot10, peer1), e(dot245, peer2)]);
    for (let i = 0; i < 256; i++) {
      expect(ring.owner(start + i)).toBe(i >= 10 && i < 245 ? peer1 : peer2);
    }
  });

  it('knows who owns what (upstream TestOwner)', () => {
    const ring = new Ring(start, end, peer1);
    expect(ring.contains(start)).toBe(true);
    expect(ring.contains(end)).toBe(false);
    expect(ring.owner(start)).toBeUndefined();
    claimAll(ring);
    ring.grantRangeToHost(middle, end, peer2);
    expect(ring.owner(start)).toBe(peer1);
    expect(ring.owner(middle)).toBe(peer2);
    expect(() => ring.owner(end)).toThrow(RingPreconditionError);
    expect(ring.peerNames()).toEqual(new Set([peer1, peer2]));
  });

  it('reports owned ranges in address order (upstream TestOwnedRange)', () => {
    const ring1 = claimAll(new Ring(start, end, peer1));
    expect(ring1.ownedRanges()).toEqual([{ start, end }]);
    ring1.grantRangeToHost(middle, end, peer2);
    expect(ring1.ownedRanges()).toEqual([{ start, end: middle }]);

    const ring2 = new Ring(start, end, peer2);
    merge(ring2, ring1);
    expect(ring2.ownedRanges()).toEqual([{ start: middle, end }]);

    const wrapping = ringOf(peer2, [e(middle, peer2)]);
    expect(wrapping.ownedRanges()).toEqual([
      { start, end: middle },
      { start: middle, end },
    ]);
    const two = ringOf(peer2, [e(dot10, peer2), e(middle, peer2)]);
    expect(two.ownedRanges()).toEqual([
      { start, end: dot10 },
      { start: dot10, end: middle },
      { start: middle, end },
    ]);
  });
});

describe('claimForPeers (upstream TestClaimForPeers)', () => {
  const peers = Array.from({ length: 12 }, (_, i) =>
    parsePeerName(
      `${String(Math.floor(i / 100)).padStart(2, '0')}:${String(i % 100).padStart(2, '0')}:00:00:00:ff`,
    ),
  );

  it('divides a small ring among 1..12 peers, covering it exactly', () => {
    for (let n = 1; n <= peers.length; n++) {
      const ring = new Ring(start, dot8, peers[0]!);
      ring.claimForPeers(peers.slice(0, n));
      const entries = ring.entries();
      expect(ringInvariantError(ring.range, entries)).toBeUndefined();
      const last = entries[entries.length - 1]!;
      expect(last.token + last.free).toBe(dot8);
      expect(entries.reduce((sum, x) => sum + x.free, 0)).toBe(8);
      expect(new Set(entries.map((x) => x.peer)).size).toBe(Math.min(n, 8));
      expect(ring.seeds).toEqual(peers.slice(0, n));
    }
  });

  it('halves recursively, giving the left half to the first half of the peers', () => {
    const owners = (n: number) => {
      const ring = new Ring(start, dot8, peers[0]!);
      ring.claimForPeers(peers.slice(0, n));
      return ring.entries().map((x) => [x.token - start, peers.indexOf(x.peer), x.free]);
    };
    expect(owners(3)).toEqual([
      [0, 0, 4],
      [4, 1, 2],
      [6, 2, 2],
    ]);
    expect(owners(5)).toEqual([
      [0, 0, 2],
      [2, 1, 2],
      [4, 2, 2],
      [6, 3, 1],
      [7, 4, 1],
    ]);
    // More peers than addresses: single addresses go to the first peer of each sub-list.
    expect(owners(12).map(([, p]) => p)).toEqual([0, 1, 3, 4, 6, 7, 9, 10]);
  });

  it('skips the middle address of an odd share, as upstream does', () => {
    const ring = new Ring(start, start + 7, peer1);
    ring.claimForPeers([peer1, peer2]);
    expect(ring.entries()).toEqual([e(start, peer1, 3), e(start + 4, peer2, 3)]);
  });

  it('only works on an empty ring with peers', () => {
    const ring = claimAll(new Ring(start, end, peer1));
    expect(() => ring.claimForPeers([peer1])).toThrow(RingPreconditionError);
    expect(() => new Ring(start, end, peer1).claimForPeers([])).toThrow(RingPreconditionError);
  });
});

describe('grantRangeToHost', () => {
  it('hands over whole and partial ranges (upstream TestGrantSimple)', () => {
    const ring1 = claimAll(new Ring(start, end, peer1));
    expect(ring1.entries()).toEqual([e(start, peer1, 256)]);

    ring1.grantRangeToHost(start, end, peer2);
    expect(ring1.entries()).toEqual([e(start, peer2, 256, 1)]);

    const ring2 = ringOf(peer2, [e(start, peer2, 256, 1)]);
    ring2.grantRangeToHost(dot10, end, peer1);
    expect(ring2.entries()).toEqual([e(start, peer2, 10, 2), e(dot10, peer1, 246)]);

    const ring3 = ringOf(peer1, ring2.entries());
    ring3.grantRangeToHost(dot245, end, peer2);
    expect(ring3.entries()).toEqual([e(start, peer2, 10, 2), e(dot10, peer1, 235, 1), e(dot245, peer2, 11)]);

    // A grant spanning an existing token.
    const ring4 = ringOf(peer1, [e(start, peer1, 10, 2), e(dot10, peer1, 235), e(dot245, peer1, 10)]);
    ring4.grantRangeToHost(dot10, end, peer2);
    expect(ring4.entries()).toEqual([
      e(start, peer1, 10, 2),
      e(dot10, peer2, 235, 1),
      e(dot245, peer2, 10, 1),
    ]);
  });

  it('keeps the remainder with a token at the end (upstream TestGrantSplit)', () => {
    const ring1 = ringOf(peer1, [e(start, peer1, 256)]);
    const ring2 = new Ring(start, end, peer2);
    merge(ring2, ring1);
    expect(ring2.entries()).toEqual(ring1.entries());

    ring1.grantRangeToHost(dot10, dot245, peer2);
    expect(ring1.entries()).toEqual([e(start, peer1, 10, 1), e(dot10, peer2, 235), e(dot245, peer1, 11)]);

    const ring3 = ringOf(peer1, [e(start, peer1, 10, 2), e(dot10, peer1, 118), e(middle, peer1, 127)]);
    ring3.grantRangeToHost(dot10, dot245, peer2);
    expect(ring3.entries()).toEqual([
      e(start, peer1, 10, 2),
      e(dot10, peer2, 118, 1),
      e(middle, peer2, 117, 1),
      e(dot245, peer1, 11, 0),
    ]);
  });

  it('refuses ranges that are empty, outside the ring or not ours', () => {
    const ring = claimAll(new Ring(start, end, peer1));
    ring.grantRangeToHost(middle, end, peer2);
    expect(() => ring.grantRangeToHost(dot10, dot10, peer2)).toThrow(RingPreconditionError);
    expect(() => ring.grantRangeToHost(dot10, end + 1, peer2)).toThrow(RingPreconditionError);
    expect(() => ring.grantRangeToHost(middle, dot245, peer3)).toThrow(RingPreconditionError);
    expect(() => new Ring(start, end, peer1).grantRangeToHost(dot10, dot245, peer2)).toThrow(
      RingPreconditionError,
    );
  });
});

describe('merge', () => {
  it('merges grants made on either side (upstream TestMergeSimple)', () => {
    const ring1 = claimAll(new Ring(start, end, peer1));
    const ring2 = new Ring(start, end, peer2);
    ring1.grantRangeToHost(middle, end, peer2);
    expect(merge(ring2, ring1)).toBe(true);
    expect(ring1.entries()).toEqual([e(start, peer1, 128, 1), e(middle, peer2, 128)]);
    expect(ring2.entries()).toEqual(ring1.entries());
    expect(ring2.seeds).toEqual([peer1]);

    ring1.grantRangeToHost(start, middle, peer2);
    ring2.grantRangeToHost(middle, end, peer1);
    merge(ring2, ring1);
    merge(ring1, ring2);
    expect(ring1.entries()).toEqual([e(start, peer2, 128, 2), e(middle, peer1, 128, 1)]);
    expect(ring2.entries()).toEqual(ring1.entries());
  });

  it('converges back and forth and reports no-ops (upstream TestMergeMore)', () => {
    const ring1 = claimAll(new Ring(start, end, peer1));
    const ring2 = new Ring(start, end, peer2);
    expect(ring2.isEmpty()).toBe(true);
    merge(ring2, ring1);
    expect(ring2.entries()).toEqual([e(start, peer1, 256)]);

    ring1.grantRangeToHost(start, end, peer2);
    expect(ring2.entries()).toEqual([e(start, peer1, 256)]);
    merge(ring2, ring1);
    expect(ring2.entries()).toEqual([e(start, peer2, 256, 1)]);

    ring2.grantRangeToHost(middle, end, peer1);
    expect(ring2.entries()).toEqual([e(start, peer2, 128, 2), e(middle, peer1, 128)]);
    expect(ring1.entries()).toEqual([e(start, peer2, 256, 1)]);
    expect(merge(ring1, ring2)).toBe(true);
    expect(ring1.entries()).toEqual([e(start, peer2, 128, 2), e(middle, peer1, 128)]);

    expect(merge(ring2, ring1)).toBe(false);
    expect(ring2.entries()).toEqual(ring1.entries());
  });

  it('takes split ranges granted by their owner (upstream TestMergeSplit, TestMergeSplit2)', () => {
    const ring1 = ringOf(peer1, [e(start, peer2, 256)]);
    const ring2 = new Ring(start, end, peer2);
    merge(ring2, ring1);
    ring2.grantRangeToHost(dot10, dot245, peer1);
    const split = [e(start, peer2, 10, 1), e(dot10, peer1, 235), e(dot245, peer2, 11)];
    expect(ring2.entries()).toEqual(split);
    merge(ring1, ring2);
    expect(ring1.entries()).toEqual(split);

    const ring3 = ringOf(peer1, [e(start, peer2, 250), e(dot250, peer2, 5)]);
    const ring4 = new Ring(start, end, peer2);
    merge(ring4, ring3);
    ring4.grantRangeToHost(dot10, dot245, peer1);
    const split2 = [e(start, peer2, 10, 1), e(dot10, peer1, 235), e(dot245, peer2, 5), e(dot250, peer2, 5)];
    expect(ring4.entries()).toEqual(split2);
    merge(ring3, ring4);
    expect(ring3.entries()).toEqual(split2);
  });

  it('accepts old messages, splits at the beginning and empty rings', () => {
    // TestMergeOldMessage: our own newer grant beats an older copy coming back.
    const ring1 = claimAll(new Ring(start, end, peer1));
    const ring2 = new Ring(start, end, peer2);
    merge(ring2, ring1);
    ring1.grantRangeToHost(middle, end, peer1);
    expect(() => merge(ring1, ring2, allocationsEverywhere)).not.toThrow();

    // TestSplitRangeAtBeginning.
    const ring3 = claimAll(new Ring(start, end, peer1));
    const ring4 = new Ring(start, end, peer2);
    merge(ring4, ring3);
    ring3.grantRangeToHost(start, middle, peer2);
    expect(() => merge(ring4, ring3, allocationsEverywhere)).not.toThrow();
    expect(ring4.owner(start)).toBe(peer2);

    // TestEmptyGossip.
    expect(merge(ring3, new Ring(start, end, peer2), allocationsEverywhere)).toBe(false);
  });

  it('rejects invalid rings, other ranges and other seeds (upstream TestMergeErrors)', () => {
    const ring1 = new Ring(start, end, peer1);
    const unsorted = { start, end, peer: peer2, entries: [e(middle, peer2), e(start, peer2)], seeds: [] };
    expect(() => ring1.merge(unsorted, noAllocations)).toThrow(RingNotSortedError);

    const other = new Ring(start, middle, peer2);
    let error: unknown;
    try {
      merge(ring1, other);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DifferentRangeError);
    expect((error as DifferentRangeError).received).toEqual({ start, end: middle });
    expect((error as DifferentRangeError).ours).toEqual({ start, end });

    const seeded = new Ring(start, end, peer1);
    seeded.claimForPeers([peer1, peer2]);
    const otherSeeds = new Ring(start, end, peer3);
    otherSeeds.claimForPeers([peer3]);
    expect(() => merge(seeded, otherSeeds)).toThrow(DifferentSeedsError);
    // A ring without seeds is not a mismatch.
    expect(() => seeded.merge({ ...seeded.toState(), seeds: [] }, noAllocations)).not.toThrow();
  });

  it('rejects a token inside a range we own and use', () => {
    const ring1 = ringOf(peer1, [e(start, peer1)]);
    const theirs = ringOf(peer2, [e(middle, peer2)]);
    // After our last token, upstream rejects without asking about allocations.
    expect(() => merge(ring1, theirs)).toThrow(EntryInMyRangeError);
    expect(() => merge(ring1, theirs)).toThrow(
      'Peer 02:00:00:00:02:00 says it owns the IP range from 10.0.0.128, which I think I own',
    );

    // Between two of our tokens, it depends on allocations in the split-off part.
    const ring2 = ringOf(peer1, [e(start, peer1), e(dot245, peer1)]);
    const seen: Range[][] = [];
    const spy = (ranges: readonly Range[]) => {
      seen.push([...ranges]);
      return true;
    };
    expect(() => merge(ring2, theirs, spy)).toThrow(EntryInMyRangeError);
    expect(seen).toEqual([[{ start: middle, end: dot245 }]]);
    expect(ring2.entries()).toEqual([e(start, peer1), e(dot245, peer1)]);
    expect(merge(ring2, theirs, noAllocations)).toBe(true);
    expect(ring2.entries()).toEqual([e(start, peer1), e(middle, peer2), e(dot245, peer1)]);
  });

  it('settles same-version conflicts by allocations, then by free space', () => {
    const mine = () => ringOf(peer1, [e(start, peer1, 5)]);
    const theirs = (free: number) => ringOf(peer2, [e(start, peer2, free)]);

    expect(() => merge(mine(), theirs(1), allocationsEverywhere)).toThrow(InconsistentEntryError);
    expect(() => merge(mine(), theirs(1), allocationsEverywhere)).toThrow(
      'Inconsistent entries for 10.0.0.0: owned by 01:00:00:00:02:00 but incoming message says 02:00:00:00:02:00',
    );

    const keep = mine();
    expect(merge(keep, theirs(5))).toBe(false); // tie on free: ours stays
    expect(keep.entries()).toEqual([e(start, peer1, 5)]);
    const yield_ = mine();
    expect(merge(yield_, theirs(6))).toBe(true);
    expect(yield_.entries()).toEqual([e(start, peer2, 6)]);

    // Between two other peers' entries, no allocations are involved.
    const observer = ringOf(peer3, [e(start, peer1, 5)]);
    expect(merge(observer, theirs(9), allocationsEverywhere)).toBe(true);
    expect(observer.owner(start)).toBe(peer2);
  });

  it('repairs, re-asserts or rejects newer versions of our own entries', () => {
    // Someone gave our span away with a higher version: fine if we have nothing there.
    const ours = () => ringOf(peer1, [e(start, peer1, 0, 3), e(middle, peer2, 0, 1)]);
    const givenAway = ringOf(peer2, [e(start, peer2, 0, 4), e(middle, peer2, 0, 1)]);
    const repaired = ours();
    const asked: Range[][] = [];
    expect(
      repaired.merge(givenAway.toState(), (r) => {
        asked.push([...r]);
        return false;
      }),
    ).toBe(true);
    expect(asked).toEqual([[{ start, end: middle }]]);
    expect(repaired.entries()).toEqual([e(start, peer2, 0, 4), e(middle, peer2, 0, 1)]);

    expect(() => merge(ours(), givenAway, allocationsEverywhere)).toThrow(NewerVersionError);
    expect(() => merge(ours(), givenAway, allocationsEverywhere)).toThrow(
      'Received update for IP range I own at 10.0.0.0 v3: incoming message says owner 02:00:00:00:02:00 v4',
    );

    // A copy of our own entry with a higher version: ours is re-asserted above it.
    const stale = ringOf(peer2, [e(start, peer1, 7, 9), e(middle, peer2, 0, 1)]);
    const reasserted = ours();
    expect(merge(reasserted, stale, allocationsEverywhere)).toBe(false);
    expect(reasserted.entries()).toEqual([e(start, peer1, 0, 10), e(middle, peer2, 0, 1)]);
  });

  it('asks about both pieces when a repaired span crosses the end of the range', () => {
    const ours = ringOf(peer1, [e(dot10, peer2, 0, 1), e(dot245, peer1, 0, 2)]);
    const theirs = ringOf(peer2, [e(dot10, peer2, 0, 1), e(dot245, peer3, 0, 3)]);
    const asked: Range[][] = [];
    ours.merge(theirs.toState(), (r) => {
      asked.push([...r]);
      return false;
    });
    expect(asked).toEqual([
      [
        { start, end: dot10 },
        { start: dot245, end },
      ],
    ]);
    expect(ours.owner(start)).toBe(peer3);
  });

  it('clamps our free counts after a repair and rejects impossible free counts', () => {
    // Another peer split our unused span: our entry keeps its version, but its count is clamped.
    const ours = ringOf(peer1, [e(start, peer1, 245, 1), e(dot245, peer3, 11)]);
    const theirs = ringOf(peer2, [e(start, peer1, 128, 1), e(middle, peer2, 117), e(dot245, peer3, 11)]);
    expect(merge(ours, theirs)).toBe(true);
    expect(ours.entries()).toEqual([e(start, peer1, 128, 1), e(middle, peer2, 117), e(dot245, peer3, 11)]);

    // Their entry's free count no longer fits between our tokens.
    const mine = ringOf(peer1, [e(start, peer2, 0), e(dot10, peer1, 0, 1)]);
    const greedy = ringOf(peer2, [e(start, peer2, 200, 1)]);
    expect(() => merge(mine, greedy, allocationsEverywhere)).toThrow(MergeResultInvalidError);
    expect(() => merge(mine, greedy, allocationsEverywhere)).toThrow(
      'Merge of incoming data causes: Entry 10.0.0.0-10.0.0.10 reporting too much free space: 200 > 10',
    );
  });
});

describe('free space and transfers', () => {
  it('chooses peers with free space overlapping the range (upstream TestFindFree)', () => {
    const random = seededRandom(7);
    const ring = new Ring(start, end, peer1);
    expect(ring.choosePeersToAskForSpace(start, end, random)).toEqual([]);

    const self = ringOf(peer1, [e(start, peer1)]);
    expect(self.choosePeersToAskForSpace(start, end, random)).toEqual([]);
    self.reportFree(new Map([[start, 10]]));
    expect(self.choosePeersToAskForSpace(start, end, random)).toEqual([]);
    const selfTwo = ringOf(peer1, [e(start, peer1, 1), e(middle, peer1, 1)]);
    expect(selfTwo.choosePeersToAskForSpace(start, end, random)).toEqual([]);

    expect(ringOf(peer1, [e(start, peer2, 1)]).choosePeersToAskForSpace(start, end, random)).toEqual([peer2]);
    const two = ringOf(peer1, [e(start, peer2, 1), e(middle, peer3, 1)]);
    expect(two.choosePeersToAskForSpace(start, middle, random)).toEqual([peer2]);
    expect(two.choosePeersToAskForSpace(middle, end, random)).toEqual([peer3]);
    expect(new Set(two.choosePeersToAskForSpace(start, end, random))).toEqual(new Set([peer2, peer3]));
    const none = ringOf(peer1, [e(start, peer2, 0), e(middle, peer3, 0)]);
    expect(none.choosePeersToAskForSpace(start, end, random)).toEqual([]);
  });

  it('weights the order by free space', () => {
    const random = seededRandom(99);
    const ring = ringOf(peer1, [e(start, peer2, 120), e(middle, peer3, 4)]);
    let peer2First = 0;
    for (let i = 0; i < 400; i++) {
      if (ring.choosePeersToAskForSpace(start, end, random)[0] === peer2) peer2First++;
    }
    expect(peer2First).toBeGreaterThan(350);
    expect(peer2First).toBeLessThan(400);
  });

  it('records free counts, bumping versions only on change (upstream TestReportFree)', () => {
    const ring1 = claimAll(new Ring(start, end, peer1));
    const ring2 = new Ring(start, end, peer2);
    ring1.grantRangeToHost(middle, end, peer2);
    merge(ring2, ring1);
    const zero = new Map(ring2.ownedRanges().map((r) => [r.start, 0] as const));
    expect(ring2.reportFree(zero)).toBe(true);
    expect(ring2.entries()).toEqual([e(start, peer1, 128, 1), e(middle, peer2, 0, 1)]);
    expect(ring2.reportFree(zero)).toBe(false);
    expect(() => ring2.reportFree(new Map([[start, 0]]))).toThrow(RingPreconditionError);
    expect(() => ring2.reportFree(new Map([[middle, 129]]))).toThrow(RingPreconditionError);
  });

  it('folds the piece split off at the start back into the wrapping span', () => {
    const ring = ringOf(peer1, [e(dot10, peer2, 0), e(dot245, peer1, 0)]);
    const owned = ring.ownedRanges();
    expect(owned).toEqual([
      { start, end: dot10 },
      { start: dot245, end },
    ]);
    const report = new Map([
      [start, 4],
      [dot245, 6],
    ]);
    expect(ring.reportFree(report)).toBe(true);
    expect(ring.entries()[1]).toEqual(e(dot245, peer1, 10, 1));
    expect(report.size).toBe(2); // the caller's map is left alone
  });

  it('takes over a peer with a large version bump (upstream TestTransfer)', () => {
    const ring1 = claimAll(new Ring(start, end, peer1));
    ring1.grantRangeToHost(middle, end, peer2);
    expect(ring1.transfer(peer2, peer1)).toEqual([{ start: middle, end }]);
    expect(ring1.ownedRanges()).toEqual([
      { start, end: middle },
      { start: middle, end },
    ]);
    expect(ring1.entries()[1]!.version).toBe(100);

    const ring2 = claimAll(new Ring(start, end, peer1));
    ring2.grantRangeToHost(middle, end, peer2);
    ring2.transfer(peer2, peer1);
    ring2.grantRangeToHost(dot10, middle, peer2);
    expect(ring2.ownedRanges()).toEqual([
      { start, end: dot10 },
      { start: middle, end },
    ]);

    // The transfer wins against the dead peer's own copy.
    const dead = new Ring(start, end, peer2);
    merge(dead, ringOf(peer1, [e(start, peer1, 128, 1), e(middle, peer2, 128)]));
    const survivor = ringOf(peer1, dead.entries());
    survivor.transfer(peer2, peer1);
    expect(merge(dead, survivor, noAllocations)).toBe(true);
    expect(dead.owner(middle)).toBe(peer1);
  });

  it('picks an heir among other peers', () => {
    const ring = ringOf(peer1, [e(start, peer1), e(dot10, peer2), e(middle, peer3)]);
    expect(ring.pickPeerForTransfer(() => true)).toBe(peer2);
    expect(ring.pickPeerForTransfer((p) => p === peer3)).toBe(peer3);
    expect(ring.pickPeerForTransfer(() => false)).toBeUndefined();
  });

  it('prints itself with nicknames', () => {
    const ring = ringOf(peer1, [e(start, peer1, 0, 2), e(middle, peer2)]);
    expect(ring.format(new Map([[peer1, 'host1']]))).toBe(
      'Ring [10.0.0.0, 10.0.1.0)\n  10.0.0.0 -> 01:00:00:00:02:00 (host1) (v2)\n  10.0.0.128 -> 02:00:00:00:02:00 (v0)',
    );
  });
});
