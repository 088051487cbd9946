import { comparePeerNames, type PeerName } from '@weave-ts/core';
import { QuorumNotSetError } from './errors.js';

/**
 * Single-decree Paxos over gossip (upstream `ipam/paxos`), used once per cluster to agree on the peers
 * that seed the IPAM ring. There are no messages as such: every node gossips everything it knows about
 * every node's claims, and each step of Paxos is a local rule applied to that shared knowledge.
 */

/**
 * A participant. The UID matters: an acceptor must never forget its promises, so a restarted peer
 * (new UID) is a new node even under the same name.
 */
export interface NodeId {
  /** The node's peer name. */
  readonly name: PeerName;
  /** The node's peer instance id (a restarted peer is a new node). */
  readonly uid: bigint;
}

/** A proposal number: round first, then proposer name, then UID. Round 0 means "none". */
export interface ProposalId {
  /** The proposal round; higher wins. */
  readonly round: number;
  /** The node that made the proposal. */
  readonly proposer: NodeId;
}

/** A value with the proposal that first chose it (comparing origins is how agreement is judged). */
export interface AcceptedValue {
  /** The proposed seed peers. */
  readonly value: readonly PeerName[];
  /** The proposal that first carried this value. */
  readonly origin: ProposalId;
}

/** What one node has claimed. */
export interface NodeClaims {
  /** The node will not accept a proposal that precedes this one. */
  readonly promise: ProposalId;
  /** The proposal it accepted, valid when round > 0, and the value that came with it. */
  readonly accepted: ProposalId;
  /** The value this node accepted. */
  readonly acceptedVal: AcceptedValue;
}

/** One node's claims as gossiped (upstream's `map[NodeID]NodeClaims`, as a list). */
export interface KnownClaims {
  /** The node. */
  readonly node: NodeId;
  /** What it claimed. */
  readonly claims: NodeClaims;
}

/** Everything a node knows, as gossiped. */
export type PaxosGossip = readonly KnownClaims[];

/** Status of an elector: `awaiting consensus (quorum: Q, known: K)`. */
export interface PaxosStatus {
  /** How many nodes' claims are known. */
  readonly knownNodes: number;
  /** How many must agree. */
  readonly quorum: number;
}

/** What the allocator drives: an elector ({@link PaxosNode}) or an {@link PaxosObserver}. */
export interface PaxosParticipant {
  /** True for nodes that vote. */
  readonly isElector: boolean;
  /** What to gossip; `undefined` for an observer (upstream sends nil). */
  gossipState(): PaxosGossip | undefined;
  /** Folds in gossip from another node; true if we learned something. */
  update(from: PaxosGossip): boolean;
  /** Sets how many nodes must agree. */
  setQuorum(quorum: number): void;
  /** Starts a new proposal ("prepare"). */
  propose(): void;
  /** Applies the Paxos rules to what we know; true if our own claims changed (gossip them). */
  think(): boolean;
  /** The agreed value once a quorum accepted one proposal, else `undefined`. */
  consensus(): AcceptedValue | undefined;
  /** Status numbers for an elector; `undefined` for an observer. */
  status(): PaxosStatus | undefined;
}

const NO_NODE: NodeId = { name: '00:00:00:00:00:00' as PeerName, uid: 0n };
const NO_PROPOSAL: ProposalId = { round: 0, proposer: NO_NODE };
const NO_CLAIMS: NodeClaims = {
  promise: NO_PROPOSAL,
  accepted: NO_PROPOSAL,
  acceptedVal: { value: [], origin: NO_PROPOSAL },
};

function sameNode(a: NodeId, b: NodeId): boolean {
  return a.name === b.name && a.uid === b.uid;
}

function nodeKey(id: NodeId): string {
  return `${id.name}/${id.uid}`;
}

/** True when `a` is ordered before `b`. */
export function proposalPrecedes(a: ProposalId, b: ProposalId): boolean {
  if (a.round !== b.round) return a.round < b.round;
  if (a.proposer.name !== b.proposer.name) return comparePeerNames(a.proposer.name, b.proposer.name) < 0;
  return a.proposer.uid < b.proposer.uid;
}

/** True when both name the same proposal. */
export function sameProposal(a: ProposalId, b: ProposalId): boolean {
  return a.round === b.round && sameNode(a.proposer, b.proposer);
}

function isValid(p: ProposalId): boolean {
  return p.round > 0;
}

function sameClaims(a: NodeClaims, b: NodeClaims): boolean {
  return (
    sameProposal(a.promise, b.promise) &&
    sameProposal(a.accepted, b.accepted) &&
    sameProposal(a.acceptedVal.origin, b.acceptedVal.origin)
  );
}

/** A voting participant. */
export class PaxosNode implements PaxosParticipant {
  readonly isElector = true;
  /** This node's id. */
  readonly id: NodeId;
  #quorum: number;
  readonly #knows = new Map<string, KnownClaims>();

  /** A node with no knowledge yet; `quorum` 0 means "set it before proposing". */
  constructor(name: PeerName, uid: bigint, quorum = 0) {
    this.id = { name, uid };
    this.#quorum = quorum;
  }

  setQuorum(quorum: number): void {
    this.#quorum = quorum;
  }

  gossipState(): PaxosGossip {
    return [...this.#knows.values()];
  }

  status(): PaxosStatus {
    return { knownNodes: this.#knows.size, quorum: this.#quorum };
  }

  update(from: PaxosGossip): boolean {
    let changed = false;
    for (const { node, claims: theirs } of from) {
      const key = nodeKey(node);
      const known = this.#knows.get(key);
      if (!known) {
        this.#knows.set(key, { node, claims: theirs });
        changed = true;
        continue;
      }
      let { promise, accepted, acceptedVal } = known.claims;
      if (proposalPrecedes(promise, theirs.promise)) {
        promise = theirs.promise;
        changed = true;
      }
      if (proposalPrecedes(accepted, theirs.accepted)) {
        accepted = theirs.accepted;
        acceptedVal = theirs.acceptedVal;
        changed = true;
      }
      this.#knows.set(key, { node: known.node, claims: { promise, accepted, acceptedVal } });
    }
    return changed;
  }

  /** Proposes with a round above every round seen; with quorum 1 that is consensus at once. */
  propose(): void {
    if (this.#quorum === 0) throw new QuorumNotSetError();
    let round = 0;
    for (const { claims } of this.#knows.values()) {
      round = Math.max(round, claims.promise.round, claims.accepted.round);
    }
    this.#setOurs({ ...this.#ours(), promise: { round: round + 1, proposer: this.id } });
    if (this.#quorum === 1) this.think();
  }

  think(): boolean {
    const before = this.#ours();
    let { promise, accepted, acceptedVal } = before;

    // Promise: adopt the highest promise anyone made.
    for (const { claims } of this.#knows.values()) {
      if (proposalPrecedes(promise, claims.promise)) promise = claims.promise;
    }

    // Accept request: our proposal is only alive while it is also our promise. If a quorum promised
    // it, accept it with the best value any of them accepted before, or a fresh value.
    if (sameNode(promise.proposer, this.id)) {
      let count = 0;
      let bestAccepted = NO_PROPOSAL;
      let bestValue = NO_CLAIMS.acceptedVal;
      for (const { claims } of this.#knows.values()) {
        if (!sameProposal(claims.promise, promise)) continue;
        count++;
        if (proposalPrecedes(bestAccepted, claims.accepted)) {
          bestAccepted = claims.accepted;
          bestValue = claims.acceptedVal;
        }
      }
      if (count >= this.#quorum) {
        accepted = promise;
        acceptedVal = isValid(bestAccepted) ? bestValue : { value: this.#pickValue(), origin: promise };
      }
    }

    // Accepted: if anyone accepted the proposal we promised, accept it too.
    for (const { claims } of this.#knows.values()) {
      if (sameProposal(claims.accepted, promise)) {
        accepted = claims.accepted;
        acceptedVal = claims.acceptedVal;
        break;
      }
    }

    const after = { promise, accepted, acceptedVal };
    if (sameClaims(after, before)) return false;
    this.#setOurs(after);
    return true;
  }

  consensus(): AcceptedValue | undefined {
    // A node that was never given a quorum (an idle peer) must not decide on others' behalf.
    if (this.#quorum === 0) return undefined;
    const counts = new Map<string, number>();
    for (const { claims } of this.#knows.values()) {
      if (!isValid(claims.accepted)) continue;
      const origin = claims.acceptedVal.origin;
      const key = `${origin.round}/${nodeKey(origin.proposer)}`;
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      if (count >= this.#quorum) return claims.acceptedVal;
    }
    return undefined;
  }

  /** The names of every node we know, sorted and de-duplicated: enough to seed the ring. */
  #pickValue(): PeerName[] {
    const names = new Set([...this.#knows.values()].map((k) => k.node.name));
    return [...names].sort(comparePeerNames);
  }

  #ours(): NodeClaims {
    return this.#knows.get(nodeKey(this.id))?.claims ?? NO_CLAIMS;
  }

  #setOurs(claims: NodeClaims): void {
    this.#knows.set(nodeKey(this.id), { node: this.id, claims });
  }
}

/** A participant that never votes (`--ipalloc-init observer`): it waits for a ring from electors. */
export class PaxosObserver implements PaxosParticipant {
  readonly isElector = false;
  gossipState(): undefined {
    return undefined;
  }
  update(_from: PaxosGossip): boolean {
    return false;
  }
  setQuorum(_quorum: number): void {}
  propose(): void {}
  think(): boolean {
    return false;
  }
  consensus(): undefined {
    return undefined;
  }
  status(): undefined {
    return undefined;
  }
}
