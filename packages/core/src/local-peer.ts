import {
  type ConnectionSummary,
  LocalConnectionsReadOnlyError,
  Peer,
  type PeerSummary,
  randomPeerUid,
  randomShortId,
} from './peer.js';
import type { PeerName } from './peer-name.js';
import type { Random } from './random.js';

/**
 * What the topology needs from one of our live connections (the connection layer implements it). Its
 * fields are read live: `established` flipping to true must be followed by
 * {@link LocalPeer.connectionEstablished} so the version moves and peers hear about it.
 */
export interface LocalConnection {
  /** The peer at the other end, as held in the {@link Peers} table. */
  readonly remote: Peer;
  /** The remote's address: the dialled target for outbound connections, the socket peer for inbound. */
  readonly remoteTcpAddr: string;
  /** Whether we dialled. */
  readonly outbound: boolean;
  /** Whether the overlay on this connection is up. */
  readonly established: boolean;
}

/** A live connection seen through the topology's {@link ConnectionSummary} shape. */
class LiveConnectionView implements ConnectionSummary {
  constructor(readonly connection: LocalConnection) {}
  get remoteName(): PeerName {
    return this.connection.remote.name;
  }
  get remoteTcpAddr(): string {
    return this.connection.remoteTcpAddr;
  }
  get outbound(): boolean {
    return this.connection.outbound;
  }
  get established(): boolean {
    return this.connection.established;
  }
}

/**
 * Ourselves in the topology (mesh `localPeer`): a {@link Peer} whose connections are the live ones.
 * Every change to them bumps our version, so gossip about us supersedes older gossip. Duplicate
 * detection and tie-breaks belong to the connection layer; here a newer connection to the same remote
 * simply replaces the older entry.
 */
export class LocalPeer extends Peer {
  /** Ourselves with the given identity and no connections (use {@link LocalPeer.create} at start-up). */
  constructor(summary: PeerSummary) {
    super(summary);
  }

  /** Our identity at process start: a fresh random UID and short ID, version 0. */
  static create(name: PeerName, nickname: string, random: Random): LocalPeer {
    return new LocalPeer({
      name,
      nickname,
      uid: randomPeerUid(random),
      version: 0,
      shortId: randomShortId(random),
      hasShortId: true,
    });
  }

  /** The live connection to `name`, if any. */
  connectionTo(name: PeerName): LocalConnection | undefined {
    return this.view(name)?.connection;
  }

  /** Every live connection. */
  liveConnections(): LocalConnection[] {
    return [...this.conns.values()].map((c) => (c as LiveConnectionView).connection);
  }

  /** How many live connections we have (for the connection limit). */
  get connectionCount(): number {
    return this.conns.size;
  }

  /** Records `conn` as our connection to its remote, replacing any entry for that remote; bumps the version. */
  addConnection(conn: LocalConnection): void {
    this.conns.set(conn.remote.name, new LiveConnectionView(conn));
    this.version++;
  }

  /** Forgets `conn` if it is the recorded connection to its remote (bumping the version); else a no-op. */
  deleteConnection(conn: LocalConnection): boolean {
    if (this.view(conn.remote.name)?.connection !== conn) return false;
    this.conns.delete(conn.remote.name);
    this.version++;
    return true;
  }

  /**
   * Notes that `conn`'s overlay came up (bumping the version). Returns false, changing nothing, when
   * `conn` is not the recorded connection; upstream then shuts it down (`Cannot set unknown connection active`).
   */
  connectionEstablished(conn: LocalConnection): boolean {
    if (this.view(conn.remote.name)?.connection !== conn) return false;
    this.version++;
    return true;
  }

  /**
   * Takes a new short ID and bumps the version. {@link Peers} calls this while keeping its short-ID
   * index right; call `Peers.reassignLocalShortId` / `Peers.setLocalShortId` instead of this directly.
   */
  setShortId(shortId: number): void {
    this.shortId = shortId;
    this.version++;
  }

  /**
   * Gossip showed an older incarnation of us at `version`: move past it so our own gossip wins.
   * Returns whether our version changed (then we must re-gossip ourselves).
   */
  setVersionBeyond(version: number): boolean {
    if (version < this.version) return false;
    this.version = version + 1;
    return true;
  }

  override replaceConnections(): never {
    throw new LocalConnectionsReadOnlyError();
  }

  private view(name: PeerName): LiveConnectionView | undefined {
    return this.conns.get(name) as LiveConnectionView | undefined;
  }
}
