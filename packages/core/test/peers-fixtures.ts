// Shared fixtures for the topology suites (peers*, routes*, topology-wire*): mock live connections,
// a seeded Random, and builders for whole topologies seen from one peer.
import { type PeerName, type Random, peerNameFromNumber } from '@weave-ts/core';
import { type LocalConnection, LocalPeer, Peer, Peers, type TopologyEntry } from '@weave-ts/core/protocol';

/** The peer name for a small number (`n(3)` = `00:00:00:00:00:03`). */
export const n = (value: number): PeerName => peerNameFromNumber(value);

/** A deterministic Random (mulberry32). */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const float = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    float,
    int: (k) => Math.floor(float() * k),
    bytes: (k) => Uint8Array.from({ length: k }, () => Math.floor(float() * 256)),
  };
}

/** A live connection the tests drive by hand. */
export class MockConnection implements LocalConnection {
  established = false;
  constructor(
    readonly remote: Peer,
    readonly remoteTcpAddr = '10.0.0.1:6783',
    readonly outbound = true,
  ) {}
}

/** A router's topology state: our peer and its table. */
export interface Node {
  readonly local: LocalPeer;
  readonly peers: Peers;
}

/** A fresh node named `name`, with a fixed short ID when given (else random from `random`). */
export function makeNode(
  name: PeerName,
  opts: { shortId?: number; random?: Random; nickname?: string } = {},
): Node {
  const random = opts.random ?? seededRandom(Number.parseInt(name.replaceAll(':', ''), 16) + 1);
  const local = LocalPeer.create(name, opts.nickname ?? `nick-${name.slice(-2)}`, random);
  if (opts.shortId !== undefined) local.shortId = opts.shortId;
  return { local, peers: new Peers(local, random) };
}

/**
 * Adds a live connection from `node` to (the table's copy of) `remote`, as the connection layer would:
 * take a reference, add, and mark it established unless told otherwise.
 */
export function connect(node: Node, remote: Peer, opts: { established?: boolean } = {}): MockConnection {
  // As from a handshake: identity and short ID are known, the version only comes with gossip.
  const ref = node.peers.fetchWithDefault(new Peer({ ...remote.summary(), version: 0 }));
  const conn = new MockConnection(ref);
  node.local.addConnection(conn);
  if (opts.established ?? true) {
    conn.established = true;
    node.local.connectionEstablished(conn);
  }
  return conn;
}

/** Removes `node`'s live connection to `name` and releases its reference, as the connection layer would. */
export function disconnect(node: Node, name: PeerName): void {
  const conn = node.local.connectionTo(name);
  if (!conn) throw new Error(`no connection to ${name}`);
  node.local.deleteConnection(conn);
  node.peers.dereference(conn.remote);
}

/**
 * Random link churn among `nodes` (mesh's TestPeersEncoding): `steps` times picks two nodes with
 * `random`; links the first to the second, or, if it already did, unlinks them and collects garbage.
 * `check` then sees the node whose table changed.
 */
export function churnLinks(
  nodes: readonly Node[],
  random: Random,
  steps: number,
  check: (changed: Node) => void,
): void {
  const linked = new Set<string>();
  for (let step = 0; step < steps; step++) {
    const a = random.int(nodes.length);
    const b = random.int(nodes.length);
    if (a === b) continue;
    const key = `${a}-${b}`;
    if (linked.has(key)) {
      disconnect(nodes[a]!, n(b + 1));
      linked.delete(key);
      nodes[a]!.peers.garbageCollect();
    } else {
      connect(nodes[a]!, nodes[b]!.local);
      linked.add(key);
    }
    check(nodes[a]!);
  }
}

/** What `peers` would gossip for `names` (default: all), without going through the wire. */
export function entriesOf(peers: Peers, names: Iterable<PeerName> = peers.names()): TopologyEntry[] {
  const out: TopologyEntry[] = [];
  for (const name of names) {
    const p = peers.fetch(name);
    if (p)
      out.push({ peer: p.summary(), connections: [...p.connections.values()].map((c) => ({ ...pick(c) })) });
  }
  return out;
}

function pick(c: { remoteName: PeerName; remoteTcpAddr: string; outbound: boolean; established: boolean }) {
  return {
    remoteName: c.remoteName,
    remoteTcpAddr: c.remoteTcpAddr,
    outbound: c.outbound,
    established: c.established,
  };
}

/** A reported connection `from` → `to`; not established when `established` is false. */
export interface Link {
  readonly from: number;
  readonly to: number;
  readonly established?: boolean;
}

/** Both directions of an established connection between `a` and `b`. */
export const both = (a: number, b: number): Link[] => [
  { from: a, to: b },
  { from: b, to: a },
];

/**
 * The topology `links` as peer `viewpoint` would hold it once gossip has settled: live connections for
 * its own links, gossiped reports for everyone else's.
 */
export function viewFrom(viewpoint: number, links: readonly Link[], everyone: readonly number[] = []): Node {
  const node = makeNode(n(viewpoint), { shortId: viewpoint });
  const reports = new Map<number, Link[]>();
  for (const id of everyone) reports.set(id, []);
  for (const l of links) {
    reports.set(l.from, [...(reports.get(l.from) ?? []), l]);
    if (!reports.has(l.to)) reports.set(l.to, []);
  }
  const entries: TopologyEntry[] = [];
  for (const [id, ls] of reports) {
    if (id === viewpoint) continue;
    entries.push({
      peer: {
        name: n(id),
        nickname: `p${id}`,
        uid: BigInt(id + 1),
        version: 1,
        shortId: id,
        hasShortId: true,
      },
      connections: ls.map((l) => ({
        remoteName: n(l.to),
        remoteTcpAddr: `10.0.0.${l.to}:6783`,
        outbound: true,
        established: l.established ?? true,
      })),
    });
  }
  node.peers.applyEntries(entries);
  for (const l of reports.get(viewpoint) ?? []) {
    const remote = node.peers.fetchAndAddRef(n(l.to))!;
    const conn = new MockConnection(remote, `10.0.0.${l.to}:6783`);
    node.local.addConnection(conn);
    if (l.established ?? true) {
      conn.established = true;
      node.local.connectionEstablished(conn);
    }
  }
  return node;
}
