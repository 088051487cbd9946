import type { GossipChannel, GossipData, Gossiper, GossipReceiver, PeerName } from '@weave-ts/core';
import { parsePeerName } from '@weave-ts/core';
import { VirtualClock } from '@weave-ts/core/testing';
import { Allocator, type AllocatorOptions } from '../src/allocator.js';
import { parseInitMode } from '../src/init-mode.js';
import { seededRandom } from './seeded-random.js';

/**
 * A tiny fully-connected gossip fabric for allocator unit tests (the role of upstream's
 * `testing/gossip.TestRouter`): messages are queued and delivered by {@link flush}, so a test decides
 * when the network moves; peers can be paused (messages to them wait) or removed (unreachable).
 */
export class FakeGossipNet {
  readonly clock = new VirtualClock();
  readonly #receivers = new Map<PeerName, GossipReceiver>();
  readonly #paused = new Set<PeerName>();
  #queue: { to: PeerName; deliver: (r: GossipReceiver) => void }[] = [];
  /** Errors receivers threw (each would have dropped a connection). */
  readonly errors: Error[] = [];
  /** Every message sent: `<from> -> <to|*> <kind>`. */
  readonly log: string[] = [];

  /** The gossiper peer `name` registers on. */
  gossiper(name: PeerName): Gossiper {
    return { registerChannel: (channel, receiver) => this.#register(name, channel, receiver) };
  }

  #register(from: PeerName, name: string, receiver: GossipReceiver): GossipChannel {
    this.#receivers.set(from, receiver);
    const toOthers = (
      data: GossipData,
      kind: string,
      deliver: (r: GossipReceiver, p: Uint8Array) => void,
    ) => {
      this.log.push(`${from} -> * ${kind}`);
      for (const to of this.#receivers.keys()) {
        if (to === from) continue;
        this.#queue.push({
          to,
          deliver: (r) => {
            for (const p of data.encode()) deliver(r, p);
          },
        });
      }
    };
    return {
      name,
      gossipUnicast: (dst, msg) => {
        if (!this.#receivers.has(dst)) throw new Error(`unknown relay destination: ${dst}`);
        this.log.push(`${from} -> ${dst} unicast ${msg[0]}`);
        const copy = msg.slice();
        this.#queue.push({ to: dst, deliver: (r) => r.onGossipUnicast(from, copy) });
      },
      gossipBroadcast: (data) => toOthers(data, 'broadcast', (r, p) => r.onGossipBroadcast(from, p)),
      gossipNeighbourSubset: (data) => toOthers(data, 'gossip', (r, p) => r.onGossip(p)),
    };
  }

  /** Delivers queued messages (and what they cause) until none is left for an unpaused peer. */
  async flush(): Promise<void> {
    for (let rounds = 0; rounds < 100_000; rounds++) {
      await Promise.resolve();
      const i = this.#queue.findIndex((m) => !this.#paused.has(m.to));
      if (i < 0) return;
      const [msg] = this.#queue.splice(i, 1);
      const receiver = this.#receivers.get(msg!.to);
      if (!receiver) continue;
      try {
        msg!.deliver(receiver);
      } catch (error) {
        this.errors.push(error as Error);
      }
    }
    throw new Error('gossip never settled');
  }

  /** Sends the full state of every peer to every other (periodic gossip). */
  gossipAll(): void {
    for (const [from, r] of this.#receivers) {
      const data = r.gossip();
      if (!data) continue;
      for (const to of this.#receivers.keys()) {
        if (to !== from)
          this.#queue.push({
            to,
            deliver: (rr) => {
              for (const p of data.encode()) rr.onGossip(p);
            },
          });
      }
    }
  }

  /** Holds messages to `name` until resumed. */
  pause(name: PeerName): () => void {
    this.#paused.add(name);
    return () => this.#paused.delete(name);
  }

  /** Takes `name` off the network: unicasts to it fail, queued messages are dropped. */
  removePeer(name: PeerName): void {
    this.#receivers.delete(name);
    this.#queue = this.#queue.filter((m) => m.to !== name);
  }

  has(name: PeerName): boolean {
    return this.#receivers.has(name);
  }

  /** Moves virtual time on (allocator ticks), then delivers what that caused. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.flush();
  }
}

/** Upstream-style test names: `0i:00:00:02:00:00`. */
export const testName = (i: number): PeerName =>
  parsePeerName(`${(i + 1).toString(16).padStart(2, '0')}:00:00:02:00:00`);

/** An allocator on the fake network (started). */
export function makeAllocator(
  net: FakeGossipNet,
  name: PeerName,
  range: string,
  extra: Partial<AllocatorOptions> = {},
): Allocator {
  const alloc = new Allocator({
    ourName: name,
    ourUid: BigInt(Number.parseInt(name.slice(0, 2), 16)),
    nickname: `nick-${name.slice(0, 2)}`,
    range,
    gossiper: net.gossiper(name),
    isKnownPeer: (peer) => net.has(peer),
    clock: net.clock,
    random: seededRandom(Number.parseInt(name.slice(0, 2), 16)),
    ...extra,
  });
  alloc.start();
  return alloc;
}

/** `n` allocators sharing a ring seeded with all of them (upstream `makeNetworkOfAllocators`). */
export function makeNetwork(n: number, range: string, seed = 1): { net: FakeGossipNet; allocs: Allocator[] } {
  const net = new FakeGossipNet();
  const names = Array.from({ length: n }, (_, i) => testName(i));
  const mode = parseInitMode(`seed=${names.join(',')}`);
  const allocs = names.map((name, i) =>
    makeAllocator(net, name, range, { mode, random: seededRandom(seed * 1000 + i) }),
  );
  return { net, allocs };
}
