import { parsePeerName } from '@weave-ts/core';
import { describe, expect, it } from 'vitest';
import { cidrHostRange, cidrRange, formatAddress, parseCIDR, type Range } from '../src/address.js';
import { Ring } from '../src/ring.js';
import type { RingEntry } from '../src/ring-entries.js';
import { Space } from '../src/space.js';
import { seededRandom } from './seeded-random.js';

/**
 * Design brief §7.4, replayed at the ring/space level, checked against what a real Weave 2.8.1 cluster
 * did in the captured scenario (/work/shared/interop/weaver-2.8.1: A and B allocate, C joins and A
 * donates to it).
 */

const A = parsePeerName('0a:00:00:00:00:01');
const B = parsePeerName('0a:00:00:00:00:02');
const C = parsePeerName('0a:00:00:00:00:03');
const subnet = parseCIDR('172.16.16.0/24');
const universe = cidrRange(subnet);
const hosts = cidrHostRange(subnet);
const at = (n: number) => universe.start + n;

/** A peer as the allocator will drive it: ring plus space, kept in step. */
class Peer {
  readonly ring: Ring;
  readonly space = new Space();
  readonly #allocated = new Set<number>();
  constructor(name: typeof A) {
    this.ring = new Ring(universe.start, universe.end, name);
  }
  hear(other: Peer): void {
    this.ring.merge(other.ring.toState(), (ranges) =>
      [...this.#allocated].some((addr) => ranges.some((r) => addr >= r.start && addr < r.end)),
    );
    this.space.updateRanges(this.ring.ownedRanges());
  }
  allocate(): number | undefined {
    const addr = this.space.allocate(hosts);
    if (addr !== undefined) this.#allocated.add(addr);
    this.reportFree();
    return addr;
  }
  donateTo(requester: typeof A, wanted: Range): Range | undefined {
    const block = this.space.donate(wanted);
    if (block) this.ring.grantRangeToHost(block.start, block.end, requester);
    return block;
  }
  reportFree(): void {
    const free = new Map(
      this.ring.ownedRanges().map((r) => [r.start, this.space.numFreeAddressesInRange(r)] as const),
    );
    this.ring.reportFree(free);
  }
}

function entry(offset: number, peer: typeof A, free: number, version: number): RingEntry {
  return { token: at(offset), peer, version, free };
}

function twoPeerCluster(): { a: Peer; b: Peer } {
  const a = new Peer(A);
  const b = new Peer(B);
  // Paxos settled on {A, B}; B (whose allocation started the election) creates the ring.
  b.ring.claimForPeers([A, B]);
  b.space.updateRanges(b.ring.ownedRanges());
  return { a, b };
}

describe('§7.4 worked example: 172.16.16.0/24', () => {
  it('splits the range between A and B at .128', () => {
    const { b } = twoPeerCluster();
    expect(b.ring.entries()).toEqual([entry(0, A, 128, 0), entry(128, B, 128, 0)]);
    expect(b.ring.seeds).toEqual([A, B]);
  });

  it('gives B .128 and A .1, as the captured routers did', () => {
    const { a, b } = twoPeerCluster();
    expect(formatAddress(b.allocate()!)).toBe('172.16.16.128');
    a.hear(b);
    expect(formatAddress(a.allocate()!)).toBe('172.16.16.1');
    b.hear(a);
    // The ring both captured peers gossiped from then on.
    const expected = [entry(0, A, 127, 1), entry(128, B, 127, 1)];
    expect(a.ring.entries()).toEqual(expected);
    expect(b.ring.entries()).toEqual(expected);
  });

  it('lets C ask either peer, and A donates [.96, .128) as in the capture', () => {
    const { a, b } = twoPeerCluster();
    b.allocate();
    a.hear(b);
    a.allocate();
    b.hear(a);

    const c = new Peer(C);
    c.hear(a);
    expect(c.space.allocate(hosts)).toBeUndefined();
    const candidates = c.ring.choosePeersToAskForSpace(universe.start, universe.end, seededRandom(3));
    expect(new Set(candidates)).toEqual(new Set([A, B]));

    const block = a.donateTo(C, universe)!;
    expect(block).toEqual({ start: at(96), end: at(128) });
    // A's unicast reply to C carried this ring (before A re-reported its free space)...
    expect(a.ring.entries()).toEqual([entry(0, A, 96, 2), entry(96, C, 32, 0), entry(128, B, 127, 1)]);
    c.hear(a);
    expect(formatAddress(c.allocate()!)).toBe('172.16.16.96');
    a.reportFree();
    // ...and A's next broadcast this one (A has not heard C's own report yet).
    expect(a.ring.entries()).toEqual([entry(0, A, 95, 3), entry(96, C, 32, 0), entry(128, B, 127, 1)]);
  });

  it('would have given C .224 had B been asked', () => {
    const { a, b } = twoPeerCluster();
    b.allocate();
    a.hear(b);
    a.allocate();
    b.hear(a);
    const c = new Peer(C);
    expect(b.donateTo(C, universe)).toEqual({ start: at(224), end: at(256) });
    c.hear(b);
    expect(formatAddress(c.allocate()!)).toBe('172.16.16.224');
  });

  it('would have given B [.192, .256) had A formed the ring alone', () => {
    const a = new Peer(A);
    a.ring.claimForPeers([A]);
    a.space.updateRanges(a.ring.ownedRanges());
    expect(formatAddress(a.allocate()!)).toBe('172.16.16.1');
    expect(a.donateTo(B, universe)).toEqual({ start: at(192), end: at(256) });
  });
});
