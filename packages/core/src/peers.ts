import { EventEmitter } from 'eventemitter3';
import type { LocalPeer } from './local-peer.js';
import { type ConnectionSummary, Peer, type PeerSummary, walkRoutes } from './peer.js';
import type { PeerName } from './peer-name.js';
import type { Random } from './random.js';
import { ShortIdIndex, type ShortIdEffects, noShortIdEffects } from './short-id.js';
import {
  type EncodedTopologyEntry,
  type TopologyEntry,
  decodeTopology,
  encodeTopologyEntries,
  encodeTopologyEntry,
} from './topology-wire.js';

/**
 * The table of every peer we know, ourselves included (mesh `Peers`).
 *
 * ```
 * topology gossip ──applyUpdate──▶ add unknown peers (placeholders for names only seen in connections)
 *                                  replace known peers whose gossip is newer
 *                                  returns {received, improved} for the router to relay
 * live connections ──fetchWithDefault / dereference──▶ local reference counts
 * garbageCollect() ──▶ drop peers unreachable from us that no live connection references
 * ```
 *
 * Upstream runs the collection 1 s ({@link GC_DELAY_MS}) after topology updates and right after a
 * connection is deleted; scheduling it is the router's job. Short-ID collisions are resolved here: the
 * lowest name keeps the ID, and if that is not us we pick a free one and emit `localPeerModified`.
 */

/** Delay upstream waits after a topology update before collecting garbage (mesh `gcInterval`). */
export const GC_DELAY_MS = 1000;

/** Events of a {@link Peers} table. */
export interface PeersEvents {
  /** Peers were removed by {@link Peers.garbageCollect} (DNS, IPAM and MAC caches forget them). */
  peersGarbageCollected: [removed: Peer[]];
  /** Some short ID now maps to a different peer: drop anything cached by short ID (fastdp flows). */
  shortIdsInvalidated: [];
  /**
   * Our own summary changed outside connection events (version raised past an old incarnation, or a new
   * short ID after a collision): gossip our peer again.
   */
  localPeerModified: [];
}

/** What an applied topology update contained and changed. */
export interface TopologyUpdateResult {
  /** Every peer the update carried (what `onGossipBroadcast` relays onwards). */
  readonly received: ReadonlySet<PeerName>;
  /** The peers this update added or made newer (what `onGossip` relays; empty = nothing new). */
  readonly improved: ReadonlySet<PeerName>;
}

interface CachedEntry extends PeerSummary {
  readonly connections: ReadonlyMap<PeerName, ConnectionSummary>;
  readonly entry: EncodedTopologyEntry;
}

interface Pending extends ShortIdEffects {
  removed: Peer[];
  localModified: boolean;
}

/** The peer table of one router. */
export class Peers extends EventEmitter<PeersEvents> {
  private readonly byName = new Map<PeerName, Peer>();
  private readonly refs = new Map<Peer, number>();
  private readonly shortIds: ShortIdIndex;
  /**
   * Frozen connection lists (decodeTopology freezes its lists and repeats them for repeated entries)
   * whose every remote was in the table when last merged, with the {@link removals} count then: while
   * no peer has been removed since, such a list needs no scan for unknown names.
   */
  private readonly knownRemotes = new WeakMap<readonly ConnectionSummary[], number>();
  /** How many times peers were removed from the table (by {@link garbageCollect}). */
  private removals = 0;
  /** Encoded gossip of remote peers, with what it was encoded from (see {@link encodedEntry}). */
  private readonly encoded = new WeakMap<Peer, CachedEntry>();

  /**
   * @param ourself our own peer; it is entered with one reference, so it is never collected.
   * @param random used to choose a new short ID after a collision.
   */
  constructor(
    readonly ourself: LocalPeer,
    private readonly random: Random,
  ) {
    super();
    this.shortIds = new ShortIdIndex(ourself);
    this.fetchWithDefault(ourself);
  }

  /** Number of known peers, ourselves included. */
  get size(): number {
    return this.byName.size;
  }

  /** The peer named `name`, if known (no reference taken). */
  fetch(name: PeerName): Peer | undefined {
    return this.byName.get(name);
  }

  /** The peer owning `shortId` (the lowest-named claimant), if any. */
  fetchByShortId(shortId: number): Peer | undefined {
    return this.shortIds.get(shortId);
  }

  /**
   * The known peer with `peer`'s name, or `peer` itself after adding it; either way one local reference
   * is taken (a live connection holds it until {@link dereference}).
   */
  fetchWithDefault(peer: Peer): Peer {
    const existing = this.byName.get(peer.name);
    if (existing) {
      this.addRef(existing);
      return existing;
    }
    const pending = this.newPending();
    this.byName.set(peer.name, peer);
    this.shortIds.add(peer, pending);
    this.addRef(peer);
    this.notify(pending);
    return peer;
  }

  /** The known peer named `name` with one more local reference, or `undefined` (nothing taken). */
  fetchAndAddRef(name: PeerName): Peer | undefined {
    const peer = this.byName.get(name);
    if (peer) this.addRef(peer);
    return peer;
  }

  /** Releases one local reference taken by {@link fetchWithDefault} or {@link fetchAndAddRef}. */
  dereference(peer: Peer): void {
    const n = (this.refs.get(peer) ?? 0) - 1;
    if (n > 0) this.refs.set(peer, n);
    else this.refs.delete(peer);
  }

  /** Local references held on `peer` (0 for unknown peers). */
  localRefCount(peer: Peer): number {
    return this.refs.get(peer) ?? 0;
  }

  /** Every known peer, in insertion order. */
  all(): Peer[] {
    return [...this.byName.values()];
  }

  /** Every known peer's name. */
  names(): Set<PeerName> {
    return new Set(this.byName.keys());
  }

  /** Every known peer, ourselves included, in no particular order. */
  [Symbol.iterator](): IterableIterator<Peer> {
    return this.byName.values();
  }

  /** The topology payload describing the named peers (unknown names are skipped). */
  encodePeers(names: Iterable<PeerName>): Uint8Array {
    const entries: EncodedTopologyEntry[] = [];
    for (const name of names) {
      const peer = this.byName.get(name);
      if (peer) entries.push(this.encodedEntry(peer));
    }
    return encodeTopologyEntries(entries);
  }

  /**
   * `peer`'s encoded entry. A remote peer's is kept and reused while every gossiped field is the same
   * and it holds the same connection map (gossip replaces a peer's connections with a new map, never
   * edits one in place). Ours is encoded afresh: our connections are live and change in place.
   */
  private encodedEntry(peer: Peer): EncodedTopologyEntry {
    if (peer === this.ourself) return encodeTopologyEntry(peer.summary(), peer.connections.values());
    const c = this.encoded.get(peer);
    if (
      c !== undefined &&
      c.connections === peer.connections &&
      c.version === peer.version &&
      c.uid === peer.uid &&
      c.nickname === peer.nickname &&
      c.shortId === peer.shortId &&
      c.hasShortId === peer.hasShortId
    ) {
      return c.entry;
    }
    const entry = encodeTopologyEntry(peer.summary(), peer.connections.values());
    this.encoded.set(peer, { ...peer.summary(), connections: peer.connections, entry });
    return entry;
  }

  /** The topology payload describing every known peer (our full topology gossip). */
  encodeAll(): Uint8Array {
    return this.encodePeers(this.byName.keys());
  }

  /**
   * Merges a received topology payload. A peer's entry replaces what we hold when its version is
   * higher, or equal with a higher UID, or equal in both and it has a short ID where ours had none.
   * Gossip about another incarnation of ourselves (same name, other UID) raises our version past it
   * and emits `localPeerModified`. Nothing is collected here; schedule {@link garbageCollect}.
   * @throws TopologyDecodeError when the payload is malformed; the table is then unchanged.
   */
  applyUpdate(payload: Uint8Array): TopologyUpdateResult {
    return this.applyEntries(decodeTopology(payload));
  }

  /** {@link applyUpdate} for an already decoded payload. */
  applyEntries(entries: readonly TopologyEntry[]): TopologyUpdateResult {
    const pending = this.newPending();
    // For names new to us, a Peer made from the last entry naming it is the one added, as upstream
    // does; the merge below then treats that entry as the fresh peer. Other entries only compare.
    const added = new Map<PeerName, Peer>();
    const addedFrom = new Map<PeerName, number>();
    for (let i = 0; i < entries.length; i++) {
      const name = entries[i]!.peer.name;
      if (!this.byName.has(name)) addedFrom.set(name, i);
    }
    for (const [name, i] of addedFrom) added.set(name, new Peer(entries[i]!.peer));
    for (const { connections } of entries) {
      if (Object.isFrozen(connections) && this.knownRemotes.get(connections) === this.removals) continue;
      for (const c of connections) {
        if (!this.byName.has(c.remoteName) && !added.has(c.remoteName)) {
          added.set(c.remoteName, Peer.placeholder(c.remoteName));
        }
      }
    }
    for (const peer of added.values()) {
      this.byName.set(peer.name, peer);
      this.shortIds.add(peer, pending);
    }
    for (const { connections } of entries) {
      if (Object.isFrozen(connections)) this.knownRemotes.set(connections, this.removals);
    }

    const improved = new Set<PeerName>();
    const received = new Set<PeerName>();
    for (let i = 0; i < entries.length; i++) {
      const { peer: candidate, connections } = entries[i]!;
      received.add(candidate.name);
      const known = this.byName.get(candidate.name)!;
      if (known === this.ourself) {
        if (candidate.uid !== known.uid && this.ourself.setVersionBeyond(candidate.version)) {
          pending.localModified = true;
        }
      } else if (addedFrom.get(candidate.name) === i) {
        known.replaceConnections(connections);
        improved.add(known.name);
      } else if (supersedes(candidate, known)) {
        known.version = candidate.version;
        known.uid = candidate.uid;
        known.nickname = candidate.nickname;
        known.replaceConnections(connections);
        if (candidate.shortId !== known.shortId || candidate.hasShortId !== known.hasShortId) {
          this.shortIds.delete(known, pending);
          known.shortId = candidate.shortId;
          known.hasShortId = candidate.hasShortId;
          this.shortIds.add(known, pending);
        }
        improved.add(known.name);
      }
    }
    this.notify(pending);
    return { received, improved };
  }

  /**
   * Removes every peer that cannot be reached from us over any reported connection and holds no local
   * reference; emits `peersGarbageCollected` with them (and returns them). If we were left without our
   * own short ID, freed IDs are tried again.
   */
  garbageCollect(): Peer[] {
    return this.remove(this.unreachable());
  }

  /** {@link garbageCollect} of just `peers` (found by {@link unreachable}). */
  remove(peers: readonly Peer[]): Peer[] {
    const pending = this.newPending();
    for (const peer of peers) {
      if (this.byName.get(peer.name) !== peer) continue;
      this.byName.delete(peer.name);
      this.removals++;
      this.shortIds.delete(peer, pending);
      pending.removed.push(peer);
    }
    if (pending.removed.length > 0 && this.shortIds.get(this.ourself.shortId) !== this.ourself) {
      pending.reassignLocal = true;
    }
    this.notify(pending);
    return pending.removed;
  }

  /** The peers {@link garbageCollect} would remove now. */
  unreachable(): Peer[] {
    const { nextHops: reached } = walkRoutes(this.ourself, (n) => this.byName.get(n), false);
    return [...this.byName.values()].filter((p) => !reached.has(p.name) && this.localRefCount(p) === 0);
  }

  /**
   * Gives ourselves a new free short ID if one exists (bumping our version and emitting
   * `localPeerModified`); false, changing nothing, when all are taken.
   */
  reassignLocalShortId(): boolean {
    const pending = this.newPending();
    pending.reassignLocal = true;
    return this.notify(pending);
  }

  /** Sets our short ID to `shortId` (bumping our version), keeping the index and collisions right. */
  setLocalShortId(shortId: number): void {
    const pending = this.newPending();
    this.moveLocalShortId(shortId, pending);
    pending.localModified = true;
    this.notify(pending);
  }

  private moveLocalShortId(shortId: number, pending: Pending): void {
    this.shortIds.delete(this.ourself, pending);
    this.ourself.setShortId(shortId);
    this.shortIds.add(this.ourself, pending);
  }

  private addRef(peer: Peer): void {
    this.refs.set(peer, (this.refs.get(peer) ?? 0) + 1);
  }

  private newPending(): Pending {
    const pending = noShortIdEffects() as Pending;
    pending.removed = [];
    pending.localModified = false;
    return pending;
  }

  /** Settles a local short-ID reassignment, then emits events; returns whether a reassignment happened. */
  private notify(pending: Pending): boolean {
    let reassigned = false;
    if (pending.reassignLocal) {
      const id = this.shortIds.chooseFree(this.random);
      if (id !== undefined) {
        this.moveLocalShortId(id, pending);
        pending.localModified = true;
        reassigned = true;
      }
    }
    if (pending.removed.length > 0) this.emit('peersGarbageCollected', pending.removed);
    if (pending.invalidated) this.emit('shortIdsInvalidated');
    if (pending.localModified) this.emit('localPeerModified');
    return reassigned;
  }
}

/** Upstream's precedence between two reports about one peer. */
function supersedes(candidate: PeerSummary, known: Peer): boolean {
  if (candidate.version !== known.version) return candidate.version > known.version;
  if (candidate.uid !== known.uid) return candidate.uid > known.uid;
  return candidate.hasShortId && !known.hasShortId;
}
