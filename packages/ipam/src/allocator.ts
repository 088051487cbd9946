import {
  type Clock,
  type GossipChannel,
  type GossipData,
  type Gossiper,
  type GossipReceiver,
  type Logger,
  type PeerName,
  parsePeerName,
  type Random,
  silentLogger,
  type StatusSection,
  systemClock,
  systemRandom,
  type TimerHandle,
  UNKNOWN_PEER_NAME,
} from '@weave-ts/core';
import { EventEmitter } from 'eventemitter3';
import {
  type Address,
  type CIDR,
  cidrRange,
  cidrSize,
  formatAddress,
  formatCIDR,
  formatRange,
  parseAddress,
  parseCIDR,
  parseSubnet,
  type Range,
  rangeAsCIDRString,
  rangeContains,
  rangeSize,
  rangesOverlap,
} from './address.js';
import {
  AddressNotFoundError,
  AllocatorNotRunningError,
  DefaultSubnetOutOfRangeError,
  IncompatibleRangesError,
  NoAddressesError,
  PersistenceFailedError,
  SeededByDifferentPeersError,
} from './allocator-errors.js';
import { DifferentRangeError, DifferentSeedsError } from './errors.js';
import type { InitMode } from './init-mode.js';
import { normalizePeerNames, quorumForClusterSize } from './init-mode.js';
import {
  decodeGossipState,
  decodeRangeMessage,
  encodeGossipState,
  encodeRangeMessage,
  IPAM_CHANNEL,
  IpamGossipData,
  IpamMessageKind,
  withKind,
} from './ipam-gossip.js';
import { formatIpamRanges, type IpamReport, ipamStatusLine, ipamStatusSection } from './ipam-status.js';
import {
  AllocateOperation,
  ClaimOperation,
  type Operation,
  type OperationContext,
  PrimeOperation,
} from './operations.js';
import { OwnedAddresses } from './owned.js';
import { type PaxosParticipant, PaxosNode, PaxosObserver } from './paxos.js';
import { loadPersistedState, ownedRecordName, RecordName } from './persistence.js';
import { Ring } from './ring.js';
import type { RingEntry } from './ring-entries.js';
import { Space } from './space.js';
import { MemoryStore, type Store } from './store.js';

/**
 * The IP allocator of one peer (upstream `ipam.Allocator`): the ring CRDT says which peer owns which
 * part of the range, the space says which of our addresses are handed out, and gossip on channel
 * `IPallocation` keeps the rings in step.
 *
 * ```
 * allocate/claim/prime ──▶ try now ──done──▶ persist ──▶ promise settles
 *                             │ not yet (ring empty / out of space / owner elsewhere)
 *                             ▼
 *                          pending ──retried on every ring update and every 5 s tick──▶ …
 * gossip ──▶ merge ring / Paxos ──▶ ring updated ──▶ space follows ──▶ pending retried
 * ```
 *
 * JavaScript's single thread plays the role of upstream's actor loop: every entry point runs as one
 * action, after which free space is re-reported into the ring, changed records are written to the
 * store in one atomic step, and only then are results delivered.
 */

/** Pending work is retried, and a stalled election re-proposed, this often. */
export const TICK_INTERVAL_MS = 5_000;
/** A container reported dead keeps its addresses this long (it may be restarting). */
export const CONTAINER_DIED_TIMEOUT_MS = 30_000;

/** How an {@link Allocator} is built. */
export interface AllocatorOptions {
  readonly ourName: PeerName;
  /** Our router's UID: a restarted peer is a new Paxos node. */
  readonly ourUid: bigint;
  /** Our nickname, gossiped so others can show it (and `rmpeer` it). */
  readonly nickname?: string;
  /** The allocation range (`--ipalloc-range`), e.g. `10.32.0.0/12`. */
  readonly range: CIDR | string;
  /** Where allocations without a subnet go (`--ipalloc-default-subnet`); default the whole range. */
  readonly defaultSubnet?: CIDR | string;
  /** How the ring is formed; default deferred consensus. */
  readonly mode?: InitMode;
  /** Where to register channel `IPallocation` (a `Router`). */
  readonly gossiper: Gossiper;
  /** Whether a peer is in the topology now (`Router.hasPeer`). */
  readonly isKnownPeer: (name: PeerName) => boolean;
  /** Votes needed to agree on the ring, asked when an election starts; default 1. */
  readonly quorum?: () => number;
  /** Persistence; default in memory only. */
  readonly store?: Store;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly logger?: Logger;
}

/** Options of {@link Allocator.allocate}. */
export interface AllocateOptions {
  /** Subnet to allocate in (zero host bits); default the default subnet. */
  readonly subnet?: CIDR | string;
  /** False for non-container holders (e.g. `weave:expose`); default true. */
  readonly isContainer?: boolean;
  /** Aborting cancels the request if it is still waiting. */
  readonly signal?: AbortSignal;
}

/** Options of {@link Allocator.claim}. */
export interface ClaimOptions {
  readonly isContainer?: boolean;
  /** Succeed at once if the owner is not known yet and keep trying in the background. */
  readonly noErrorOnUnknown?: boolean;
  readonly signal?: AbortSignal;
}

/** Events, emitted after the change. */
export interface AllocatorEvents {
  /** Our copy of the ring changed (merge, donation received, takeover, creation). */
  ringUpdated: [];
}

function toSubnet(value: CIDR | string): CIDR {
  return parseSubnet(typeof value === 'string' ? value : formatCIDR(value));
}

export class Allocator extends EventEmitter<AllocatorEvents> {
  readonly ourName: PeerName;
  /** The allocation range. */
  readonly universe: CIDR;
  /** Where allocations without a subnet go. */
  readonly defaultSubnet: CIDR;
  readonly #options: AllocatorOptions;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: Logger;
  readonly #store: Store;
  readonly #quorum: () => number;
  readonly #seed: readonly PeerName[];
  #ring: Ring;
  #space = new Space();
  #owned = new OwnedAddresses();
  readonly #nicknames = new Map<PeerName, string>();
  readonly #dead = new Map<string, number>();
  #paxos: PaxosParticipant | undefined;
  #awaitingConsensus = false;
  #shuttingDown = false;
  #running = false;
  #channel: GossipChannel | undefined;
  #ticker: TimerHandle | undefined;
  readonly #gossipData = new IpamGossipData(() => this.encode());
  #pendingAllocates: AllocateOperation[] = [];
  #pendingClaims: ClaimOperation[] = [];
  #pendingPrimes: PrimeOperation[] = [];
  #inAction = false;
  #tryingOps = false;
  #retryOps = false;
  #dirtyRing = false;
  /** Holders whose record must be rewritten. */
  readonly #dirtyOwned = new Set<string>();
  #afterPersist: ((persistError?: Error) => void)[] = [];
  #lastPersistError: PersistenceFailedError | undefined;
  readonly #ctx: OperationContext;

  /** @throws InvalidCIDRError | SubnetHostBitsError | DefaultSubnetOutOfRangeError for bad ranges */
  constructor(options: AllocatorOptions) {
    super();
    this.#options = options;
    this.ourName = options.ourName;
    this.universe = toSubnet(options.range);
    this.defaultSubnet =
      options.defaultSubnet === undefined ? this.universe : toSubnet(options.defaultSubnet);
    if (!rangesOverlap(cidrRange(this.universe), cidrRange(this.defaultSubnet))) {
      throw new DefaultSubnetOutOfRangeError(formatCIDR(this.defaultSubnet), formatCIDR(this.universe));
    }
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? systemRandom;
    this.#logger = options.logger ?? silentLogger;
    this.#store = options.store ?? new MemoryStore();
    const mode = options.mode ?? { kind: 'consensus' };
    const clusterSize = mode.kind === 'consensus' ? mode.clusterSize : undefined;
    this.#quorum =
      clusterSize !== undefined ? () => quorumForClusterSize(clusterSize) : (options.quorum ?? (() => 1));
    this.#seed = mode.kind === 'seed' ? normalizePeerNames(mode.peers) : [];
    this.#paxos =
      mode.kind === 'observer' ? new PaxosObserver() : new PaxosNode(this.ourName, options.ourUid);
    const range = cidrRange(this.universe);
    this.#ring = new Ring(range.start, range.end, this.ourName);
    this.#nicknames.set(this.ourName, options.nickname ?? this.ourName);
    this.#ctx = this.#makeContext();
  }

  // ---- life cycle -----------------------------------------------------------------------------

  /**
   * Loads persisted data, registers on the gossip channel, creates the ring at once in seed mode, and
   * starts the 5 s tick. @throws PersistedDataError | StoreFileError
   */
  start(): void {
    if (this.#running) return;
    const loaded = this.#loadPersistedData();
    this.#running = true;
    this.#channel = this.#options.gossiper.registerChannel(IPAM_CHANNEL, this.#receiver());
    if (loaded && this.#seed.length > 0) this.#log('Found persisted IPAM data, ignoring supplied IPAM seed');
    else if (loaded) this.#log('Initialising with persisted data');
    else if (this.#seed.length > 0) {
      this.#log('Initialising with supplied IPAM seed');
      this.#act(() => this.#createRing(this.#seed));
    } else if (this.#paxos?.isElector) this.#log('Initialising via deferred consensus');
    else this.#log('Initialising as observer - awaiting IPAM data from another peer');
    this.#scheduleTick();
  }

  /** Stops the tick and fails every waiting request; gossip is ignored from now on. */
  stop(): void {
    if (!this.#running) return;
    this.#act(() => this.#cancelAll());
    this.#running = false;
    if (this.#ticker) this.#clock.clearTimeout(this.#ticker);
    this.#ticker = undefined;
  }

  /**
   * `weave reset`: hands every range we own to an heir (an alive peer with ranges, else an alive IPAM
   * peer, else a gone peer with ranges, else any peer we heard of) and broadcasts, then refuses new
   * requests. Returns the heir, if there was one.
   */
  shutdown(): PeerName | undefined {
    this.#log('Shutdown');
    return this.#act(() => {
      this.#shuttingDown = true;
      this.#cancelAll();
      const heir = this.#pickPeerForTransfer();
      if (heir !== undefined) {
        this.#ring.transfer(this.ourName, heir);
        this.#dirtyRing = true;
        this.#space.clear();
        this.#broadcast();
      }
      return heir;
    });
  }

  // ---- requests ---------------------------------------------------------------------------------

  /**
   * An address for container `ident` in `subnet` (default: the default subnet), with the subnet's
   * prefix length. A container that already holds one there gets it again. Waits while the ring is
   * being formed or while we must ask another peer for space; rejects with
   * `OperationCancelledError` when cancelled, `SubnetOutOfRangeError` outside the range.
   */
  allocate(ident: string, options: AllocateOptions = {}): Promise<CIDR> {
    return new Promise<CIDR>((resolve, reject) => {
      const subnet = options.subnet === undefined ? this.defaultSubnet : toSubnet(options.subnet);
      const op = new AllocateOperation(ident, subnet, options.isContainer ?? true, { resolve, reject });
      this.#doOperation(op, this.#pendingAllocates, options.signal, reject);
    });
  }

  /**
   * Records `cidr` (an address with its subnet's prefix length) as held by `ident`. Outside the range
   * it is just recorded; inside, the owning peer is asked for the address. Rejects with
   * `AddressAlreadyOwnedError`, `AddressOwnedByOtherPeerError`, `AddressNotFreeError` or
   * `OperationCancelledError`.
   */
  claim(ident: string, cidr: CIDR | string, options: ClaimOptions = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const parsed = typeof cidr === 'string' ? parseCIDR(cidr) : cidr;
      const op = new ClaimOperation(
        ident,
        parsed,
        options.isContainer ?? true,
        options.noErrorOnUnknown ?? false,
        { resolve, reject },
      );
      this.#doOperation(op, this.#pendingClaims, options.signal, reject);
    });
  }

  /** Resolves once the ring exists, starting an election if needed (`GET /ring`). */
  prime(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#doOperation(new PrimeOperation({ resolve, reject }), this.#pendingPrimes, signal, reject);
    });
  }

  /** What `ident` holds, inside `range` if given. */
  lookup(ident: string, range?: Range): CIDR[] {
    return this.#owned.inRange(ident, range);
  }

  /** Releases one address of `ident`. @throws AddressNotFoundError | PersistenceFailedError */
  free(ident: string, addr: Address | string): void {
    const address = typeof addr === 'string' ? parseAddress(addr) : addr;
    this.#actOrThrow(() => {
      if (!this.#owned.remove(ident, address)) throw new AddressNotFoundError(formatAddress(address), ident);
      this.#dirtyOwned.add(ident);
      this.#freeInSpace(address);
    });
  }

  /** Releases everything `ident` holds (`DELETE /ip/{id}`). @throws NoAddressesError | PersistenceFailedError */
  freeAll(ident: string): void {
    this.#actOrThrow(() => {
      if (this.#deleteIdent(ident) === 0) throw new NoAddressesError(ident);
    });
  }

  /** A container stopped: its addresses are freed after 30 s unless it starts again; its waiting requests fail. */
  containerDied(ident: string): void {
    this.#act(() => {
      if (this.#owned.has(ident)) this.#dead.set(ident, this.#clock.now());
      this.#cancelFor(this.#pendingAllocates, ident);
      this.#cancelFor(this.#pendingClaims, ident);
    });
  }

  /** A container was removed: its addresses are freed now. */
  containerDestroyed(ident: string): void {
    this.#act(() => {
      this.#deleteIdent(ident);
      this.#dead.delete(ident);
    });
  }

  /** A container (re)started: it keeps its addresses. */
  containerStarted(ident: string): void {
    this.#dead.delete(ident);
  }

  /**
   * `weave rmpeer`: takes over every range of a (dead) peer, by name or nickname, and broadcasts.
   * Returns the reply text `N IPs taken over from X\n`. Run it on one peer only per dead peer.
   */
  adminTakeoverRanges(peerNameOrNickname: string): string {
    const count = this.#actOrThrow(() => {
      const peer = this.#lookupPeerName(peerNameOrNickname);
      if (peer === undefined) {
        this.#logger.warn(
          `[allocator ${this.ourName}] attempt to take over range from unknown peer '${peerNameOrNickname}'`,
        );
        return 0;
      }
      if (peer === this.ourName) {
        this.#logger.warn(`[allocator ${this.ourName}] attempt to take over range from ourself`);
        return 0;
      }
      if (this.#ring.transfer(peer, this.ourName).length === 0) return 0;
      const before = this.#space.numFreeAddresses();
      this.#ringUpdated();
      const taken = this.#space.numFreeAddresses() - before;
      this.#broadcast();
      return taken;
    });
    return `${count} IPs taken over from ${peerNameOrNickname}\n`;
  }

  /** The router forgot `name`: drop its nickname unless it still owns ranges. */
  peerGone(name: PeerName): void {
    if (!this.#ring.peerNames().has(name)) this.#nicknames.delete(name);
  }

  // ---- status ---------------------------------------------------------------------------------

  /** Upstream's `ipam.Status` (the `IPAM` object of `/report`). */
  report(): IpamReport {
    const paxos = this.#awaitingConsensus ? this.#paxos : undefined;
    const paxosStatus = paxos?.status();
    const entries = this.#ring.isEmpty()
      ? null
      : this.#ring.allRangeInfo().map((info) => ({
          Token: formatAddress(info.range.start),
          Size: rangeSize(info.range),
          Peer: info.peer,
          Nickname: this.#nicknames.get(info.peer) ?? '',
          IsKnownPeer: this.#isKnownPeer(info.peer),
          Version: info.version,
        }));
    const claims = this.#pendingClaims.map((c) => ({ Ident: c.ident, CIDR: formatCIDR(c.cidr) }));
    const allocates = this.#pendingAllocates.map((a) => `${a.ident} ${formatCIDR(a.subnet)}`);
    return {
      Paxos: paxos
        ? {
            Elector: paxos.isElector,
            KnownNodes: paxosStatus?.knownNodes ?? 0,
            Quorum: paxosStatus?.quorum ?? 0,
          }
        : null,
      Range: formatCIDR(this.universe),
      RangeNumIPs: cidrSize(this.universe),
      ActiveIPs: this.#space.numOwnedAddresses(),
      DefaultSubnet: formatCIDR(this.defaultSubnet),
      Entries: entries,
      PendingClaims: claims.length ? claims : null,
      PendingAllocates: allocates.length ? allocates : null,
    };
  }

  /** `idle`, `awaiting consensus (…)`, `priming`, `ready`, `waiting for …` or `all IP ranges owned by unreachable peers …`. */
  status(): string {
    return ipamStatusLine(this.report());
  }

  /** The `ipam` block of `weave status` (pass to `Router.statusText`). */
  statusSection(): StatusSection {
    return ipamStatusSection(this.report());
  }

  /** `weave status ipam`. */
  ipamText(): string {
    return formatIpamRanges(this.report(), this.ourName);
  }

  /** Copies of our ring's entries. */
  ringEntries(): RingEntry[] {
    return this.#ring.entries();
  }

  /** The ranges we own (handed out or free), coalesced. */
  ownedRanges(): Range[] {
    return this.#space.ownedRanges();
  }

  /** Free addresses of ours inside `range` (default: the whole allocation range). */
  numFreeAddresses(range: Range = cidrRange(this.universe)): number {
    return this.#space.numFreeAddressesInRange(range);
  }

  /** Requests waiting. */
  get pendingCount(): number {
    return this.#pendingAllocates.length + this.#pendingClaims.length + this.#pendingPrimes.length;
  }

  /** Our gossip payload now: `gob(gossipState)`. */
  encode(): Uint8Array {
    const ringEmpty = this.#ring.isEmpty();
    return encodeGossipState({
      now: BigInt(Math.floor(this.#clock.now() / 1000)),
      nicknames: this.#nicknames,
      paxos: ringEmpty ? this.#paxos?.gossipState() : undefined,
      ring: ringEmpty ? undefined : this.#ring.toState(),
    });
  }

  // ---- gossip -----------------------------------------------------------------------------------

  #receiver(): GossipReceiver {
    return {
      onGossipUnicast: (src, msg) => {
        if (this.#running) this.#act(() => this.#onUnicast(src, msg));
      },
      onGossipBroadcast: (origin, msg): GossipData | undefined => {
        if (!this.#running) return undefined;
        this.#act(() => this.#update(origin, msg));
        return this.#gossipData;
      },
      onGossip: (msg) => {
        // Merged, never relayed: every peer gossips its whole state anyway.
        if (this.#running) this.#act(() => this.#update(UNKNOWN_PEER_NAME, msg));
        return undefined;
      },
      gossip: () => (this.#running ? this.#gossipData : undefined),
    };
  }

  #onUnicast(sender: PeerName, msg: Uint8Array): void {
    const body = msg.subarray(1);
    switch (msg[0]) {
      case IpamMessageKind.SpaceRequest: {
        const range = decodeRangeMessage(body);
        // Without a ring we cannot give anything; the requester will ask again.
        if (!this.#ring.isEmpty()) this.#donateSpace(range, sender);
        return;
      }
      case IpamMessageKind.SpaceRequestDenied:
        this.#spaceRequestDenied(sender, decodeRangeMessage(body));
        return;
      case IpamMessageKind.RingUpdate:
        this.#update(sender, body);
        return;
      default:
        this.#log(`Ignoring unexpected IPAM unicast message kind ${msg[0] ?? 'empty'} from ${sender}`);
    }
  }

  /** Folds in a gossip state from `sender` (UNKNOWN_PEER_NAME for periodic gossip). Throws to drop the connection. */
  #update(sender: PeerName, msg: Uint8Array): void {
    const data = decodeGossipState(msg);
    for (const [peer, nickname] of data.nicknames) this.#nicknames.set(peer, nickname);
    if (data.ring) {
      let updated: boolean;
      try {
        updated = this.#ring.merge(data.ring, (ranges) => this.#hasAllocations(ranges));
      } catch (error) {
        if (error instanceof DifferentSeedsError) {
          throw new SeededByDifferentPeersError(this.#annotate(error.received), this.#annotate(error.ours));
        }
        if (error instanceof DifferentRangeError) {
          throw new IncompatibleRangesError(rangeAsCIDRString(error.received), rangeAsCIDRString(error.ours));
        }
        throw error;
      }
      if (updated) {
        this.#pruneNicknames();
        this.#ringUpdated();
      }
    } else if (!this.#ring.isEmpty()) {
      // An elector proposing, or an observer asking: either way, they need our ring.
      if (sender !== UNKNOWN_PEER_NAME) this.#sendRingUpdate(sender);
    } else if (data.paxos) {
      const paxos = this.#paxos;
      if (paxos?.update(data.paxos)) {
        if (paxos.think()) this.#broadcast();
        const agreed = paxos.consensus();
        if (agreed) this.#createRing(agreed.value);
      }
    } else if (this.#paxos?.isElector && sender !== UNKNOWN_PEER_NAME) {
      // An observer asked for a ring (only on its explicit broadcast, not on periodic gossip).
      this.#establishRing();
    }
  }

  #donateSpace(range: Range, to: PeerName): void {
    const chunk = this.#space.donate(range);
    if (chunk) {
      this.#log(`Giving range ${formatRange(chunk)} to ${to}`);
      this.#ring.grantRangeToHost(chunk.start, chunk.end, to);
      this.#dirtyRing = true;
    } else {
      this.#log(`No space to give to peer ${to}`);
      this.#unicast(to, encodeRangeMessage(IpamMessageKind.SpaceRequestDenied, range));
    }
    // Always send our ring back: it carries the grant, or shows where else to ask.
    this.#sendRingUpdate(to);
    if (chunk) this.#broadcast();
  }

  #spaceRequestDenied(sender: PeerName, range: Range): void {
    this.#pendingClaims = this.#pendingClaims.filter((claim) => {
      if (!rangeContains(range, claim.cidr.addr)) return true;
      claim.deniedBy(this.#ctx, sender);
      return false;
    });
  }

  #sendRingUpdate(dest: PeerName): void {
    this.#unicast(dest, withKind(IpamMessageKind.RingUpdate, this.encode()));
  }

  /** False when `dest` cannot be reached now. */
  #unicast(dest: PeerName, msg: Uint8Array): boolean {
    if (!this.#channel) return false;
    try {
      this.#channel.gossipUnicast(dest, msg);
      return true;
    } catch (error) {
      this.#log(`cannot send to ${dest}: ${(error as Error).message}`);
      return false;
    }
  }

  #broadcast(): void {
    this.#channel?.gossipBroadcast(this.#gossipData);
  }

  // ---- ring ---------------------------------------------------------------------------------------

  #establishRing(): void {
    if (!this.#ring.isEmpty() || this.#awaitingConsensus || !this.#paxos) return;
    this.#awaitingConsensus = true;
    this.#paxos.setQuorum(this.#quorum());
    this.#propose();
    const agreed = this.#paxos.consensus();
    if (agreed) this.#createRing(agreed.value);
  }

  #propose(): void {
    this.#paxos?.propose();
    this.#broadcast();
  }

  #createRing(peers: readonly PeerName[]): void {
    this.#log(`Paxos consensus: ${peers.join(' ')}`);
    this.#ring.claimForPeers(normalizePeerNames(peers));
    this.#ringUpdated();
    this.#broadcast();
  }

  #ringUpdated(): void {
    if (this.#awaitingConsensus) {
      this.#awaitingConsensus = false;
      this.#paxos = undefined;
    }
    this.#dirtyRing = true;
    this.#space.updateRanges(this.#ring.ownedRanges());
    this.#reconcileSpace();
    this.#tryPendingOps();
    this.emit('ringUpdated');
  }

  /**
   * Space only grows from the ring, but a merge may accept another peer's repair that took an unused
   * range of ours: then forget that space too, so it can never be handed out twice.
   */
  #reconcileSpace(): void {
    const expected = new Space();
    expected.addRanges(this.#ring.ownedRanges());
    const want = expected.ownedRanges();
    const have = this.#space.ownedRanges();
    if (
      want.length === have.length &&
      want.every((r, i) => r.start === have[i]!.start && r.end === have[i]!.end)
    ) {
      return;
    }
    for (const [, data] of this.#owned.entries()) {
      for (const cidr of data.cidrs) {
        if (want.some((r) => rangeContains(r, cidr.addr))) expected.claim(cidr.addr);
      }
    }
    this.#log('Space no longer matches the ring; rebuilt from the ring');
    this.#space = expected;
  }

  #hasAllocations(ranges: readonly Range[]): boolean {
    const ours = this.#space.snapshot().ours;
    return ranges.some((r) => ours.some((o) => rangesOverlap(o, r)));
  }

  #reportFreeSpace(): void {
    const ranges = this.#ring.ownedRanges();
    if (ranges.length === 0) return;
    const free = new Map<Address, number>();
    for (const r of ranges) free.set(r.start, this.#space.numFreeAddressesInRange(r));
    if (this.#ring.reportFree(free)) this.#dirtyRing = true;
  }

  #pickPeerForTransfer(): PeerName | undefined {
    const known = (name: PeerName) => this.#isKnownPeer(name);
    const anyone = () => true;
    const fromNicknames = (ok: (name: PeerName) => boolean) =>
      [...this.#nicknames.keys()].sort().find((name) => name !== this.ourName && ok(name));
    return (
      this.#ring.pickPeerForTransfer(known) ??
      fromNicknames(known) ??
      this.#ring.pickPeerForTransfer(anyone) ??
      fromNicknames(anyone)
    );
  }

  #lookupPeerName(text: string): PeerName | undefined {
    for (const [name, nickname] of this.#nicknames) if (nickname === text) return name;
    try {
      return parsePeerName(text);
    } catch {
      return undefined;
    }
  }

  #pruneNicknames(): void {
    const inRing = this.#ring.peerNames();
    for (const name of [...this.#nicknames.keys()]) {
      if (name !== this.ourName && !inRing.has(name) && !this.#isKnownPeer(name))
        this.#nicknames.delete(name);
    }
  }

  #annotate(names: readonly PeerName[]): string[] {
    return names.map((name) => {
      const nickname = this.#nicknames.get(name);
      return nickname === undefined ? name : `${name}(${nickname})`;
    });
  }

  #isKnownPeer(name: PeerName): boolean {
    return name === this.ourName || this.#options.isKnownPeer(name);
  }

  // ---- operations ---------------------------------------------------------------------------------

  #doOperation<T extends Operation>(
    op: T,
    queue: T[],
    signal: AbortSignal | undefined,
    reject: (error: Error) => void,
  ): void {
    if (!this.#running) {
      reject(new AllocatorNotRunningError());
      return;
    }
    this.#act(() => {
      if (this.#shuttingDown || signal?.aborted) {
        op.cancel(this.#ctx);
        return;
      }
      if (op.tryOnce(this.#ctx)) return;
      queue.push(op);
      signal?.addEventListener('abort', () => this.#act(() => this.#cancelOp(op, queue)), { once: true });
    });
  }

  #cancelOp<T extends Operation>(op: T, queue: T[]): void {
    const i = queue.indexOf(op);
    if (i < 0) return;
    queue.splice(i, 1);
    op.cancel(this.#ctx);
  }

  #cancelFor<T extends Operation>(queue: T[], ident: string): void {
    for (const op of queue.filter((o) => o.ident === ident)) this.#cancelOp(op, queue);
  }

  #cancelAll(): void {
    for (const queue of [this.#pendingClaims, this.#pendingAllocates, this.#pendingPrimes] as Operation[][]) {
      for (const op of queue.splice(0)) op.cancel(this.#ctx);
    }
  }

  /** Retries every waiting request: primes, then claims (before new allocations), then allocations. */
  #tryPendingOps(): void {
    if (this.#tryingOps) {
      // Called from inside an operation (e.g. its election completed): go round again afterwards.
      this.#retryOps = true;
      return;
    }
    this.#tryingOps = true;
    try {
      do {
        this.#retryOps = false;
        this.#pendingPrimes = this.#pendingPrimes.filter((op) => !op.tryOnce(this.#ctx));
        this.#pendingClaims = this.#pendingClaims.filter((op) => !op.tryOnce(this.#ctx));
        this.#pendingAllocates = this.#pendingAllocates.filter((op) => !op.tryOnce(this.#ctx));
      } while (this.#retryOps);
    } finally {
      this.#tryingOps = false;
    }
  }

  #makeContext(): OperationContext {
    return {
      universe: this.universe,
      ourName: this.ourName,
      ringIsEmpty: () => this.#ring.isEmpty(),
      inUniverse: (addr) => this.#ring.contains(addr),
      ringOwner: (addr) => this.#ring.owner(addr),
      nicknameOf: (peer) => this.#nicknames.get(peer),
      ownedInRange: (ident, range) => this.#owned.inRange(ident, range),
      findOwner: (addr) => this.#owned.findOwner(addr),
      addOwned: (ident, cidr, isContainer) => {
        this.#owned.add(ident, cidr, isContainer);
        this.#dirtyOwned.add(ident);
      },
      revive: (ident) => this.#dead.delete(ident),
      establishRing: () => this.#establishRing(),
      allocateInSpace: (range) => this.#space.allocate(range),
      claimInSpace: (addr) => this.#space.claim(addr),
      requestSpace: (range) =>
        this.#ring
          .choosePeersToAskForSpace(range.start, range.end, this.#random)
          .some((donor) => this.#unicast(donor, encodeRangeMessage(IpamMessageKind.SpaceRequest, range))),
      sendSpaceRequest: (peer, range) =>
        this.#unicast(peer, encodeRangeMessage(IpamMessageKind.SpaceRequest, range)),
      afterPersist: (fn) => {
        if (this.#inAction) this.#afterPersist.push(fn);
        else fn();
      },
      log: (message) => this.#log(message),
    };
  }

  // ---- containers ---------------------------------------------------------------------------------

  #deleteIdent(ident: string): number {
    const cidrs = this.#owned.removeAll(ident);
    if (cidrs.length > 0) this.#dirtyOwned.add(ident);
    for (const cidr of cidrs) this.#freeInSpace(cidr.addr);
    return cidrs.length;
  }

  #freeInSpace(addr: Address): void {
    // Addresses outside the range, or in space we no longer own, are only forgotten.
    if (!this.#ring.contains(addr)) return;
    try {
      this.#space.free(addr);
    } catch {
      // not in our space any more
    }
  }

  #removeDeadContainers(): void {
    const cutoff = this.#clock.now() - CONTAINER_DIED_TIMEOUT_MS;
    for (const [ident, diedAt] of [...this.#dead]) {
      if (diedAt >= cutoff) continue;
      if (this.#deleteIdent(ident) > 0) this.#log(`Removed addresses for container ${ident}`);
      this.#dead.delete(ident);
    }
  }

  #scheduleTick(): void {
    this.#ticker = this.#clock.setTimeout(() => {
      if (!this.#running) return;
      this.#act(() => {
        // Retry in case messages were lost on the way.
        if (this.#awaitingConsensus) this.#propose();
        else this.#tryPendingOps();
        this.#removeDeadContainers();
      });
      this.#scheduleTick();
    }, TICK_INTERVAL_MS);
  }

  // ---- actions and persistence ---------------------------------------------------------------------

  /** Runs `fn` as one action: afterwards free space is reported, changes persisted, results delivered. */
  #act<T>(fn: () => T): T {
    if (this.#inAction) return fn();
    this.#inAction = true;
    try {
      return fn();
    } finally {
      this.#inAction = false;
      this.#finishAction();
    }
  }

  /** Like {@link #act}, but a failure to persist is thrown to the caller. */
  #actOrThrow<T>(fn: () => T): T {
    const result = this.#act(fn);
    if (this.#lastPersistError) throw this.#lastPersistError;
    return result;
  }

  #finishAction(): void {
    this.#reportFreeSpace();
    this.#lastPersistError = undefined;
    try {
      this.#persist();
    } catch (error) {
      this.#lastPersistError = new PersistenceFailedError(error as Error);
      this.#logger.warn(`[allocator ${this.ourName}] ${this.#lastPersistError.message}`);
    }
    const deliver = this.#afterPersist;
    this.#afterPersist = [];
    for (const fn of deliver) fn(this.#lastPersistError);
  }

  #persist(): void {
    if (!this.#dirtyRing && this.#dirtyOwned.size === 0) return;
    const records: Record<string, unknown> = {};
    if (this.#dirtyRing) {
      records[RecordName.PeerName] = this.ourName;
      records[RecordName.Ring] = this.#ring.toState();
    }
    for (const ident of this.#dirtyOwned) records[ownedRecordName(ident)] = this.#owned.recordOf(ident);
    this.#store.set(records);
    this.#dirtyRing = false;
    this.#dirtyOwned.clear();
  }

  /** Restores ring and holdings from the store; false (and overwritten) when absent or stale. */
  #loadPersistedData(): boolean {
    const found = loadPersistedState(this.#store, this.ourName, this.universe, this.#ring.range);
    if (found.kind === 'stale') {
      this.#log(found.reason);
      this.#dirtyRing = true;
      for (const ident of found.staleIdents) this.#dirtyOwned.add(ident);
      this.#persist();
      return false;
    }
    this.#ring = found.ring;
    this.#owned = found.owned;
    this.#space.updateRanges(this.#ring.ownedRanges());
    for (const [, data] of this.#owned.entries()) {
      for (const cidr of data.cidrs) {
        try {
          if (this.#ring.contains(cidr.addr)) this.#space.claim(cidr.addr);
        } catch {
          // held, but not in space we own (any more): nothing to mark
        }
      }
    }
    return true;
  }

  #log(message: string): void {
    this.#logger.info(`[allocator ${this.ourName}] ${message}`);
  }
}
