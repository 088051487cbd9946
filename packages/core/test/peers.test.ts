import { describe, expect, it } from 'vitest';
import {
  LocalConnectionsReadOnlyError,
  LocalPeer,
  Peer,
  type PeerSummary,
  type TopologyEntry,
  isRestartedPeer,
} from '@weave-ts/core/protocol';
import {
  MockConnection,
  churnLinks,
  connect,
  disconnect,
  entriesOf,
  makeNode,
  n,
  seededRandom,
} from './peers-fixtures.js';

const summary = (over: Partial<PeerSummary> & { name: PeerSummary['name'] }): PeerSummary => ({
  nickname: 'x',
  uid: 100n,
  version: 5,
  shortId: 7,
  hasShortId: true,
  ...over,
});

const entry = (
  over: Partial<PeerSummary> & { name: PeerSummary['name'] },
  to: number[] = [],
): TopologyEntry => ({
  peer: summary(over),
  connections: to.map((t) => ({
    remoteName: n(t),
    remoteTcpAddr: `10.0.0.${t}:6783`,
    outbound: true,
    established: true,
  })),
});

describe('LocalPeer', () => {
  it('starts at version 0 with a non-zero UID and a 12-bit short ID', () => {
    const p = LocalPeer.create(n(1), 'host1', seededRandom(1));
    expect(p.version).toBe(0);
    expect(p.uid).not.toBe(0n);
    expect(p.hasShortId).toBe(true);
    expect(p.shortId).toBeGreaterThanOrEqual(0);
    expect(p.shortId).toBeLessThan(4096);
    expect(p.toString()).toBe('00:00:00:00:00:01(host1)');
  });

  it('bumps its version on add, established, delete and short-ID change', () => {
    const p = LocalPeer.create(n(1), 'a', seededRandom(1));
    const remote = Peer.placeholder(n(2));
    const conn = new MockConnection(remote, '10.0.0.2:6783', false);
    p.addConnection(conn);
    expect(p.version).toBe(1);
    expect(p.connectionTo(n(2))).toBe(conn);
    expect(p.connections.get(n(2))).toMatchObject({
      remoteName: n(2),
      remoteTcpAddr: '10.0.0.2:6783',
      outbound: false,
      established: false,
    });
    conn.established = true;
    expect(p.connectionEstablished(conn)).toBe(true);
    expect(p.version).toBe(2);
    expect(p.connections.get(n(2))?.established).toBe(true);
    p.setShortId(9);
    expect([p.shortId, p.version]).toEqual([9, 3]);
    expect(p.deleteConnection(conn)).toBe(true);
    expect(p.version).toBe(4);
    expect(p.connectionCount).toBe(0);
  });

  it('ignores connections that are not the recorded one', () => {
    const p = LocalPeer.create(n(1), 'a', seededRandom(1));
    const remote = Peer.placeholder(n(2));
    const kept = new MockConnection(remote);
    const stranger = new MockConnection(remote);
    p.addConnection(kept);
    expect(p.connectionEstablished(stranger)).toBe(false);
    expect(p.deleteConnection(stranger)).toBe(false);
    expect(p.version).toBe(1);
    expect(p.liveConnections()).toEqual([kept]);
  });

  it('moves its version past an old incarnation only when needed', () => {
    const p = LocalPeer.create(n(1), 'a', seededRandom(1));
    p.version = 4;
    expect(p.setVersionBeyond(2)).toBe(false);
    expect(p.version).toBe(4);
    expect(p.setVersionBeyond(4)).toBe(true);
    expect(p.version).toBe(5);
    expect(p.setVersionBeyond(10)).toBe(true);
    expect(p.version).toBe(11);
  });

  it('refuses to take its connections from gossip', () => {
    const p = LocalPeer.create(n(1), 'a', seededRandom(1));
    expect(() => p.replaceConnections()).toThrow(LocalConnectionsReadOnlyError);
  });

  it('detects a restarted peer by its UID', () => {
    const known = new Peer(summary({ name: n(2), uid: 5n }));
    expect(isRestartedPeer(known, 5n)).toBe(false);
    expect(isRestartedPeer(known, 6n)).toBe(true);
  });
});

describe('Peers: merging topology updates', () => {
  it('adds unknown peers and placeholders for peers seen only in connections', () => {
    const { peers } = makeNode(n(1));
    const result = peers.applyEntries([entry({ name: n(2) }, [1, 3])]);
    expect([...result.received]).toEqual([n(2)]);
    expect([...result.improved]).toEqual([n(2)]);
    const p2 = peers.fetch(n(2))!;
    expect(p2.summary()).toEqual(summary({ name: n(2) }));
    expect([...p2.connections.keys()]).toEqual([n(1), n(3)]);
    const p3 = peers.fetch(n(3))!;
    expect(p3.summary()).toEqual({
      name: n(3),
      nickname: '',
      uid: 0n,
      version: 0,
      shortId: 0,
      hasShortId: false,
    });
    expect(peers.size).toBe(3);
  });

  it('fills a placeholder when the real peer is gossiped', () => {
    const { peers } = makeNode(n(1));
    peers.applyEntries([entry({ name: n(2) }, [3])]);
    const placeholder = peers.fetch(n(3))!;
    const { improved } = peers.applyEntries([entry({ name: n(3), version: 1, uid: 9n, nickname: 'three' })]);
    expect([...improved]).toEqual([n(3)]);
    expect(peers.fetch(n(3))).toBe(placeholder);
    expect(placeholder.summary()).toMatchObject({ nickname: 'three', uid: 9n, version: 1 });
  });

  it.each([
    ['higher version wins', { version: 6, uid: 1n }, true],
    ['lower version loses', { version: 4, uid: 999n }, false],
    ['equal version, higher UID wins', { uid: 101n }, true],
    ['equal version, lower UID loses', { uid: 99n }, false],
    ['equal version and UID: nothing new', { nickname: 'changed' }, false],
  ] as const)('%s', (_label, over, accepted) => {
    const { peers } = makeNode(n(1));
    peers.applyEntries([entry({ name: n(2) }, [1])]);
    const { received, improved } = peers.applyEntries([entry({ name: n(2), ...over }, [])]);
    expect([...received]).toEqual([n(2)]);
    expect(improved.has(n(2))).toBe(accepted);
    const p2 = peers.fetch(n(2))!;
    expect(p2.connections.size).toBe(accepted ? 0 : 1);
    expect(p2.summary()).toEqual(accepted ? summary({ name: n(2), ...over }) : summary({ name: n(2) }));
  });

  it('with equal version and UID, prefers the report that has a short ID', () => {
    const { peers } = makeNode(n(1));
    peers.applyEntries([entry({ name: n(2), hasShortId: false, shortId: 0 })]);
    expect(peers.fetchByShortId(7)).toBeUndefined();
    const { improved } = peers.applyEntries([entry({ name: n(2), shortId: 7 })]);
    expect(improved.has(n(2))).toBe(true);
    expect(peers.fetch(n(2))?.hasShortId).toBe(true);
    expect(peers.fetchByShortId(7)?.name).toBe(n(2));
    // ...but never the other way round
    expect(peers.applyEntries([entry({ name: n(2), hasShortId: false, shortId: 0 })]).improved.size).toBe(0);
  });

  it('re-indexes a peer whose short ID changed', () => {
    const { peers } = makeNode(n(1), { shortId: 1 });
    peers.applyEntries([entry({ name: n(2), shortId: 40 })]);
    peers.applyEntries([entry({ name: n(2), shortId: 41, version: 6 })]);
    expect(peers.fetchByShortId(40)).toBeUndefined();
    expect(peers.fetchByShortId(41)?.name).toBe(n(2));
  });

  it('moves our version past gossip about an old incarnation of us, and asks to re-gossip', () => {
    const { local, peers } = makeNode(n(1));
    let modified = 0;
    peers.on('localPeerModified', () => modified++);
    const before = local.uid;
    const { improved, received } = peers.applyEntries([entry({ name: n(1), uid: before + 1n, version: 17 })]);
    expect(local.version).toBe(18);
    expect(local.uid).toBe(before);
    expect(modified).toBe(1);
    expect(improved.size).toBe(0);
    expect([...received]).toEqual([n(1)]);
    // our own gossip echoed back changes nothing
    peers.applyEntries([entry({ name: n(1), uid: before, version: 99 })]);
    expect(local.version).toBe(18);
    expect(modified).toBe(1);
  });

  it('copies a whole topology through gossip (mesh TestPeersEncoding, without the wire)', () => {
    const random = seededRandom(7);
    const nodes = Array.from({ length: 8 }, (_, i) => makeNode(n(i + 1), { random }));
    churnLinks(nodes, random, 120, (changed) => {
      // a new node outside the network, with one connection into it, learns the changed node's whole table
      const testbed = makeNode(n(0x99));
      connect(testbed, changed.local);
      testbed.peers.applyEntries(entriesOf(changed.peers));
      for (const p of changed.peers) {
        const copy = testbed.peers.fetch(p.name)!;
        expect(copy.summary()).toEqual(p.summary());
        expect([...copy.connections.keys()].sort()).toEqual([...p.connections.keys()].sort());
      }
    });
  });
});

describe('Peers: references and garbage collection', () => {
  it('keeps peers reachable through someone, drops the unreachable (mesh TestPeersGarbageCollection)', () => {
    const [a, b, c] = [makeNode(n(1)), makeNode(n(2)), makeNode(n(3))];
    connect(a, b.local);
    connect(b, a.local);
    connect(b, c.local);
    connect(c, a.local);
    connect(a, c.local);
    // b hears about a's and c's connections
    b.peers.applyEntries(entriesOf(a.peers, [n(1)]));
    b.peers.applyEntries(entriesOf(c.peers, [n(3)]));
    // a hears about b (and through b's report, c stays reachable even without a's own link)
    a.peers.applyEntries(entriesOf(b.peers, [n(2)]));

    for (const node of [a, b, c]) expect(node.peers.garbageCollect()).toEqual([]);

    disconnect(b, n(3));
    expect(b.peers.garbageCollect()).toEqual([]); // a still reports a connection to c

    const removed: string[] = [];
    a.peers.on('peersGarbageCollected', (ps) => removed.push(...ps.map((p) => p.name)));
    disconnect(a, n(3));
    // b's report (as a last heard it) still lists c, so tell a the news first
    a.peers.applyEntries(entriesOf(b.peers, [n(2)]));
    expect(a.peers.garbageCollect().map((p) => p.name)).toEqual([n(3)]);
    expect(removed).toEqual([n(3)]);
    expect(a.peers.fetch(n(3))).toBeUndefined();
  });

  it('never collects a peer a live connection still references, nor ourselves', () => {
    const { local, peers } = makeNode(n(1));
    const stranger = peers.fetchWithDefault(new Peer(summary({ name: n(5) })));
    expect(peers.localRefCount(stranger)).toBe(1);
    expect(peers.garbageCollect()).toEqual([]);
    expect(peers.fetchWithDefault(new Peer(summary({ name: n(5), uid: 1n })))).toBe(stranger);
    expect(peers.fetchAndAddRef(n(5))).toBe(stranger);
    expect(peers.localRefCount(stranger)).toBe(3);
    for (let i = 0; i < 3; i++) peers.dereference(stranger);
    expect(peers.garbageCollect()).toEqual([stranger]);
    expect(peers.fetch(local.name)).toBe(local);
    expect(peers.fetchAndAddRef(n(5))).toBeUndefined();
  });

  it('collects peers that only gossip mentions once nothing reaches them', () => {
    const { peers } = makeNode(n(1));
    peers.applyEntries([entry({ name: n(2) }, [3]), entry({ name: n(3) }, [2])]);
    expect(
      peers
        .garbageCollect()
        .map((p) => p.name)
        .sort(),
    ).toEqual([n(2), n(3)]);
    expect(peers.names()).toEqual(new Set([n(1)]));
  });
});
