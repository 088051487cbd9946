import type { Clock, TimerHandle } from './clock.js';
import type { MacKey } from './ethernet.js';
import type { PeerName } from './peer-name.js';

/**
 * Where each MAC address lives (upstream `router/mac_cache.go`): learnt from the source MAC of every
 * frame, so the L2 forwarder can send a frame for a known MAC straight to its peer instead of flooding.
 *
 * ```
 * add(mac, peer)        unknown ─▶ 'new' · same peer ─▶ 'known' · other peer ─▶ 'conflict' (entry kept)
 * addForced(mac, peer)  like add, but another peer ─▶ 'moved' (entry now points at `peer`)
 * every maxAge/10       entries not seen for maxAge are dropped (onExpiry)
 * ```
 *
 * `lastSeen` is refreshed at most every maxAge/10, so the common case (a MAC seen again at the same
 * peer) is one Map lookup and no write.
 */

/** How long a MAC is remembered after its last frame (upstream `macMaxAge`, above typical ARP expiry). */
export const MAC_MAX_AGE_MS = 10 * 60_000;

/** What {@link MacCache.add} / {@link MacCache.addForced} found. */
export type MacAddResult =
  /** The MAC was unknown; now it is at the given peer. */
  | 'new'
  /** The MAC was already at the given peer. */
  | 'known'
  /** (`add`) The MAC is at another peer; the cache was left alone. */
  | 'conflict'
  /** (`addForced`) The MAC was at another peer and now is at the given one. */
  | 'moved';

interface Entry {
  peer: PeerName;
  lastSeen: number;
}

/** Options of a {@link MacCache}. */
export interface MacCacheOptions {
  /** Times expiry and the `lastSeen` refresh. */
  readonly clock: Clock;
  /** Default {@link MAC_MAX_AGE_MS}. */
  readonly maxAgeMs?: number;
  /** Told about each entry that expired (upstream logs `Expired MAC … at …`). */
  readonly onExpiry?: (mac: MacKey, peer: PeerName) => void;
}

/** MAC address → peer, with expiry. Call {@link start} to run expiry and {@link stop} to end it. */
export class MacCache {
  private readonly table = new Map<MacKey, Entry>();
  private readonly clock: Clock;
  private readonly maxAge: number;
  private readonly refresh: number;
  private readonly onExpiry: (mac: MacKey, peer: PeerName) => void;
  private timer: TimerHandle | undefined;
  private lastPrevious: PeerName | undefined;

  constructor(options: MacCacheOptions) {
    this.clock = options.clock;
    this.maxAge = options.maxAgeMs ?? MAC_MAX_AGE_MS;
    this.refresh = this.maxAge / 10;
    this.onExpiry = options.onExpiry ?? (() => {});
  }

  /** Learns `mac → peer` unless the MAC belongs to another peer ('conflict'; see {@link previousPeer}). */
  add(mac: MacKey, peer: PeerName): MacAddResult {
    return this.enter(mac, peer, false);
  }

  /** Learns `mac → peer`, moving it from any other peer ('moved'; see {@link previousPeer}). */
  addForced(mac: MacKey, peer: PeerName): MacAddResult {
    return this.enter(mac, peer, true);
  }

  /** After 'conflict' or 'moved': the peer the MAC was at. Overwritten by the next add. */
  get previousPeer(): PeerName | undefined {
    return this.lastPrevious;
  }

  /** The peer a MAC is at, if known. */
  lookup(mac: MacKey): PeerName | undefined {
    return this.table.get(mac)?.peer;
  }

  /** Forgets every MAC at `peer` (it left the topology); returns how many there were. */
  deletePeer(peer: PeerName): number {
    let count = 0;
    for (const [mac, entry] of this.table) {
      if (entry.peer === peer) {
        this.table.delete(mac);
        count++;
      }
    }
    return count;
  }

  /** Number of known MACs. */
  get size(): number {
    return this.table.size;
  }

  /** Every entry, for diagnostics. */
  entries(): {
    /** The MAC. */
    mac: MacKey;
    /** The peer it was last seen at. */
    peer: PeerName;
    /** When it was last seen, in clock ms. */
    lastSeen: number;
  }[] {
    return [...this.table].map(([mac, e]) => ({ mac, peer: e.peer, lastSeen: e.lastSeen }));
  }

  /** Starts the expiry sweep (every maxAge/10). Idempotent. */
  start(): void {
    if (this.timer === undefined) this.schedule();
  }

  /** Stops the expiry sweep. */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Drops entries not seen for more than maxAge (the sweep does this on its own). */
  expire(): void {
    const now = this.clock.now();
    for (const [mac, entry] of this.table) {
      if (now > entry.lastSeen + this.maxAge) {
        this.table.delete(mac);
        this.onExpiry(mac, entry.peer);
      }
    }
  }

  private enter(mac: MacKey, peer: PeerName, force: boolean): MacAddResult {
    const now = this.clock.now();
    const entry = this.table.get(mac);
    if (!entry) {
      this.table.set(mac, { peer, lastSeen: now });
      return 'new';
    }
    let result: MacAddResult = 'known';
    if (entry.peer !== peer) {
      this.lastPrevious = entry.peer;
      if (!force) return 'conflict';
      entry.peer = peer;
      result = 'moved';
    }
    if (now > entry.lastSeen + this.refresh) entry.lastSeen = now;
    return result;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.expire();
      this.schedule();
    }, this.refresh);
  }
}
