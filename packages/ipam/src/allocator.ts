import type { PeerName, StatusSection } from '@weave-ts/core';
import {
  type Address,
  type CIDR,
  cidrRange,
  cidrSize,
  formatAddress,
  formatCIDR,
  parseAddress,
  parseCIDR,
  type Range,
  rangeSize,
} from './address.js';
import { AddressNotFoundError, NoAddressesError } from './allocator-errors.js';
import { IPAM_CHANNEL } from './ipam-gossip.js';
import { formatIpamRanges, type IpamReport, ipamStatusLine, ipamStatusSection } from './ipam-status.js';
import { AllocateOperation, ClaimOperation, PrimeOperation } from './operations.js';
import type { RingEntry } from './ring-entries.js';
import { AllocatorRing } from './allocator-ring.js';
import {
  type AllocateOptions,
  type ClaimOptions,
  TICK_INTERVAL_MS,
  type TakeoverOptions,
  toSubnet,
} from './allocator-options.js';

// The options and constants live in their own file; they stay importable from here.
export {
  type AllocateOptions,
  type AllocatorEvents,
  type AllocatorOptions,
  CONTAINER_DIED_TIMEOUT_MS,
  type ClaimOptions,
  TICK_INTERVAL_MS,
  type TakeoverOptions,
} from './allocator-options.js';

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
export class Allocator extends AllocatorRing {
  // ---- life cycle -----------------------------------------------------------------------------

  /**
   * Loads persisted data, registers on the gossip channel, creates the ring at once in seed mode, and
   * starts the 5 s tick. @throws PersistedDataError | StoreFileError
   */
  start(): void {
    if (this.running) return;
    const loaded = this.loadPersistedData();
    this.running = true;
    this.channel = this.options.gossiper.registerChannel(IPAM_CHANNEL, this.receiver());
    if (loaded && this.seed.length > 0) this.log('Found persisted IPAM data, ignoring supplied IPAM seed');
    else if (loaded) this.log('Initialising with persisted data');
    else if (this.seed.length > 0) {
      this.log('Initialising with supplied IPAM seed');
      this.act(() => this.createRing(this.seed));
    } else if (this.paxos?.isElector) this.log('Initialising via deferred consensus');
    else this.log('Initialising as observer - awaiting IPAM data from another peer');
    this.scheduleTick();
  }

  /** Stops the tick and fails every waiting request; gossip is ignored from now on. */
  stop(): void {
    if (!this.running) return;
    this.act(() => this.cancelAll());
    this.running = false;
    if (this.ticker) this.clock.clearTimeout(this.ticker);
    this.ticker = undefined;
  }

  /**
   * `weave reset`: hands every range we own to an heir (an alive peer with ranges, else an alive IPAM
   * peer, else a gone peer with ranges, else any peer we heard of) and broadcasts, then refuses new
   * requests. Returns the heir, if there was one.
   */
  shutdown(): PeerName | undefined {
    this.log('Shutdown');
    return this.act(() => {
      this.shuttingDown = true;
      this.cancelAll();
      // What we hold in trust goes back to its owners, not to our heir.
      for (const peer of [...this.held.keys()]) this.giveBack(peer, 'was held in trust by us, and we leave');
      const heir = this.pickPeerForTransfer();
      if (heir !== undefined) {
        this.ring.transfer(this.ourName, heir);
        this.dirtyRing = true;
        this.space.clear();
        this.broadcast();
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
      this.doOperation(op, this.pendingAllocates, options.signal, reject);
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
      this.doOperation(op, this.pendingClaims, options.signal, reject);
    });
  }

  /** Resolves once the ring exists, starting an election if needed (`GET /ring`). */
  prime(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.doOperation(new PrimeOperation({ resolve, reject }), this.pendingPrimes, signal, reject);
    });
  }

  /** What `ident` holds, inside `range` if given. */
  lookup(ident: string, range?: Range): CIDR[] {
    return this.owned.inRange(ident, range);
  }

  /** Every holder on this peer and the addresses it holds (upstream's `GET /ip` `owned` list). */
  ownedEntries(): {
    /** The holder: a container id or another IPAM key (`weave:expose`, a plugin's key). */
    ident: string;
    /** The addresses it holds, with the subnet's prefix length. */
    cidrs: CIDR[];
  }[] {
    return [...this.owned.entries()].map(([ident, data]) => ({ ident, cidrs: [...data.cidrs] }));
  }

  /**
   * Who holds `addr` on this peer (as persisted in the data dir, so it survives restarts), or
   * undefined when nobody does. @throws InvalidAddressError when `addr` is not an IPv4 address
   */
  ownerOf(addr: Address | string): string | undefined {
    const address = typeof addr === 'string' ? parseAddress(addr) : addr;
    return this.owned.findOwner(address);
  }

  /** Releases one address of `ident`. @throws AddressNotFoundError | PersistenceFailedError */
  free(ident: string, addr: Address | string): void {
    const address = typeof addr === 'string' ? parseAddress(addr) : addr;
    this.actOrThrow(() => {
      if (!this.owned.remove(ident, address)) throw new AddressNotFoundError(formatAddress(address), ident);
      this.dirtyOwned.add(ident);
      this.freeInSpace(address);
    });
  }

  /** Releases everything `ident` holds (`DELETE /ip/{id}`). @throws NoAddressesError | PersistenceFailedError */
  freeAll(ident: string): void {
    this.actOrThrow(() => {
      if (this.deleteIdent(ident) === 0) throw new NoAddressesError(ident);
    });
  }

  /** A container stopped: its addresses are freed after 30 s unless it starts again; its waiting requests fail. */
  containerDied(ident: string): void {
    this.act(() => {
      if (this.owned.has(ident)) this.dead.set(ident, this.clock.now());
      this.cancelFor(this.pendingAllocates, ident);
      this.cancelFor(this.pendingClaims, ident);
    });
  }

  /** A container was removed: its addresses are freed now. */
  containerDestroyed(ident: string): void {
    this.act(() => {
      this.deleteIdent(ident);
      this.dead.delete(ident);
    });
  }

  /** A container (re)started: it keeps its addresses. */
  containerStarted(ident: string): void {
    this.dead.delete(ident);
  }

  /**
   * `weave rmpeer`: takes over every range of a (dead) peer, by name or nickname, and broadcasts.
   * Returns the reply text `N IPs taken over from X\n`. Unlike upstream it is safe to run on several
   * peers, even on both sides of a partition: it needs a majority of the ring's owners reachable, and
   * the ranges go to the lowest-named reachable owner, held in trust until needed (see `reclaim.ts`).
   * `force` restores upstream's unconditional takeover by this peer.
   * @throws TakeoverWithoutMajorityError | PersistenceFailedError
   */
  adminTakeoverRanges(peerNameOrNickname: string, options: TakeoverOptions = {}): string {
    const count = this.actOrThrow(() => {
      const peer = this.lookupPeerName(peerNameOrNickname);
      if (peer === undefined) {
        this.logger.warn(
          `[allocator ${this.ourName}] attempt to take over range from unknown peer '${peerNameOrNickname}'`,
        );
        return 0;
      }
      if (peer === this.ourName) {
        this.logger.warn(`[allocator ${this.ourName}] attempt to take over range from ourself`);
        return 0;
      }
      return this.takeOver(peer, options.force ?? false);
    });
    return `${count} IPs taken over from ${peerNameOrNickname}\n`;
  }

  /** The router forgot `name`: drop its nickname unless it still owns ranges. */
  peerGone(name: PeerName): void {
    if (!this.ring.peerNames().has(name)) this.nicknames.delete(name);
  }

  // ---- status ---------------------------------------------------------------------------------

  /** Upstream's `ipam.Status` (the `IPAM` object of `/report`). */
  report(): IpamReport {
    const paxos = this.awaitingConsensus ? this.paxos : undefined;
    const paxosStatus = paxos?.status();
    const entries = this.ring.isEmpty()
      ? null
      : this.ring.allRangeInfo().map((info) => ({
          Token: formatAddress(info.range.start),
          Size: rangeSize(info.range),
          Peer: info.peer,
          Nickname: this.nicknames.get(info.peer) ?? '',
          IsKnownPeer: this.isKnownPeer(info.peer),
          Version: info.version,
        }));
    const claims = this.pendingClaims.map((c) => ({ Ident: c.ident, CIDR: formatCIDR(c.cidr) }));
    const allocates = this.pendingAllocates.map((a) => `${a.ident} ${formatCIDR(a.subnet)}`);
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
      ActiveIPs: this.space.numOwnedAddresses(),
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
    return this.ring.entries();
  }

  /** The ranges we own (handed out or free), coalesced. */
  ownedRanges(): Range[] {
    return this.space.ownedRanges();
  }

  /** Free addresses of ours inside `range` (default: the whole allocation range). */
  numFreeAddresses(range: Range = cidrRange(this.universe)): number {
    return this.space.numFreeAddressesInRange(range);
  }

  /** Requests waiting. */
  get pendingCount(): number {
    return this.pendingAllocates.length + this.pendingClaims.length + this.pendingPrimes.length;
  }

  protected scheduleTick(): void {
    this.ticker = this.clock.setTimeout(() => {
      if (!this.running) return;
      this.act(() => {
        // Retry in case messages were lost on the way.
        if (this.awaitingConsensus) this.propose();
        else this.tryPendingOps();
        this.removeDeadContainers();
        this.reclaimTick();
      });
      this.scheduleTick();
    }, TICK_INTERVAL_MS);
  }
}
