import { WeaveError } from './errors.js';
import { type PeerName, UNKNOWN_PEER_NAME, comparePeerNames } from './peer-name.js';
import { type Random, randomUint64 } from './random.js';

/**
 * A peer as the topology knows it (mesh `Peer`): identity, a version that grows with every change its
 * owner makes, an optional 12-bit short ID (fastdp's VXLAN VNI), and the connections it last reported.
 *
 * Remote peers are filled from topology gossip; our own peer is a {@link LocalPeer} whose connections
 * are live. Routes and garbage collection walk peers through their connections by name, resolving names
 * in the {@link Peers} table.
 */

/** Bits in a short ID: at most 4096 distinct IDs, hence at most 4096 peers with fastdp. */
export const PEER_SHORT_ID_BITS = 12;
/** How many short IDs exist (`1 << PEER_SHORT_ID_BITS`). */
export const PEER_SHORT_ID_COUNT = 1 << PEER_SHORT_ID_BITS;

/** One connection as a peer reports it in topology gossip (mesh `connectionSummary`). */
export interface ConnectionSummary {
  /** The peer at the other end. */
  readonly remoteName: PeerName;
  /** The remote's TCP address as this end sees it (`ip:port`); the dialled address for outbound ones. */
  readonly remoteTcpAddr: string;
  /** Whether this end dialled. */
  readonly outbound: boolean;
  /** Whether the overlay on this connection is up (the connection shows as `established`). */
  readonly established: boolean;
}

/** The identity and version fields gossiped for a peer (mesh `peerSummary`, without the name bytes). */
export interface PeerSummary {
  /** The peer's name. */
  readonly name: PeerName;
  /** The peer's nickname. */
  readonly nickname: string;
  /** Random non-zero uint64 chosen at every start of the peer; 0 marks a placeholder. */
  readonly uid: bigint;
  /** Topology version: grows with every change of the peer's connections. */
  readonly version: number;
  /** The peer's 12-bit short id. */
  readonly shortId: number;
  /** Whether the peer has a short id (peers older than 1.x had none). */
  readonly hasShortId: boolean;
}

/** Thrown when code tries to replace our own connections from gossip; only live connections count. */
export class LocalConnectionsReadOnlyError extends WeaveError {
  /** The error's stable name: `'LocalConnectionsReadOnlyError'`. */
  override name = 'LocalConnectionsReadOnlyError';
  constructor() {
    super('the local peer connections come from live connections, not from gossip');
  }
}

/** A known peer. Its fields change only through {@link Peers} (gossip) or {@link LocalPeer} methods. */
export class Peer {
  /** The peer's name. */
  readonly name: PeerName;
  /** The peer's nickname (empty for a stand-in known only from others' connections). */
  nickname: string;
  /** The peer's 64-bit instance id (0 for a stand-in). */
  uid: bigint;
  /** Topology version: grows with every change of the peer's connections. */
  version: number;
  /** The peer's 12-bit short id. */
  shortId: number;
  /** Whether the peer has a short id. */
  hasShortId: boolean;
  protected conns = new Map<PeerName, ConnectionSummary>();

  constructor(summary: PeerSummary, connections: Iterable<ConnectionSummary> = []) {
    this.name = summary.name;
    this.nickname = summary.nickname;
    this.uid = summary.uid;
    this.version = summary.version;
    this.shortId = summary.shortId;
    this.hasShortId = summary.hasShortId;
    for (const c of connections) this.conns.set(c.remoteName, c);
  }

  /** A stand-in for a peer known only because someone reported a connection to it (UID 0, version 0). */
  static placeholder(name: PeerName): Peer {
    return new Peer({ name, nickname: '', uid: 0n, version: 0, shortId: 0, hasShortId: false });
  }

  /** The peer's connections by remote name, as last reported (live for the local peer). */
  get connections(): ReadonlyMap<PeerName, ConnectionSummary> {
    return this.conns;
  }

  /**
   * Replaces the reported connections; {@link Peers} calls this when gossip brings a newer version.
   * Always with a new map: {@link Peers} reuses encoded gossip while a peer keeps the same map.
   */
  replaceConnections(connections: Iterable<ConnectionSummary>): void {
    this.conns = new Map();
    for (const c of connections) this.conns.set(c.remoteName, c);
  }

  /** A copy of the gossiped fields. */
  summary(): PeerSummary {
    const { name, nickname, uid, version, shortId, hasShortId } = this;
    return { name, nickname, uid, version, shortId, hasShortId };
  }

  /** `name(nickname)`, as upstream logs and status print peers. */
  toString(): string {
    return `${this.name}(${this.nickname})`;
  }
}

/**
 * Whether a peer announcing itself (handshake features) is a new incarnation of the one we know: same
 * name, different UID. Upstream sends every channel's full state down such a connection.
 */
export function isRestartedPeer(known: Peer, announcedUid: bigint): boolean {
  return known.uid !== announcedUid;
}

/** A fresh peer UID: random, never 0 (0 is reserved for placeholders). */
export function randomPeerUid(random: Random): bigint {
  for (;;) {
    const uid = randomUint64(random);
    if (uid !== 0n) return uid;
  }
}

/** A random short ID in [0, 4096). */
export function randomShortId(random: Random): number {
  return random.int(PEER_SHORT_ID_COUNT);
}

/** Resolves a name to the peer the table holds for it. */
export type PeerLookup = (name: PeerName) => Peer | undefined;

/** Result of a breadth-first walk from one peer: next hop per reached peer, and whether `stopAt` was hit. */
export interface RouteWalk {
  /** Reached peer → first hop from the start towards it; the start maps to {@link UNKNOWN_PEER_NAME}. */
  readonly nextHops: Map<PeerName, PeerName>;
  /** True when the walk was cut short on reaching `stopAt`. */
  readonly stopped: boolean;
}

/**
 * Deterministic breadth-first widening from `start` (mesh `Peer.routes`): each layer is visited in
 * PeerName order, and every newly reached peer inherits the first hop of the peer it was reached from,
 * so all peers computing on the same topology agree. With `establishedAndSymmetric`, a connection counts
 * only if it is established and the remote reports an established connection back. With `stopAt`, the
 * walk stops when that peer's turn comes; `nextHops` then holds everything reached so far.
 */
export function walkRoutes(
  start: Peer,
  lookup: PeerLookup,
  establishedAndSymmetric: boolean,
  stopAt?: PeerName,
): RouteWalk {
  const nextHops = new Map<PeerName, PeerName>([[start.name, UNKNOWN_PEER_NAME]]);
  let layer: Peer[] = [start];
  while (layer.length > 0) {
    layer.sort((a, b) => comparePeerNames(a.name, b.name));
    const next: Peer[] = [];
    for (const current of layer) {
      if (current.name === stopAt) return { nextHops, stopped: true };
      const hop = current === start ? undefined : nextHops.get(current.name);
      forEachConnectedPeer(current, lookup, establishedAndSymmetric, nextHops, (remote) => {
        next.push(remote);
        nextHops.set(remote.name, hop ?? remote.name);
      });
    }
    layer = next;
  }
  return { nextHops, stopped: false };
}

/**
 * Calls `fn` for each peer `peer` connects to, skipping names in `exclude` (checked as `fn` runs, so a
 * peer is visited once) and, with `establishedAndSymmetric`, connections not established both ways.
 */
export function forEachConnectedPeer(
  peer: Peer,
  lookup: PeerLookup,
  establishedAndSymmetric: boolean,
  exclude: ReadonlyMap<PeerName, unknown>,
  fn: (remote: Peer) => void,
): void {
  for (const [remoteName, conn] of peer.connections) {
    if (establishedAndSymmetric && !conn.established) continue;
    if (exclude.has(remoteName)) continue;
    const remote = lookup(remoteName);
    if (!remote) continue;
    if (establishedAndSymmetric && remote.connections.get(peer.name)?.established !== true) continue;
    fn(remote);
  }
}
