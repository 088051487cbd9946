import { type GossipData, type GossipReceiver, type PeerName, UNKNOWN_PEER_NAME } from '@weave-ts/core';
import { formatRange, type Range, rangeAsCIDRString, rangeContains } from './address.js';
import { IncompatibleRangesError, SeededByDifferentPeersError } from './allocator-errors.js';
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
    const chunk = this.space.donate(range);
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
