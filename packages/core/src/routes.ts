import { EventEmitter } from 'eventemitter3';
import { type PeerLookup, forEachConnectedPeer, walkRoutes } from './peer.js';
import { type PeerName, UNKNOWN_PEER_NAME } from './peer-name.js';
import type { Peers } from './peers.js';
import type { Random } from './random.js';

/**
 * Routing tables computed from the topology (mesh `routes`).
 *
 * ```
 * unicast[X]      first hop from us to X, over established connections both ends report
 * unicastAll[X]   the same over any reported connection (gossip uses these)
 * broadcast[O]    who we pass on a broadcast that O originated: walk O's breadth-first tree until it
 *                 reaches us, then our neighbours that walk had not reached yet
 * ```
 *
 * All peers run the same deterministic walk on the same gossip, so unicast paths are loop-free and a
 * broadcast reaches every peer once while the topology is stable. Tables change only in
 * {@link Routes.recalculate}, which upstream defers by {@link ROUTES_RECALC_DELAY_MS} to coalesce bursts;
 * the caller schedules it and marks the tables stale with {@link Routes.invalidate} meanwhile. Gossip
 * relays call {@link Routes.ensureRecalculated} first, as upstream does: a relay decided on stale
 * tables can miss a neighbour that just joined, and the news then waits for periodic gossip (30 s a
 * hop in a sparse mesh). Broadcast entries for other origins are computed on first use and cached
 * until the next recalculation.
 */

/** How long upstream coalesces recalculation requests (mesh `recalcDeferTime`). */
export const ROUTES_RECALC_DELAY_MS = 100;

/** Events of a {@link Routes}. */
export interface RoutesEvents {
  /** A recalculation changed some table (unicast, or a broadcast entry in use). */
  changed: [];
}

type BroadcastTable = Map<PeerName, readonly PeerName[]>;

/** The routing tables of one router. */
export class Routes extends EventEmitter<RoutesEvents> {
  private unicastTable: Map<PeerName, PeerName>;
  private unicastAllTable: Map<PeerName, PeerName>;
  private broadcastTable: BroadcastTable;
  private broadcastAllTable: BroadcastTable;
  private readonly lookup: PeerLookup;
  private stale = false;

  /** Starts knowing only ourselves, as upstream does before the first recalculation. */
  constructor(private readonly peers: Peers) {
    super();
    this.lookup = (name) => peers.fetch(name);
    const us = peers.ourself.name;
    this.unicastTable = new Map([[us, UNKNOWN_PEER_NAME]]);
    this.unicastAllTable = new Map([[us, UNKNOWN_PEER_NAME]]);
    this.broadcastTable = new Map([[us, []]]);
    this.broadcastAllTable = new Map([[us, []]]);
  }

  /** Next hop towards `name` over established, symmetric connections; `undefined` if none or ourselves. */
  unicast(name: PeerName): PeerName | undefined {
    return hop(this.unicastTable, name);
  }

  /** Next hop towards `name` over any connection; `undefined` if none or ourselves. */
  unicastAll(name: PeerName): PeerName | undefined {
    return hop(this.unicastAllTable, name);
  }

  /** Neighbours to pass a broadcast from `origin` to, over established, symmetric connections (sorted). */
  broadcast(origin: PeerName): readonly PeerName[] {
    return this.lookupBroadcast(this.broadcastTable, origin, true);
  }

  /** Neighbours to pass a broadcast from `origin` to, over any connection (sorted). */
  broadcastAll(origin: PeerName): readonly PeerName[] {
    return this.lookupBroadcast(this.broadcastAllTable, origin, false);
  }

  /**
   * Neighbours to gossip to: `floor(min(2·log2(reachable peers incl. us), candidates))` distinct ones,
   * never `except` (mesh's later `randomNeighbours`). Each pick is a uniformly random destination's
   * first hop (from `unicastAll`), so a neighbour behind which many peers sit is picked more often.
   */
  randomNeighbours(except: PeerName | undefined, random: Random): PeerName[] {
    const hops: PeerName[] = [];
    for (const h of this.unicastAllTable.values()) if (h !== UNKNOWN_PEER_NAME && h !== except) hops.push(h);
    const candidates = new Set(hops).size;
    const count = Math.floor(Math.min(2 * Math.log2(this.unicastAllTable.size), candidates));
    const chosen = new Set<PeerName>();
    // A partial Fisher-Yates shuffle: destinations in random order until enough distinct hops are seen.
    for (let i = 0; i < hops.length && chosen.size < count; i++) {
      const j = i + random.int(hops.length - i);
      [hops[i], hops[j]] = [hops[j]!, hops[i]!];
      chosen.add(hops[i]!);
    }
    return [...chosen];
  }

  /** Unicast table for status/report: every reachable peer → next hop (ourselves → the zero name). */
  unicastRoutes(): ReadonlyMap<PeerName, PeerName> {
    return this.unicastTable;
  }

  /** Broadcast table for status/report: ourselves and every origin looked up since the last recalculation. */
  broadcastRoutes(): ReadonlyMap<PeerName, readonly PeerName[]> {
    return this.broadcastTable;
  }

  /** The topology changed: the tables are stale until the next recalculation. */
  invalidate(): void {
    this.stale = true;
  }

  /** Recalculates now if the topology changed since the last recalculation. */
  ensureRecalculated(): void {
    if (this.stale) this.recalculate();
  }

  /**
   * Recomputes the unicast tables and our own broadcast entries from the current topology; other
   * origins' broadcast entries are dropped and computed again when looked up (as upstream does: in a
   * full mesh, recomputing every cached origin each time would cost O(n³)). Emits `changed` and returns
   * true when a table differs, or when dropped entries might have.
   */
  recalculate(): boolean {
    this.stale = false;
    const us = this.peers.ourself;
    const unicast = walkRoutes(us, this.lookup, true).nextHops;
    const unicastAll = walkRoutes(us, this.lookup, false).nextHops;
    const broadcast: BroadcastTable = new Map([[us.name, this.computeBroadcast(us.name, true)]]);
    const broadcastAll: BroadcastTable = new Map([[us.name, this.computeBroadcast(us.name, false)]]);
    const changed =
      !sameHops(unicast, this.unicastTable) ||
      !sameHops(unicastAll, this.unicastAllTable) ||
      !sameBroadcasts(broadcast, this.broadcastTable) ||
      !sameBroadcasts(broadcastAll, this.broadcastAllTable);
    this.unicastTable = unicast;
    this.unicastAllTable = unicastAll;
    this.broadcastTable = broadcast;
    this.broadcastAllTable = broadcastAll;
    if (changed) this.emit('changed');
    return changed;
  }

  private lookupBroadcast(
    table: BroadcastTable,
    origin: PeerName,
    establishedAndSymmetric: boolean,
  ): readonly PeerName[] {
    let hops = table.get(origin);
    if (!hops) {
      hops = this.computeBroadcast(origin, establishedAndSymmetric);
      table.set(origin, hops);
    }
    return hops;
  }

  private computeBroadcast(origin: PeerName, establishedAndSymmetric: boolean): PeerName[] {
    const originPeer = this.peers.fetch(origin);
    if (!originPeer) return [];
    const us = this.peers.ourself;
    const walk = walkRoutes(originPeer, this.lookup, establishedAndSymmetric, us.name);
    if (!walk.stopped) return [];
    const hops: PeerName[] = [];
    forEachConnectedPeer(us, this.lookup, establishedAndSymmetric, walk.nextHops, (p) => hops.push(p.name));
    return hops.sort();
  }
}

function hop(table: ReadonlyMap<PeerName, PeerName>, name: PeerName): PeerName | undefined {
  const h = table.get(name);
  return h === UNKNOWN_PEER_NAME ? undefined : h;
}

function sameHops(a: ReadonlyMap<PeerName, PeerName>, b: ReadonlyMap<PeerName, PeerName>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameBroadcasts(a: BroadcastTable, b: BroadcastTable): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.length !== v.length || v.some((x, i) => x !== w[i])) return false;
  }
  return true;
}
