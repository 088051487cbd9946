import {
  comparePeerNames,
  type GossipData,
  type GossipReceiver,
  type PeerName,
  UNKNOWN_PEER_NAME,
} from '@weave-ts/core';
import { formatRange, type Range, rangeAsCIDRString, rangeContains, rangeSize } from './address.js';
import {
  IncompatibleRangesError,
  SeededByDifferentPeersError,
  TakeoverWithoutMajorityError,
} from './allocator-errors.js';
import { hasOwnerMajority, pickHeir, subtractRanges } from './reclaim.js';
import { DifferentRangeError, DifferentSeedsError } from './errors.js';
import { normalizePeerNames } from './init-mode.js';
import { decodeGossipState, decodeRangeMessage, encodeRangeMessage, IpamMessageKind } from './ipam-gossip.js';
import { Space } from './space.js';
import type { Allocator } from './allocator.js';
import { AllocatorOperations } from './allocator-operations.js';

/** How an {@link Allocator} keeps its ring in step: gossip in, Paxos election, donations, ring updates. */
export abstract class AllocatorRing extends AllocatorOperations {
  protected receiver(): GossipReceiver {
    return {
      onGossipUnicast: (src, msg) => {
        if (this.running) this.act(() => this.onUnicast(src, msg));
      },
      onGossipBroadcast: (origin, msg): GossipData | undefined => {
        if (!this.running) return undefined;
        this.act(() => this.update(origin, msg));
        return this.gossipData;
      },
      onGossip: (msg) => {
        // Merged, never relayed: every peer gossips its whole state anyway.
        if (this.running) this.act(() => this.update(UNKNOWN_PEER_NAME, msg));
        return undefined;
      },
      gossip: () => (this.running ? this.gossipData : undefined),
    };
  }

  protected onUnicast(sender: PeerName, msg: Uint8Array): void {
    const body = msg.subarray(1);
    switch (msg[0]) {
      case IpamMessageKind.SpaceRequest: {
        const range = decodeRangeMessage(body);
        // Without a ring we cannot give anything; the requester will ask again.
        if (!this.ring.isEmpty()) this.donateSpace(range, sender);
        return;
      }
      case IpamMessageKind.SpaceRequestDenied:
        this.spaceRequestDenied(sender, decodeRangeMessage(body));
        return;
      case IpamMessageKind.RingUpdate:
        this.update(sender, body);
        return;
      default:
        this.log(`Ignoring unexpected IPAM unicast message kind ${msg[0] ?? 'empty'} from ${sender}`);
    }
  }

  /** Folds in a gossip state from `sender` (UNKNOWN_PEER_NAME for periodic gossip). Throws to drop the connection. */
  protected update(sender: PeerName, msg: Uint8Array): void {
    const data = decodeGossipState(msg);
    for (const [peer, nickname] of data.nicknames) this.nicknames.set(peer, nickname);
    if (data.ring) {
      // The peer whose ranges we hold is back: return what we did not use before merging its ring.
      if (this.held.has(data.ring.peer)) this.giveBack(data.ring.peer);
      let updated: boolean;
      try {
        updated = this.ring.merge(data.ring, (ranges) => this.hasAllocations(ranges));
      } catch (error) {
        if (error instanceof DifferentSeedsError) {
          throw new SeededByDifferentPeersError(this.annotate(error.received), this.annotate(error.ours));
        }
        if (error instanceof DifferentRangeError) {
          throw new IncompatibleRangesError(rangeAsCIDRString(error.received), rangeAsCIDRString(error.ours));
        }
        throw error;
      }
      if (updated) {
        this.pruneNicknames();
        this.ringUpdated();
      }
      this.yieldTies();
      if (this.ring.reasserted) {
        // Our entry now carries a newer version than anyone has: keep it and tell everyone, or peers
        // that saw the stale copy keep it until some periodic gossip happens to reach them.
        this.dirtyRing = true;
        this.broadcast();
      }
    } else if (!this.ring.isEmpty()) {
      // An elector proposing, or an observer asking: either way, they need our ring.
      if (sender !== UNKNOWN_PEER_NAME) this.sendRingUpdate(sender);
    } else if (data.paxos) {
      const paxos = this.paxos;
      if (paxos?.update(data.paxos)) {
        if (paxos.think()) this.broadcast();
        const agreed = paxos.consensus();
        if (agreed) this.createRing(agreed.value);
      }
    } else if (this.paxos?.isElector && sender !== UNKNOWN_PEER_NAME) {
      // An observer asked for a ring (only on its explicit broadcast, not on periodic gossip).
      this.establishRing();
    }
  }

  protected donateSpace(range: Range, to: PeerName): void {
    // Space held in trust for a vanished peer is given away only when nothing else is free.
    let chunk: Range | undefined;
    const held = this.heldRanges();
    for (const part of held.length > 0 ? subtractRanges([range], held) : []) {
      chunk = this.space.donate(part);
      if (chunk) break;
    }
    if (!chunk) {
      chunk = this.space.donate(range);
      if (chunk && held.length > 0) this.absorbHeld(chunk);
    }
    if (chunk) {
      this.log(`Giving range ${formatRange(chunk)} to ${to}`);
      this.ring.grantRangeToHost(chunk.start, chunk.end, to);
      this.dirtyRing = true;
    } else {
      this.log(`No space to give to peer ${to}`);
      this.unicast(to, encodeRangeMessage(IpamMessageKind.SpaceRequestDenied, range));
    }
    // Always send our ring back: it carries the grant, or shows where else to ask.
    this.sendRingUpdate(to);
    if (chunk) this.broadcast();
  }

  /**
   * Takes over `peer`'s ranges for the ring's lowest-named reachable owner (see `reclaim.ts`), provided
   * a majority of the owners is reachable (unless `force`, which gives them to us as upstream does).
   * Returns how many addresses changed hands. @throws TakeoverWithoutMajorityError
   */
  protected takeOver(peer: PeerName, force: boolean): number {
    const owners = this.ring.peerNames();
    if (!owners.has(peer)) return 0;
    const reachable = [...owners].filter((o) => o !== peer && this.isKnownPeer(o));
    if (!force && !hasOwnerMajority(owners.size, reachable.length)) {
      throw new TakeoverWithoutMajorityError(peer, reachable.length, owners.size);
    }
    const heir = force ? this.ourName : (pickHeir(reachable) ?? this.ourName);
    const ranges = this.ring.transfer(peer, heir);
    if (ranges.length === 0) return 0;
    this.log(`Ranges of ${peer} (${ranges.map(formatRange).join(', ')}) taken over by ${heir}`);
    if (heir === this.ourName && !force) this.hold(peer, ranges);
    this.unreachableSince.delete(peer);
    this.ringUpdated();
    this.broadcast();
    return ranges.reduce((sum, r) => sum + rangeSize(r), 0);
  }

  /** Automatic reclaim, on every tick: see {@link AllocatorOptions.reclaimAfterMs}. */
  protected reclaimTick(): void {
    const after = this.options.reclaimAfterMs;
    if (after === undefined || this.ring.isEmpty() || this.shuttingDown) return;
    const now = this.clock.now();
    const owners = this.ring.peerNames();
    for (const name of [...this.unreachableSince.keys()])
      if (!owners.has(name)) this.unreachableSince.delete(name);
    const reachable: PeerName[] = [];
    for (const owner of owners) {
      if (this.isKnownPeer(owner)) {
        reachable.push(owner);
        this.unreachableSince.delete(owner);
      } else if (!this.unreachableSince.has(owner)) {
        this.unreachableSince.set(owner, now);
      }
    }
    // Only the heir acts, and only with a majority: the other side of a partition never can.
    if (!hasOwnerMajority(owners.size, reachable.length) || pickHeir(reachable) !== this.ourName) return;
    for (const [peer, since] of [...this.unreachableSince]) {
      if (now - since < after) continue;
      this.log(`Reclaiming the ranges of ${peer}, unreachable for ${Math.round((now - since) / 1000)}s`);
      this.takeOver(peer, false);
    }
  }

  /**
   * Two peers took the same range over at once (their views of who is reachable differed): equal
   * versions naming different owners, which the merge rules keep apart for ever. The higher-named
   * one yields, if it has not used the range, by handing it to the lower-named one with a version
   * above both — the same rule as picking the heir, so every peer ends with the same owner.
   */
  protected yieldTies(): void {
    for (const { token, peer } of this.ring.ties) {
      if (comparePeerNames(peer, this.ourName) >= 0) continue;
      const span = this.ring.spanOf(token);
      if (this.hasAllocations(span)) continue;
      const moved = this.ring.transferOwn(
        peer,
        (s) => s.length === span.length && s.every((r, i) => r.start === span[i]!.start),
      );
      if (moved.length === 0) continue;
      this.log(`${peer} took over ${moved.map(formatRange).join(', ')} at the same time as us: yielding it`);
      this.ringUpdated();
      this.broadcast();
    }
  }

  /** Forgets held ranges that are no longer ours (the ring moved on). */
  protected pruneHeld(): void {
    if (this.held.size === 0) return;
    const mine = this.ring.ownedRanges();
    for (const [peer, ranges] of [...this.held]) {
      const still = ranges.filter((r) => mine.some((m) => m.start <= r.start && r.end <= m.end));
      if (still.length === ranges.length) continue;
      if (still.length > 0) this.held.set(peer, still);
      else this.held.delete(peer);
    }
  }

  protected hold(peer: PeerName, ranges: readonly Range[]): void {
    this.held.set(
      peer,
      [...(this.held.get(peer) ?? []), ...ranges].sort((a, b) => a.start - b.start),
    );
  }

  /** Hands the ranges we hold for `peer`, and have not used, back to it (it is back, or we leave). */
  protected giveBack(peer: PeerName, why = 'is back'): void {
    const held = this.held.get(peer) ?? [];
    this.held.delete(peer);
    const inside = (span: readonly Range[]) =>
      span.every((s) => held.some((h) => h.start <= s.start && s.end <= h.end));
    const ranges = this.ring.transferOwn(peer, inside);
    if (ranges.length === 0) return;
    this.log(`${peer} ${why}: giving its ranges back (${ranges.map(formatRange).join(', ')})`);
    this.ringUpdated();
    this.broadcast();
  }

  protected establishRing(): void {
    if (!this.ring.isEmpty() || this.awaitingConsensus || !this.paxos) return;
    this.awaitingConsensus = true;
    this.paxos.setQuorum(this.quorum());
    this.propose();
    const agreed = this.paxos.consensus();
    if (agreed) this.createRing(agreed.value);
  }

  protected propose(): void {
    this.paxos?.propose();
    this.broadcast();
  }

  protected createRing(peers: readonly PeerName[]): void {
    this.log(`Paxos consensus: ${peers.join(' ')}`);
    this.ring.claimForPeers(normalizePeerNames(peers));
    this.ringUpdated();
    this.broadcast();
  }

  protected ringUpdated(): void {
    if (this.awaitingConsensus) {
      this.awaitingConsensus = false;
      this.paxos = undefined;
    }
    this.dirtyRing = true;
    this.space.updateRanges(this.ring.ownedRanges());
    this.reconcileSpace();
    this.pruneHeld();
    this.tryPendingOps();
    this.emit('ringUpdated');
  }

  /**
   * Space only grows from the ring, but a merge may accept another peer's repair that took an unused
   * range of ours: then forget that space too, so it can never be handed out twice.
   */
  protected reconcileSpace(): void {
    const expected = new Space();
    expected.addRanges(this.ring.ownedRanges());
    const want = expected.ownedRanges();
    const have = this.space.ownedRanges();
    if (
      want.length === have.length &&
      want.every((r, i) => r.start === have[i]!.start && r.end === have[i]!.end)
    ) {
      return;
    }
    for (const [, data] of this.owned.entries()) {
      for (const cidr of data.cidrs) {
        if (want.some((r) => rangeContains(r, cidr.addr))) expected.claim(cidr.addr);
      }
    }
    this.log('Space no longer matches the ring; rebuilt from the ring');
    this.space = expected;
  }
}
