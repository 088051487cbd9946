import { type PeerName, peerNameFromNumber, type Random, WeaveError } from '@weave-ts/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAddress, type Range } from '../src/address.js';
import { Ring } from '../src/ring.js';
import { type RingEntry, ringInvariantError } from '../src/ring-entries.js';
import { seededRandom } from './seeded-random.js';

/** Property versions of upstream TestFuzzRing and TestFuzzRingHard. */

const start = parseAddress('10.0.0.0');
const end = parseAddress('10.0.1.0');
const size = end - start;
const peerNames = Array.from({ length: 100 }, (_, i) => peerNameFromNumber(0xff + i * 0x10000));

const tokenSet = fc.uniqueArray(fc.nat(size - 1), { maxLength: 40 }).map((ts) => ts.sort((a, b) => a - b));
const entryOwner = fc.constantFrom(...peerNames.slice(0, 25));

/** A valid ring: sorted unique tokens, free counts of zero. */
const goodRing = fc
  .tuple(entryOwner, tokenSet)
  .chain(([holder, tokens]) =>
    fc
      .array(entryOwner, { minLength: tokens.length, maxLength: tokens.length })
      .map((owners) => ({ holder, entries: tokens.map((t, i) => entry(start + t, owners[i]!)) })),
  );

/** Anything: unsorted, repeated, with random free counts. */
const badRing = fc.record({
  holder: entryOwner,
  entries: fc.array(
    fc.record({ token: fc.nat(size - 1), peer: entryOwner, free: fc.nat(300), version: fc.nat(5) }),
    { maxLength: 40 },
  ),
});

function entry(token: number, peer: PeerName): RingEntry {
  return { token, peer, version: 0, free: 0 };
}

function build(spec: { holder: PeerName; entries: RingEntry[] }): Ring {
  return Ring.fromState({ start, end, peer: spec.holder, entries: spec.entries, seeds: [] });
}

function assertValid(ring: Ring): void {
  expect(ringInvariantError(ring.range, ring.entries())).toBeUndefined();
}

describe('ring fuzzing', () => {
  it('merging random rings either succeeds or fails with a typed error, and stays valid', () => {
    fc.assert(
      fc.property(goodRing, fc.oneof(goodRing, badRing), fc.boolean(), (mine, theirs, allocated) => {
        const ring = build(mine);
        const before = ring.entries();
        const incoming = { start, end, peer: theirs.holder, entries: theirs.entries, seeds: [] };
        try {
          ring.merge(incoming, () => allocated);
        } catch (err) {
          expect(err).toBeInstanceOf(WeaveError);
          // A rejected merge leaves the ring as it was, except upstream's in-place re-assertion of a
          // version of our own entry.
          expect(ring.entries().map((e) => [e.token, e.peer, e.free])).toEqual(
            before.map((e) => [e.token, e.peer, e.free]),
          );
        }
        assertValid(ring);
      }),
      { numRuns: 1500 },
    );
  });

  it('random grants, gossip, transfers and joins keep every ring valid and every merge accepted', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => simulate(seededRandom(seed), 40, 500)),
      { numRuns: 6 },
    );
  });
});

/**
 * Like upstream TestFuzzRingHard: peers grant random parts of what they think they own to random peers
 * and gossip to random peers; now and then a peer is removed (`rmpeer` on a converged ring) or added.
 * Every merge must succeed even when every range is in use.
 */
function simulate(random: Random, maxPeers: number, iterations: number): void {
  const rings: Ring[] = [];
  let nextPeer = 0;
  const addPeer = () => rings.push(new Ring(start, end, peerNames[nextPeer++ % peerNames.length]!));
  for (let i = 0; i < maxPeers; i++) addPeer();
  rings[0]!.claimForPeers([rings[0]!.peer]);
  const everyRangeUsed = (_: readonly Range[]) => true;
  const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!;

  for (let step = 0; step < iterations; step++) {
    if (random.int(10) === 0) {
      if (rings.length < maxPeers) {
        addPeer();
        continue;
      }
      const gone = random.int(rings.length);
      const heir = pick(rings.filter((_, i) => i !== gone));
      for (const ring of rings) heir.merge(ring.toState(), everyRangeUsed);
      heir.transfer(rings[gone]!.peer, heir.peer);
      rings.splice(gone, 1);
      for (const ring of rings) ring.merge(heir.toState(), everyRangeUsed);
      continue;
    }
    const owners = rings.filter((r) => r.ownedRanges().length > 0);
    if (owners.length > 0) {
      const ring = pick(owners);
      const range = pick(ring.ownedRanges());
      const from = range.start + random.int(range.end - range.start);
      ring.grantRangeToHost(from, range.end, pick(rings).peer);
      pick(rings).merge(ring.toState(), everyRangeUsed);
    } else {
      pick(rings).merge(pick(rings.filter((r) => !r.isEmpty())).toState(), everyRangeUsed);
    }
  }
  for (const ring of rings) assertValid(ring);
  // The run really divided the space among many peers.
  expect(Math.max(...rings.map((r) => r.peerNames().size))).toBeGreaterThan(10);
}
