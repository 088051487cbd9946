// The record keeper and its gossip: ports of upstream nameserver_test.go plus the #1867/#2023
// re-assertion, clock skew and unknown-peer rules.
import type { PeerName } from '@weave-ts/core';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../src/entry.js';
import { ClockSkewError, InvalidIPv4Error } from '../src/errors.js';
import { NameGossipData } from '../src/gossip-data.js';
import { formatIPv4 } from '../src/ipv4.js';
import { Nameserver, TOMBSTONE_TIMEOUT_SECONDS } from '../src/nameserver.js';
import { FakeGossipNetwork, peer, seededRandom } from './helpers.js';
import { VirtualClock } from '@weave-ts/core/testing';

function makeNetwork(size: number, clock = new VirtualClock()) {
  const net = new FakeGossipNetwork();
  const nameservers = Array.from({ length: size }, (_, i) => {
    const ns = new Nameserver({ ourName: peer(i), isKnownPeer: () => true, clock, domain: '' });
    ns.register(net.gossiper(ns.ourName));
    return ns;
  });
  return { net, nameservers, clock };
}

describe('Nameserver (nameserver_test.go)', () => {
  it('TestNameservers: random adds, deletes, lost peers and lookups converge through gossip', () => {
    const random = seededRandom(12345);
    const { net, nameservers: all } = makeNetwork(30);
    const bad = all.slice(25); // these sometimes forget good peers
    const good = all.slice(0, 25);
    const byName = new Map(good.map((n) => [n.ourName, n]));
    type Pair = { origin: PeerName; addr: number; hostname: string };
    const mappings: Array<{ hostname: string; pairs: Pair[] }> = [];
    const pick = <T>(xs: T[]) => xs[random.int(xs.length)]!;
    let checks = 0;

    const check = (ns: Nameserver, m: { hostname: string; pairs: Pair[] }) => {
      const want = m.pairs.map((p) => p.addr).sort((a, b) => a - b);
      expect(ns.lookupAddrs(m.hostname).sort((a, b) => a - b)).toEqual(want);
      checks++;
    };
    // Random capitalisation, so lookups must be case-insensitive.
    const recase = (h: string) => [...h].map((c) => (random.int(2) ? c.toUpperCase() : c)).join('');

    for (let step = 0; step < 800; step++) {
      const r = random.float();
      if (r < 0.1) {
        const ns = pick(good);
        const hostname = `${recase('ho')}stname${step}.`;
        const addr = random.int(2 ** 31);
        const m = { hostname, pairs: [{ origin: ns.ourName, addr, hostname }] };
        mappings.push(m);
        ns.addEntry(hostname, '', ns.ourName, addr);
        check(ns, m);
      } else if (r < 0.2 && mappings.length > 0) {
        const ns = pick(good);
        const m = pick(mappings);
        const hostname = recase(m.hostname);
        const addr = random.int(2 ** 31);
        m.pairs.push({ origin: ns.ourName, addr, hostname });
        ns.addEntry(hostname, '', ns.ourName, addr);
        check(ns, m);
      } else if (r < 0.3 && mappings.length > 0) {
        const m = pick(mappings);
        if (m.pairs.length === 0) continue;
        const [p] = m.pairs.splice(random.int(m.pairs.length), 1);
        const ns = byName.get(p!.origin)!;
        ns.delete('*', formatIPv4(p!.addr), p!.hostname);
        check(ns, m);
      } else if (r < 0.35) {
        pick(bad).peerGone(pick(good).ourName);
      } else if (r < 0.9 && mappings.length > 0) {
        check(pick(good), pick(mappings));
      } else if (mappings.length > 0) {
        const m = pick(mappings);
        if (m.pairs.length === 0) continue;
        const hostname = pick(good).reverseAddr(m.pairs[0]!.addr);
        expect(hostname?.toLowerCase()).toBe(m.hostname.toLowerCase());
      }
      net.flush();
    }
    expect(checks).toBeGreaterThan(400);
    expect(net.errors).toEqual([]);
    // After a full gossip round, every good peer answers every mapping the same.
    net.gossipRound();
    for (const ns of good) for (const m of mappings) check(ns, m);
  });

  it('TestContainerAndPeerDeath: a dead container is tombstoned, a gone peer forgotten', () => {
    const name = peer(0);
    const ns = new Nameserver({ ourName: name, isKnownPeer: () => true, clock: new VirtualClock() });
    ns.addEntry('hostname', 'containerid', name, 0);
    expect(ns.lookupAddrs('hostname')).toEqual([0]);
    ns.containerDied('containerid');
    expect(ns.lookupAddrs('hostname')).toEqual([]);
    ns.addEntry('hostname', 'containerid', name, 0);
    expect(ns.lookupAddrs('hostname')).toEqual([0]);
    ns.peerGone(name);
    expect(ns.lookupAddrs('hostname')).toEqual([]);
    expect(ns.entries()).toEqual([]);
  });

  it('TestTombstoneDeletion: tombstones are purged only after 30 minutes', () => {
    const clock = new VirtualClock(1234_000);
    const name = peer(0);
    const ns = new Nameserver({ ourName: name, isKnownPeer: () => true, clock, domain: '' });
    ns.addEntry('hostname.', 'containerid', name, 0);
    expect(ns.purgeTombstones()).toBe(0);
    expect(ns.lookupAddrs('hostname.')).toEqual([0]);

    ns.delete('containerid', '0.0.0.0', 'hostname');
    expect(ns.lookupAddrs('hostname.')).toEqual([]);
    expect(ns.entries()).toEqual([
      {
        containerId: 'containerid',
        origin: name,
        addr: 0,
        hostname: 'hostname.',
        version: 1,
        tombstone: 1234,
      },
    ]);
    clock.advance(TOMBSTONE_TIMEOUT_SECONDS * 1000);
    expect(ns.purgeTombstones()).toBe(0);
    clock.advance(1000);
    expect(ns.purgeTombstones()).toBe(1);
    expect(ns.entries()).toEqual([]);
  });

  it('purges tombstones by itself every 30 minutes once started, and stops cleanly', () => {
    const clock = new VirtualClock();
    const ns = new Nameserver({ ourName: peer(0), isKnownPeer: () => true, clock });
    ns.start();
    ns.add('c1', '10.0.0.1', 'a.weave.local.');
    ns.containerDied('c1');
    expect(ns.entries()).toHaveLength(1);
    clock.advance(30 * 60_000); // first purge: tombstone exactly 30 min old is kept
    expect(ns.entries()).toHaveLength(1);
    clock.advance(30 * 60_000);
    expect(ns.entries()).toHaveLength(0);
    ns.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('Nameserver API', () => {
  const mk = () => new Nameserver({ ourName: peer(1), isKnownPeer: () => true, clock: new VirtualClock() });

  it('adds only names inside its domain, made fully qualified', () => {
    const ns = mk();
    expect(ns.add('c1', '10.0.0.1', 'web.weave.local')?.hostname).toBe('web.weave.local.');
    expect(ns.add('c1', '10.0.0.2', 'web.example.com.')).toBeUndefined();
    expect(ns.add('c1', '10.0.0.3', 'notweave.local.')).toBeUndefined();
    expect(ns.add('c1', '10.0.0.4', 'X.WEAVE.LOCAL.')?.hostname).toBe('X.WEAVE.LOCAL.');
    expect(ns.lookup('WEB.weave.local')).toEqual(['10.0.0.1']);
    expect(ns.lookup('x.weave.local.')).toEqual(['10.0.0.4']);
    expect(() => ns.add('c1', '10.0.0.256', 'a.weave.local.')).toThrow(InvalidIPv4Error);
  });

  it('deletes with * wildcards, as upstream DELETE /name', () => {
    const ns = mk();
    ns.add('c1', '10.0.0.1', 'a.weave.local.');
    ns.add('c1', '10.0.0.2', 'a.weave.local.');
    ns.add('c2', '10.0.0.1', 'b.weave.local.');
    ns.add('c2', '10.0.0.3', 'c.weave.local.');
    expect(ns.delete('c1', '10.0.0.2').map((e) => formatIPv4(e.addr))).toEqual(['10.0.0.2']);
    expect(ns.lookup('a.weave.local.')).toEqual(['10.0.0.1']);
    expect(ns.delete('*', '10.0.0.1', 'b.weave.local').map((e) => e.hostname)).toEqual(['b.weave.local.']);
    expect(ns.delete('c2').map((e) => e.hostname)).toEqual(['c.weave.local.']);
    expect(ns.delete()).toHaveLength(1); // everything that is left
    expect(ns.entries().every((e) => e.tombstone > 0)).toBe(true);
  });

  it('never deletes records of other peers', () => {
    const ns = mk();
    ns.addEntry('a.weave.local.', 'c1', peer(2), 1);
    expect(ns.delete()).toEqual([]);
    expect(ns.containerDied('c1')).toEqual([]);
    expect(ns.lookupAddrs('a.weave.local.')).toEqual([1]);
  });

  it('reverse-resolves the first live record with an address', () => {
    const ns = mk();
    ns.add('c1', '10.0.0.1', 'b.weave.local.');
    ns.add('c2', '10.0.0.1', 'a.weave.local.');
    expect(ns.reverse('10.0.0.1')).toBe('a.weave.local.');
    ns.containerDied('c2');
    expect(ns.reverse('10.0.0.1')).toBe('b.weave.local.');
    expect(ns.reverse('10.0.0.9')).toBeUndefined();
  });

  it('emits entryAdded / entryRemoved / changed after each operation', () => {
    const ns = mk();
    const log: string[] = [];
    ns.on('entryAdded', (e) => log.push(`+${e.hostname}`));
    ns.on('entryRemoved', (e) => log.push(`-${e.hostname}`));
    ns.on('changed', () => log.push('changed'));
    ns.add('c1', '10.0.0.1', 'a.weave.local.');
    ns.add('c1', '10.0.0.1', 'a.weave.local.'); // already live: nothing
    ns.containerDied('c1');
    ns.containerDied('c1'); // already dead: nothing
    ns.add('c1', '10.0.0.1', 'a.weave.local.');
    ns.addEntry('z.weave.local.', 'c9', peer(7), 5);
    ns.peerGone(peer(7));
    ns.containerDied('c1');
    ns.purgeTombstones(); // not old enough: nothing
    expect(log).toEqual([
      '+a.weave.local.',
      'changed',
      '-a.weave.local.',
      'changed',
      '+a.weave.local.',
      'changed',
      '+z.weave.local.',
      'changed',
      '-z.weave.local.',
      'changed',
      '-a.weave.local.',
      'changed',
    ]);
  });
});

describe('Nameserver gossip rules', () => {
  function pair(isKnownPeer: (p: PeerName) => boolean = () => true) {
    const clock = new VirtualClock();
    const net = new FakeGossipNetwork();
    const a = new Nameserver({ ourName: peer(1), isKnownPeer, clock });
    const b = new Nameserver({ ourName: peer(2), isKnownPeer, clock });
    a.register(net.gossiper(a.ourName));
    b.register(net.gossiper(b.ourName));
    return { a, b, net, clock };
  }
  const payload = (ts: number, entries: Entry[]) => new NameGossipData(ts, entries).encode()[0]!;

  it('broadcasts local changes as deltas', () => {
    const { a, b, net } = pair();
    a.add('c1', '10.0.0.1', 'web.weave.local.');
    net.flush();
    expect(b.lookup('web.weave.local.')).toEqual(['10.0.0.1']);
    a.containerDied('c1');
    net.flush();
    expect(b.lookup('web.weave.local.')).toEqual([]);
    expect(b.entries()[0]?.tombstone).toBeGreaterThan(0);
  });

  it('refuses gossip from a clock more than 900 s away, with upstream message', () => {
    const { a, clock } = pair();
    const now = Math.floor(clock.now() / 1000);
    expect(() => a.onGossip(payload(now + 900, []))).not.toThrow();
    expect(() => a.onGossip(payload(now - 900, []))).not.toThrow();
    expect(() => a.onGossip(payload(now + 33166, []))).toThrow(new ClockSkewError(33166, 900));
    expect(() => a.onGossipBroadcast(peer(2), payload(now - 901, []))).toThrow(
      'host clock skew of -901s exceeds 900s limit',
    );
  });

  it('drops records of peers the mesh does not know', () => {
    const { a, clock } = pair((p) => p !== peer(9));
    const now = Math.floor(clock.now() / 1000);
    const rec = (origin: PeerName, hostname: string): Entry => ({
      hostname,
      origin,
      containerId: 'c',
      addr: 7,
      version: 0,
      tombstone: 0,
    });
    const relayed = a.onGossipBroadcast(
      peer(2),
      payload(now, [rec(peer(9), 'x.weave.local.'), rec(peer(2), 'y.weave.local.')]),
    );
    expect(a.entries().map((e) => e.hostname)).toEqual(['y.weave.local.']);
    expect(relayed?.entries.map((e) => e.hostname)).toEqual(['y.weave.local.']);
  });

  it('returns only what was new from periodic gossip', () => {
    const { a, b, clock } = pair();
    b.add('c1', '10.0.0.1', 'web.weave.local.');
    const full = b.gossip().encode()[0]!;
    expect(a.onGossip(full)?.entries).toHaveLength(1);
    expect(a.onGossip(full)).toBeUndefined();
    clock.advance(1000);
    expect(a.gossip().timestamp).toBe(Math.floor(clock.now() / 1000));
  });

  it('tombstones records claiming our origin that we do not have (we restarted) — #1867', () => {
    const { a, b, net } = pair();
    a.add('c1', '10.0.0.1', 'old.weave.local.');
    net.flush();
    // a restarts: a fresh instance with the same name and no records.
    const a2 = new Nameserver({ ourName: a.ourName, isKnownPeer: () => true, clock: new VirtualClock() });
    const net2 = new FakeGossipNetwork();
    a2.register(net2.gossiper(a2.ourName));
    b.register(net2.gossiper(b.ourName));
    const stale = b.gossip().encode()[0]!;
    a2.onGossip(stale);
    expect(a2.lookup('old.weave.local.')).toEqual([]);
    expect(a2.entries()[0]).toMatchObject({ hostname: 'old.weave.local.', version: 1 });
    net2.flush(); // a2 broadcasts the tombstone
    expect(b.lookup('old.weave.local.')).toEqual([]);
  });

  it('re-asserts our own record when gossip says otherwise, above their version — #2023', () => {
    const { a, b, net, clock } = pair();
    a.add('c1', '10.0.0.1', 'web.weave.local.');
    net.flush();
    const now = Math.floor(clock.now() / 1000);
    // A stale tombstone of our live record, at a higher version, arrives (e.g. from before a restart).
    const ours = a.entries()[0]!;
    const forged = { ...ours, version: 5, tombstone: now };
    const relayed = a.onGossipBroadcast(b.ourName, payload(now, [forged]));
    expect(a.lookup('web.weave.local.')).toEqual(['10.0.0.1']);
    expect(a.entries()[0]).toMatchObject({ version: 6, tombstone: 0 });
    expect(relayed?.entries[0]).toMatchObject({ version: 6, tombstone: 0 });
    net.flush();
    expect(b.entries()[0]).toMatchObject({ version: 6, tombstone: 0 });
    // Same version, different tombstone: also ours wins.
    const same = { ...a.entries()[0]!, tombstone: now };
    a.onGossip(payload(now, [same]));
    expect(a.entries()[0]).toMatchObject({ version: 7, tombstone: 0 });
  });
});
