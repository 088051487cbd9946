import { parsePeerName, peerNameFromNumber, type Random } from '@weave-ts/core';
import { describe, expect, it } from 'vitest';
import { QuorumNotSetError } from '../src/errors.js';
import {
  type AcceptedValue,
  PaxosNode,
  PaxosObserver,
  proposalPrecedes,
  sameProposal,
} from '../src/paxos.js';
import { seededRandom } from './seeded-random.js';

const nameA = parsePeerName('0a:00:00:00:00:01');
const nameB = parsePeerName('0a:00:00:00:00:02');

describe('PaxosNode', () => {
  it('reaches consensus alone with quorum 1 (upstream TestSingleNode)', () => {
    const node = new PaxosNode(nameA, 5n, 1);
    expect(node.consensus()).toBeUndefined();
    node.propose();
    const agreed = node.consensus();
    expect(agreed?.value).toEqual([nameA]);
    expect(agreed?.origin).toEqual({ round: 1, proposer: { name: nameA, uid: 5n } });
  });

  it('needs a quorum before proposing', () => {
    const node = new PaxosNode(nameA, 1n);
    expect(() => node.propose()).toThrow(QuorumNotSetError);
    node.setQuorum(2);
    node.propose();
    expect(node.consensus()).toBeUndefined();
    expect(node.status()).toEqual({ knownNodes: 1, quorum: 2 });
  });

  it('two electors agree on both names, in order (as in the captured A/B exchange)', () => {
    const a = new PaxosNode(nameA, 2033597239723757811n, 2);
    const b = new PaxosNode(nameB, 11206339565063037629n, 2);
    // B's allocation starts the election; A hears of it and promises.
    b.propose();
    expect(a.update(b.gossipState())).toBe(true);
    expect(a.think()).toBe(true);
    expect(a.status()).toEqual({ knownNodes: 2, quorum: 2 });
    // B sees a quorum of promises and accepts its own proposal with the names it knows.
    expect(b.update(a.gossipState())).toBe(true);
    expect(b.think()).toBe(true);
    expect(b.consensus()).toBeUndefined();
    // A accepts too; both now see consensus.
    a.update(b.gossipState());
    a.think();
    b.update(a.gossipState());
    expect(b.update(a.gossipState())).toBe(false);
    for (const node of [a, b]) {
      const agreed = node.consensus();
      expect(agreed?.value).toEqual([nameA, nameB]);
      expect(agreed?.origin).toEqual({ round: 1, proposer: { name: nameB, uid: 11206339565063037629n } });
    }
  });

  it('proposes above every round it has seen', () => {
    const a = new PaxosNode(nameA, 1n, 3);
    const b = new PaxosNode(nameB, 2n, 3);
    b.propose();
    b.propose();
    a.update(b.gossipState());
    a.propose();
    const mine = a.gossipState().find((k) => k.node.name === nameA)!;
    expect(mine.claims.promise.round).toBe(3);
  });

  it('orders proposals by round, then name, then UID', () => {
    const p = (round: number, name: string, uid: bigint) => ({
      round,
      proposer: { name: parsePeerName(name), uid },
    });
    expect(proposalPrecedes(p(1, '0a::2', 9n), p(2, '0a::1', 0n))).toBe(true);
    expect(proposalPrecedes(p(2, '0a::1', 9n), p(2, '0a::2', 0n))).toBe(true);
    expect(proposalPrecedes(p(2, '0a::1', 1n), p(2, '0a::1', 2n))).toBe(true);
    expect(proposalPrecedes(p(2, '0a::1', 2n), p(2, '0a::1', 2n))).toBe(false);
    expect(sameProposal(p(2, '0a::1', 2n), p(2, '0a::1', 2n))).toBe(true);
  });
});

describe('PaxosObserver', () => {
  it('never votes, gossips nothing and has no status', () => {
    const observer = new PaxosObserver();
    observer.setQuorum(1);
    observer.propose();
    expect(observer.isElector).toBe(false);
    expect(observer.gossipState()).toBeUndefined();
    expect(observer.update(new PaxosNode(nameA, 1n, 1).gossipState())).toBe(false);
    expect(observer.think()).toBe(false);
    expect(observer.consensus()).toBeUndefined();
    expect(observer.status()).toBeUndefined();
  });
});

/** Upstream TestPaxos: random topologies, lossy-looking gossip order, re-proposals and isolations. */
describe('Paxos under random gossip (upstream TestPaxos)', () => {
  it('every run converges and all nodes agree on one proposal', () => {
    const random = seededRandom(20240601);
    for (let run = 0; run < 120; run++) {
      const model = new Model(random, {
        nodeCount: 10,
        connectedProb: 0.5,
        reproposeProb: 0.01,
        isolateProb: 0.01,
      });
      expect(model.simulate()).toBe(true);
      model.validate();
    }
  });

  it('a single node converges', () => {
    const model = new Model(seededRandom(1), {
      nodeCount: 1,
      connectedProb: 0,
      reproposeProb: 0,
      isolateProb: 0,
    });
    expect(model.simulate()).toBe(true);
    model.validate();
  });
});

interface Params {
  nodeCount: number;
  connectedProb: number;
  reproposeProb: number;
  isolateProb: number;
}

interface TestNode {
  node: PaxosNode;
  links: Link[];
  isolated: boolean;
  firstConsensus: AcceptedValue | undefined;
}

interface Link {
  from: TestNode;
  to: TestNode;
  converse?: Link;
}

class Model {
  readonly quorum: number;
  readonly nodes: TestNode[] = [];
  /** Links worth gossiping along: the sender changed since it last gossiped there. */
  readonly ready = new Set<Link>();

  constructor(
    readonly random: Random,
    readonly params: Params,
  ) {
    this.quorum = Math.floor(params.nodeCount / 2) + 1;
    for (let i = 0; i < params.nodeCount; i++) {
      // Two nodes per name: restarted peers keep their name but not their UID.
      const node = new PaxosNode(
        peerNameFromNumber(Math.floor(i / 2) + 1),
        BigInt(random.int(2 ** 48)),
        this.quorum,
      );
      node.propose();
      this.nodes.push({ node, links: [], isolated: false, firstConsensus: undefined });
    }
    for (let i = 1; i < this.nodes.length; i++) {
      let connected = false;
      for (let j = 0; j < i; j++) {
        if (random.float() < params.connectedProb) {
          connected = true;
          this.addLink(this.nodes[i]!, this.nodes[j]!);
        }
      }
      if (!connected) this.addLink(this.nodes[i]!, this.nodes[random.int(i)]!);
    }
  }

  addLink(a: TestNode, b: TestNode): void {
    if (a === b) return;
    const ab: Link = { from: a, to: b };
    const ba: Link = { from: b, to: a, converse: ab };
    ab.converse = ba;
    a.links.push(ab);
    b.links.push(ba);
    this.ready.add(ab).add(ba);
  }

  nodeChanged(n: TestNode): void {
    for (const l of n.links) this.ready.add(l);
  }

  isolate(n: TestNode): void {
    n.isolated = true;
    for (const l of n.links) {
      this.ready.delete(l);
      this.ready.delete(l.converse!);
    }
    // Keep the rest connected so a quorum can still be reached.
    for (let i = 1; i < n.links.length; i++) this.addLink(n.links[i - 1]!.to, n.links[i]!.to);
  }

  pickNode(): TestNode {
    for (;;) {
      const n = this.nodes[this.random.int(this.nodes.length)]!;
      if (!n.isolated) return n;
    }
  }

  simulate(): boolean {
    let nodesLeft = this.nodes.length;
    for (let step = 0; step < 100_000; step++) {
      if (this.ready.size === 0) {
        // Quiet: either agreed, or agreement became impossible (proposer isolated); propose again.
        if (this.nodes.some((n) => n.node.consensus())) return true;
        const n = this.pickNode();
        n.node.propose();
        this.nodeChanged(n);
      }
      const links = [...this.ready];
      const link = links[this.random.int(links.length)]!;
      const target = link.to;
      if (target.node.update(link.from.node.gossipState())) {
        target.node.think();
        target.firstConsensus ??= target.node.consensus();
        this.nodeChanged(target);
      }
      this.ready.delete(link);

      if (this.random.float() < this.params.reproposeProb) {
        const n = this.pickNode();
        n.node.propose();
        this.nodeChanged(n);
      }
      if (nodesLeft > this.quorum && this.random.float() < this.params.isolateProb) {
        this.isolate(this.pickNode());
        nodesLeft--;
        const n = this.pickNode();
        n.node.propose();
        this.nodeChanged(n);
      }
    }
    return false;
  }

  validate(): void {
    const origins = this.nodes.map((n) => {
      const agreed = n.node.consensus();
      expect(agreed).toBeDefined();
      if (n.firstConsensus) expect(sameProposal(n.firstConsensus.origin, agreed!.origin)).toBe(true);
      return agreed!.origin;
    });
    for (const origin of origins) expect(sameProposal(origin, origins[0]!)).toBe(true);
  }
}
