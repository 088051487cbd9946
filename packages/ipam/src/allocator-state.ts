import {
  type Clock,
  type GossipChannel,
  type Logger,
  type PeerName,
  parsePeerName,
  type Random,
  silentLogger,
  systemClock,
  systemRandom,
  type TimerHandle,
} from '@weave-ts/core';
import { EventEmitter } from 'eventemitter3';
import { type Address, type CIDR, cidrRange, formatCIDR, type Range, rangesOverlap } from './address.js';
import { DefaultSubnetOutOfRangeError, PersistenceFailedError } from './allocator-errors.js';
import { normalizePeerNames, quorumForClusterSize } from './init-mode.js';
import { encodeGossipState, IpamGossipData, IpamMessageKind, withKind } from './ipam-gossip.js';
import { OwnedAddresses } from './owned.js';
import { type PaxosParticipant, PaxosNode, PaxosObserver } from './paxos.js';
import {
  heldFromRecord,
  heldToRecord,
  loadPersistedState,
  ownedRecordName,
  RecordName,
} from './persistence.js';
import { Ring } from './ring.js';
import { Space } from './space.js';
import { MemoryStore, type Store } from './store.js';
import type { Allocator } from './allocator.js';
import type { AllocatorOperations } from './allocator-operations.js';
import type { AllocatorRing } from './allocator-ring.js';
import {
  type AllocatorEvents,
  type AllocatorOptions,
  toSubnet,
  CONTAINER_DIED_TIMEOUT_MS,
} from './allocator-options.js';

/**
 * The data of an {@link Allocator} and the plumbing every part of it uses: one action at a time,
 * persistence, sending, nicknames and container bookkeeping. The layers above it add pending
 * requests ({@link AllocatorOperations}), ring agreement and gossip ({@link AllocatorRing}) and the
 * public API ({@link Allocator}).
 */
export abstract class AllocatorState extends EventEmitter<AllocatorEvents> {
  /** This peer's name. */
  readonly ourName: PeerName;
  /** The allocation range. */
  readonly universe: CIDR;
  /** Where allocations without a subnet go. */
  readonly defaultSubnet: CIDR;
  protected readonly options: AllocatorOptions;
  protected readonly clock: Clock;
  protected readonly random: Random;
  protected readonly logger: Logger;
  protected readonly store: Store;
  protected readonly quorum: () => number;
  protected readonly seed: readonly PeerName[];
  protected ring: Ring;
  protected space = new Space();
  protected owned = new OwnedAddresses();
  protected readonly nicknames = new Map<PeerName, string>();
  protected readonly dead = new Map<string, number>();
  protected paxos: PaxosParticipant | undefined;
  protected awaitingConsensus = false;
  protected shuttingDown = false;
  protected running = false;
  protected channel: GossipChannel | undefined;
  protected ticker: TimerHandle | undefined;
  protected readonly gossipData = new IpamGossipData(() => this.encode());
  protected inAction = false;
  protected dirtyRing = false;
  /** Holders whose record must be rewritten. */
  protected readonly dirtyOwned = new Set<string>();
  protected afterPersist: ((persistError?: Error) => void)[] = [];
  /** Ring owners missing from the topology, and since when (automatic reclaim). */
  protected readonly unreachableSince = new Map<PeerName, number>();
  /** Ranges taken over from a peer, held in trust for it until used (see `reclaim.ts`). */
  protected readonly held = new Map<PeerName, Range[]>();
  protected lastPersistError: PersistenceFailedError | undefined;

  /** @throws InvalidCIDRError | SubnetHostBitsError | DefaultSubnetOutOfRangeError for bad ranges */
  constructor(options: AllocatorOptions) {
    super();
    this.options = options;
    this.ourName = options.ourName;
    this.universe = toSubnet(options.range);
    this.defaultSubnet =
      options.defaultSubnet === undefined ? this.universe : toSubnet(options.defaultSubnet);
    if (!rangesOverlap(cidrRange(this.universe), cidrRange(this.defaultSubnet))) {
      throw new DefaultSubnetOutOfRangeError(formatCIDR(this.defaultSubnet), formatCIDR(this.universe));
    }
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.logger = options.logger ?? silentLogger;
    this.store = options.store ?? new MemoryStore();
    const mode = options.mode ?? { kind: 'consensus' };
    const clusterSize = mode.kind === 'consensus' ? mode.clusterSize : undefined;
    this.quorum =
      clusterSize !== undefined ? () => quorumForClusterSize(clusterSize) : (options.quorum ?? (() => 1));
    this.seed = mode.kind === 'seed' ? normalizePeerNames(mode.peers) : [];
    this.paxos = mode.kind === 'observer' ? new PaxosObserver() : new PaxosNode(this.ourName, options.ourUid);
    const range = cidrRange(this.universe);
    this.ring = new Ring(range.start, range.end, this.ourName);
    this.nicknames.set(this.ourName, options.nickname ?? this.ourName);
  }

  /** Our gossip payload now: `gob(gossipState)`. */
  encode(): Uint8Array {
    const ringEmpty = this.ring.isEmpty();
    return encodeGossipState({
      now: BigInt(Math.floor(this.clock.now() / 1000)),
      nicknames: this.nicknames,
      paxos: ringEmpty ? this.paxos?.gossipState() : undefined,
      ring: ringEmpty ? undefined : this.ring.toState(),
    });
  }

  protected sendRingUpdate(dest: PeerName): void {
    this.unicast(dest, withKind(IpamMessageKind.RingUpdate, this.encode()));
  }

  /** False when `dest` cannot be reached now. */
  protected unicast(dest: PeerName, msg: Uint8Array): boolean {
    if (!this.channel) return false;
    try {
      this.channel.gossipUnicast(dest, msg);
      return true;
    } catch (error) {
      this.log(`cannot send to ${dest}: ${(error as Error).message}`);
      return false;
    }
  }

  protected broadcast(): void {
    this.channel?.gossipBroadcast(this.gossipData);
  }

  protected hasAllocations(ranges: readonly Range[]): boolean {
    const ours = this.space.snapshot().ours;
    return ranges.some((r) => ours.some((o) => rangesOverlap(o, r)));
  }

  /** Every range held in trust, in address order. */
  protected heldRanges(): Range[] {
    return [...this.held.values()].flat().sort((a, b) => a.start - b.start);
  }

  /** `used` was handed out or given away: held ranges it touches can no longer be given back. */
  protected absorbHeld(used: Range): void {
    for (const [peer, ranges] of [...this.held]) {
      const keep = ranges.filter((r) => !rangesOverlap(r, used));
      if (keep.length === ranges.length) continue;
      this.log(`Using space taken over from ${peer}: it can no longer be given back`);
      this.dirtyRing = true;
      if (keep.length > 0) this.held.set(peer, keep);
      else this.held.delete(peer);
    }
  }

  protected reportFreeSpace(): void {
    const ranges = this.ring.ownedRanges();
    if (ranges.length === 0) return;
    const free = new Map<Address, number>();
    for (const r of ranges) free.set(r.start, this.space.numFreeAddressesInRange(r));
    if (this.ring.reportFree(free)) this.dirtyRing = true;
  }

  protected pickPeerForTransfer(): PeerName | undefined {
    const known = (name: PeerName) => this.isKnownPeer(name);
    const anyone = () => true;
    const fromNicknames = (ok: (name: PeerName) => boolean) =>
      [...this.nicknames.keys()].sort().find((name) => name !== this.ourName && ok(name));
    return (
      this.ring.pickPeerForTransfer(known) ??
      fromNicknames(known) ??
      this.ring.pickPeerForTransfer(anyone) ??
      fromNicknames(anyone)
    );
  }

  protected lookupPeerName(text: string): PeerName | undefined {
    for (const [name, nickname] of this.nicknames) if (nickname === text) return name;
    try {
      return parsePeerName(text);
    } catch {
      return undefined;
    }
  }

  protected pruneNicknames(): void {
    const inRing = this.ring.peerNames();
    for (const name of [...this.nicknames.keys()]) {
      if (name !== this.ourName && !inRing.has(name) && !this.isKnownPeer(name)) this.nicknames.delete(name);
    }
  }

  protected annotate(names: readonly PeerName[]): string[] {
    return names.map((name) => {
      const nickname = this.nicknames.get(name);
      return nickname === undefined ? name : `${name}(${nickname})`;
    });
  }

  protected isKnownPeer(name: PeerName): boolean {
    return name === this.ourName || this.options.isKnownPeer(name);
  }

  protected deleteIdent(ident: string): number {
    const cidrs = this.owned.removeAll(ident);
    if (cidrs.length > 0) this.dirtyOwned.add(ident);
    for (const cidr of cidrs) this.freeInSpace(cidr.addr);
    return cidrs.length;
  }

  protected freeInSpace(addr: Address): void {
    // Addresses outside the range, or in space we no longer own, are only forgotten.
    if (!this.ring.contains(addr)) return;
    try {
      this.space.free(addr);
    } catch {
      // not in our space any more
    }
  }

  protected removeDeadContainers(): void {
    const cutoff = this.clock.now() - CONTAINER_DIED_TIMEOUT_MS;
    for (const [ident, diedAt] of [...this.dead]) {
      if (diedAt >= cutoff) continue;
      if (this.deleteIdent(ident) > 0) this.log(`Removed addresses for container ${ident}`);
      this.dead.delete(ident);
    }
  }

  /** Runs `fn` as one action: afterwards free space is reported, changes persisted, results delivered. */
  protected act<T>(fn: () => T): T {
    if (this.inAction) return fn();
    this.inAction = true;
    try {
      return fn();
    } finally {
      this.inAction = false;
      this.finishAction();
    }
  }

  /** Like {@link act}, but a failure to persist is thrown to the caller. */
  protected actOrThrow<T>(fn: () => T): T {
    const result = this.act(fn);
    if (this.lastPersistError) throw this.lastPersistError;
    return result;
  }

  protected finishAction(): void {
    this.reportFreeSpace();
    this.lastPersistError = undefined;
    try {
      this.persist();
    } catch (error) {
      this.lastPersistError = new PersistenceFailedError(error as Error);
      this.logger.warn(`[allocator ${this.ourName}] ${this.lastPersistError.message}`);
    }
    const deliver = this.afterPersist;
    this.afterPersist = [];
    for (const fn of deliver) fn(this.lastPersistError);
  }

  protected persist(): void {
    if (!this.dirtyRing && this.dirtyOwned.size === 0) return;
    const records: Record<string, unknown> = {};
    if (this.dirtyRing) {
      records[RecordName.PeerName] = this.ourName;
      records[RecordName.Ring] = this.ring.toState();
      records[RecordName.HeldInTrust] = heldToRecord(this.held);
    }
    for (const ident of this.dirtyOwned) records[ownedRecordName(ident)] = this.owned.recordOf(ident);
    this.store.set(records);
    this.dirtyRing = false;
    this.dirtyOwned.clear();
  }

  /** Restores ring and holdings from the store; false (and overwritten) when absent or stale. */
  protected loadPersistedData(): boolean {
    const found = loadPersistedState(this.store, this.ourName, this.universe, this.ring.range);
    if (found.kind === 'stale') {
      this.log(found.reason);
      this.dirtyRing = true;
      for (const ident of found.staleIdents) this.dirtyOwned.add(ident);
      this.persist();
      return false;
    }
    this.ring = found.ring;
    this.owned = found.owned;
    // Only ranges we still own stay held.
    const mine = this.ring.ownedRanges();
    for (const [peer, ranges] of heldFromRecord(this.store.get(RecordName.HeldInTrust))) {
      const still = ranges.filter((r) => mine.some((m) => m.start <= r.start && r.end <= m.end));
      if (still.length > 0) this.held.set(peer, still);
    }
    this.space.updateRanges(this.ring.ownedRanges());
    for (const [, data] of this.owned.entries()) {
      for (const cidr of data.cidrs) {
        try {
          if (this.ring.contains(cidr.addr)) this.space.claim(cidr.addr);
        } catch {
          // held, but not in space we own (any more): nothing to mark
        }
      }
    }
    return true;
  }

  protected log(message: string): void {
    this.logger.info(`[allocator ${this.ourName}] ${message}`);
  }
}
