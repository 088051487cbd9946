import {
  type Clock,
  type GossipChannel,
  type Gossiper,
  type GossipReceiver,
  type PeerName,
  systemClock,
  type TimerHandle,
} from '@weave-ts/core';
import { EventEmitter } from 'eventemitter3';
import { Entries } from './entries.js';
import type { Entry } from './entry.js';
import { ClockSkewError } from './errors.js';
import { NameGossipData } from './gossip-data.js';
import { formatIPv4, parseIPv4 } from './ipv4.js';
import { fqdn, inDomain } from './names.js';

/** The gossip channel weaveDNS uses. */
export const NAMESERVER_CHANNEL = 'nameserver';
/** The default DNS domain (`--dns-domain`). */
export const DEFAULT_DOMAIN = 'weave.local.';
/** The container id upstream records for names added without a container (`weave dns-add` on a host). */
export const EXTERN_CONTAINER_ID = 'weave:extern';
/**
 * How long tombstones are kept, in seconds (also the purge interval). They only need to outlive
 * gossip propagation and the allowed clock skew, because a gone peer's entries are dropped anyway.
 */
export const TOMBSTONE_TIMEOUT_SECONDS = 30 * 60;
/** The largest clock skew accepted in gossip, in seconds (half the tombstone timeout). */
export const GOSSIP_WINDOW_SECONDS = TOMBSTONE_TIMEOUT_SECONDS / 2;

/** Events a {@link Nameserver} emits, after each operation has finished. */
export interface NameserverEvents {
  /** A record became live: added here, learned from gossip, or brought back from a tombstone. */
  entryAdded: (entry: Entry) => void;
  /** A live record stopped being live: deleted, its container died, or its peer is gone. */
  entryRemoved: (entry: Entry) => void;
  /** The set of entries changed in any way (tombstones and purges included). */
  changed: () => void;
}

/** How a {@link Nameserver} is built. */
export interface NameserverOptions {
  /** This peer's name: the origin of records added here. */
  ourName: PeerName;
  /** Whether `peer` is currently in the mesh; gossiped records of unknown peers are dropped. */
  isKnownPeer: (peer: PeerName) => boolean;
  /** The DNS domain records must live in; default `weave.local.`. */
  domain?: string;
  /** Time for tombstones, gossip timestamps and the purge timer; default the system clock. */
  clock?: Clock;
}

/**
 * weaveDNS's record keeper: the entries of the whole mesh, replicated by gossip on channel
 * `nameserver`. Local changes are broadcast as deltas; {@link gossip} gives the full state the
 * router sends periodically. Entries of ours that gossip contradicts are re-asserted, so a quick
 * restart of this peer cannot leave stale or zapped records behind (upstream #1867, #2023).
 */
export class Nameserver extends EventEmitter<NameserverEvents> implements GossipReceiver {
  /** This peer's name. */
  readonly ourName: PeerName;
  /** The DNS domain, fully qualified and lower-case (e.g. `weave.local.`). */
  readonly domain: string;
  readonly #isKnownPeer: (peer: PeerName) => boolean;
  readonly #clock: Clock;
  readonly #entries: Entries;
  #channel: GossipChannel | undefined;
  #timer: TimerHandle | undefined;
  #pending: Array<() => void> = [];
  #dirty = false;

  constructor(options: NameserverOptions) {
    super();
    this.ourName = options.ourName;
    this.domain = fqdn(options.domain ?? DEFAULT_DOMAIN).toLowerCase();
    this.#isKnownPeer = options.isKnownPeer;
    this.#clock = options.clock ?? systemClock;
    this.#entries = new Entries((before, after) => this.#noteChange(before, after));
  }

  /** Registers on the router's `nameserver` channel; deltas are broadcast through it from now on. */
  register(gossiper: Gossiper): GossipChannel {
    this.#channel = gossiper.registerChannel(NAMESERVER_CHANNEL, this);
    return this.#channel;
  }

  /** Starts the periodic tombstone purge. */
  start(): void {
    if (this.#timer !== undefined) return;
    const tick = () => {
      this.purgeTombstones();
      this.#timer = this.#clock.setTimeout(tick, TOMBSTONE_TIMEOUT_SECONDS * 1000);
    };
    this.#timer = this.#clock.setTimeout(tick, TOMBSTONE_TIMEOUT_SECONDS * 1000);
  }

  /** Stops the purge timer. Records stay readable. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #nowSeconds(): number {
    return Math.floor(this.#clock.now() / 1000);
  }

  #noteChange(before: Entry | undefined, after: Entry | undefined): void {
    this.#dirty = true;
    const wasLive = before !== undefined && before.tombstone === 0;
    const isLive = after !== undefined && after.tombstone === 0;
    if (!wasLive && isLive) this.#pending.push(() => this.emit('entryAdded', after));
    else if (wasLive && !isLive) this.#pending.push(() => this.emit('entryRemoved', before));
  }

  /** Emits what the finished operation changed; listeners may safely call back into us. */
  #flush(): void {
    const pending = this.#pending;
    const dirty = this.#dirty;
    this.#pending = [];
    this.#dirty = false;
    for (const emit of pending) emit();
    if (dirty) this.emit('changed');
  }

  #broadcast(entries: Entry[]): void {
    if (this.#channel && entries.length > 0) {
      this.#channel.gossipBroadcast(new NameGossipData(this.#nowSeconds(), entries));
    }
  }

  /**
   * Adds (or revives) a record with any origin and broadcasts it: the low-level form of {@link add}.
   * `hostname` is stored as given.
   */
  addEntry(hostname: string, containerId: string, origin: PeerName, addr: number): Entry {
    const entry = this.#entries.add(hostname, containerId, origin, addr);
    this.#flush();
    this.#broadcast([entry]);
    return entry;
  }

  /**
   * Registers `fqdn` → `ip` for a container of ours (upstream `PUT /name/<cid>/<ip>`). Names outside
   * our domain are ignored and give `undefined`. @throws InvalidIPv4Error
   */
  add(containerId: string, ip: string, name: string): Entry | undefined {
    const addr = parseIPv4(ip);
    const hostname = fqdn(name);
    if (!inDomain(hostname.toLowerCase(), this.domain)) return undefined;
    return this.addEntry(hostname, containerId, this.ourName, addr);
  }

  /**
   * Deletes our records matching all three selectors, each `*` for any (upstream `DELETE /name…`):
   * container id, IP, and hostname (exact, made fully qualified). Returns the records deleted.
   * @throws InvalidIPv4Error
   */
  delete(containerId = '*', ip = '*', name = '*'): Entry[] {
    const addr = ip === '*' ? undefined : parseIPv4(ip);
    const hostname = name === '*' ? undefined : fqdn(name);
    return this.#tombstone(
      (e) =>
        (hostname === undefined || e.hostname === hostname) &&
        (containerId === '*' || e.containerId === containerId) &&
        (addr === undefined || e.addr === addr),
    );
  }

  /** Deletes every record of ours for a container that died. */
  containerDied(containerId: string): Entry[] {
    return this.#tombstone((e) => e.containerId === containerId);
  }

  #tombstone(match: (e: Entry) => boolean): Entry[] {
    const dead = this.#entries.tombstone(this.ourName, this.#nowSeconds(), match);
    this.#flush();
    this.#broadcast(dead);
    return dead;
  }

  /** Drops every record of a peer the mesh has forgotten (no tombstones: everyone does the same). */
  peerGone(peer: PeerName): Entry[] {
    const removed = this.#entries.filter((e) => e.origin !== peer);
    this.#flush();
    return removed;
  }

  /** Removes tombstones older than the timeout; returns how many. Runs every 30 min once started. */
  purgeTombstones(): number {
    const now = this.#nowSeconds();
    const removed = this.#entries.filter(
      (e) => e.tombstone === 0 || now - e.tombstone <= TOMBSTONE_TIMEOUT_SECONDS,
    );
    this.#flush();
    return removed.length;
  }

  /** The live addresses (32-bit numbers) of `hostname`, matched case-insensitively as given. */
  lookupAddrs(hostname: string): number[] {
    const out: number[] = [];
    for (const e of this.#entries.lookup(hostname)) if (e.tombstone === 0) out.push(e.addr);
    return out;
  }

  /** The live addresses of `hostname` (made fully qualified, case-insensitive) as dotted strings. */
  lookup(hostname: string): string[] {
    return this.lookupAddrs(fqdn(hostname)).map(formatIPv4);
  }

  /** The hostname of the first live record with address `addr` (a 32-bit number), if any. */
  reverseAddr(addr: number): string | undefined {
    return this.#entries.first((e) => e.tombstone === 0 && e.addr === addr)?.hostname;
  }

  /** The hostname of the first live record for `ip`, if any. @throws InvalidIPv4Error */
  reverse(ip: string): string | undefined {
    return this.reverseAddr(parseIPv4(ip));
  }

  /** Every record, tombstones included, in storage (case-insensitive hostname) order. */
  entries(): Entry[] {
    return this.#entries.all();
  }

  /** Our full state, for periodic gossip and new connections. */
  gossip(): NameGossipData {
    return new NameGossipData(this.#nowSeconds(), this.#entries.all());
  }

  /** Name gossip is never unicast; ignored. */
  onGossipUnicast(_src: PeerName, _msg: Uint8Array): void {}

  /** Merges a broadcast and returns what it carried (minus unknown peers' records) for relaying. */
  onGossipBroadcast(_origin: PeerName, update: Uint8Array): NameGossipData | undefined {
    return this.#receive(update).received;
  }

  /** Merges periodic gossip and returns only what was new to us, if anything. */
  onGossip(msg: Uint8Array): NameGossipData | undefined {
    return this.#receive(msg).news;
  }

  /**
   * @throws ClockSkewError when the sender's clock is more than 900 s from ours
   * @throws InvalidNameGossipError for a malformed payload
   */
  #receive(msg: Uint8Array): { received: NameGossipData; news: NameGossipData | undefined } {
    const gossip = NameGossipData.decode(msg);
    const now = this.#nowSeconds();
    const skew = gossip.timestamp - now;
    if (skew > GOSSIP_WINDOW_SECONDS || skew < -GOSSIP_WINDOW_SECONDS) {
      throw new ClockSkewError(skew, GOSSIP_WINDOW_SECONDS);
    }
    const overridden: Entry[] = [];
    const incoming = gossip.entries
      .filter((e) => this.#isKnownPeer(e.origin))
      .map((e) => {
        if (e.origin !== this.ourName) return e;
        const ours = this.#entries.findEqual(e);
        if (ours === undefined) {
          // Someone holds a record of ours we no longer have (we restarted): kill it everywhere.
          if (e.tombstone > 0) return e;
          const dead: Entry = { ...e, version: e.version + 1, tombstone: now };
          overridden.push(dead);
          return dead;
        }
        if (ours.version < e.version || (ours.version === e.version && ours.tombstone !== e.tombstone)) {
          // Gossip contradicts what we know of our own record: re-assert ours above their version.
          const reasserted: Entry = { ...ours, version: e.version + 1 };
          overridden.push(reasserted);
          return reasserted;
        }
        return e;
      });
    const changed = this.#entries.merge(incoming);
    this.#flush();
    this.#broadcast(overridden);
    return {
      received: new NameGossipData(gossip.timestamp, incoming),
      news: changed.length > 0 ? new NameGossipData(now, changed) : undefined,
    };
  }
}
