import type { GossipData, Gossiper, GossipReceiver, PeerName } from '@weave-ts/core';
import { VirtualClock } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { formatCIDR } from '../src/address.js';
import { Allocator } from '../src/allocator.js';
import {
  decodeGossipState,
  decodeRangeMessage,
  encodeGossipState,
  IPAM_CHANNEL,
  IpamMessageKind,
} from '../src/ipam-gossip.js';
import { seededRandom } from './seeded-random.js';
import { A, B, base, bytes, C } from './golden-ipam.js';

/** A gossiper that hands us the receiver and records what the allocator sends. */
function recordingGossiper() {
  const sent: { kind: 'unicast' | 'broadcast' | 'gossip'; to?: PeerName; payload: Uint8Array }[] = [];
  let receiver: GossipReceiver | undefined;
  const gossiper: Gossiper = {
    registerChannel: (name, r) => {
      expect(name).toBe(IPAM_CHANNEL);
      receiver = r;
      // Like the router, encode when the message leaves (after the action finished), not when queued.
      const all = (kind: 'broadcast' | 'gossip') => (data: GossipData) => {
        sent.push({
          kind,
          get payload() {
            return data.encode()[0]!;
          },
        });
      };
      return {
        name,
        gossipUnicast: (to, payload) => sent.push({ kind: 'unicast', to, payload }),
        gossipBroadcast: all('broadcast'),
        gossipNeighbourSubset: all('gossip'),
      };
    },
  };
  return { gossiper, sent, receiver: () => receiver! };
}

/** A's UID in the capture: our A plays that very node. */
const uidOfA = decodeGossipState(bytes('paxosBothPromisedBAccepted')).paxos!.find((k) => k.node.name === A)!
  .node.uid;

function hostA() {
  const g = recordingGossiper();
  const alloc = new Allocator({
    ourName: A,
    ourUid: uidOfA,
    nickname: 'hostA',
    range: '172.16.16.0/24',
    gossiper: g.gossiper,
    isKnownPeer: () => true,
    clock: new VirtualClock(),
    random: seededRandom(1),
  });
  alloc.start();
  return { ...g, alloc };
}

describe('IPallocation payloads of Weave 2.8.1 through our receiver', () => {
  it('decodes every captured payload and re-encodes it to the same content', () => {
    for (const key of ['paxosBothPromisedBAccepted', 'ringAfterFirstAllocations', 'ringAfterDonation']) {
      const state = decodeGossipState(bytes(key));
      expect(decodeGossipState(encodeGossipState(state))).toEqual(state);
    }
    const update = bytes('ringUpdateToC');
    expect(update[0]).toBe(IpamMessageKind.RingUpdate);
    expect(decodeGossipState(update.subarray(1)).paxos).toBeUndefined(); // nil once the ring exists
    const request = bytes('spaceRequestFromC');
    expect(request[0]).toBe(IpamMessageKind.SpaceRequest);
    expect(decodeRangeMessage(request.subarray(1))).toEqual({ start: base, end: base + 256 });
  });

  it("plays host A: Paxos, B's ring, C's space request, and answers as upstream did", async () => {
    const a = hostA();
    const receiver = a.receiver();

    // B's broadcast while electing: an idle A promises but does not decide on its own.
    expect(receiver.onGossipBroadcast(B, bytes('paxosBothPromisedBAccepted'))).toBeDefined();
    expect(a.alloc.ringEntries()).toEqual([]);
    const promised = a.sent.find((m) => m.kind === 'broadcast');
    const claims = decodeGossipState(promised!.payload).paxos!;
    expect(claims).toHaveLength(2);
    // A now accepts B's round-1 proposal too.
    expect(claims.find((k) => k.node.name === A)!.claims.accepted).toEqual(
      claims.find((k) => k.node.name === B)!.claims.accepted,
    );

    // B reached consensus and broadcast its fresh ring: that ends A's election.
    const fresh = {
      start: base,
      end: base + 256,
      peer: B,
      entries: [
        { token: base, peer: A, version: 0, free: 128 },
        { token: base + 128, peer: B, version: 0, free: 128 },
      ],
      seeds: [A, B],
    };
    receiver.onGossipBroadcast(
      B,
      encodeGossipState({ now: 0n, nicknames: new Map(), paxos: undefined, ring: fresh }),
    );
    expect(a.alloc.status()).toBe('ready');

    // web1 on A, then B's gossip after web2: both copies agree.
    let web1 = '';
    a.alloc.allocate('web1cid0000000000').then((c) => {
      web1 = formatCIDR(c);
    });
    await Promise.resolve();
    expect(web1).toBe('172.16.16.1/24');
    expect(receiver.onGossip(bytes('ringAfterFirstAllocations'))).toBeUndefined();
    expect(a.alloc.ringEntries()).toEqual(
      decodeGossipState(bytes('ringAfterFirstAllocations')).ring!.entries,
    );

    // C appears and asks A for space.
    const cHello = encodeGossipState({
      now: 0n,
      nicknames: new Map([[C, 'hostC']]),
      paxos: [],
      ring: undefined,
    });
    receiver.onGossipBroadcast(C, cHello);
    a.sent.length = 0;
    receiver.onGossipUnicast(C, bytes('spaceRequestFromC'));

    const toC = a.sent.filter((m) => m.kind === 'unicast' && m.to === C);
    expect(toC).toHaveLength(1); // space was given, so no denial
    expect(toC[0]!.payload[0]).toBe(IpamMessageKind.RingUpdate);
    const ours = decodeGossipState(toC[0]!.payload.subarray(1));
    const theirs = decodeGossipState(bytes('ringUpdateToC').subarray(1));
    expect({ ...ours, now: 0n }).toEqual({ ...theirs, now: 0n });

    // The broadcast that follows carries the re-reported free space, as A's did.
    const broadcast = a.sent.filter((m) => m.kind === 'broadcast').at(-1)!;
    expect(decodeGossipState(broadcast.payload).ring).toEqual({
      ...decodeGossipState(bytes('ringAfterDonation')).ring,
    });
    expect(a.alloc.lookup('web1cid0000000000').map(formatCIDR)).toEqual(['172.16.16.1/24']);
  });

  it('denies space it does not have, then sends its ring', () => {
    const a = hostA();
    a.receiver().onGossip(bytes('ringAfterFirstAllocations'));
    a.sent.length = 0;
    // C asks A for B's half: A has nothing there.
    const request = Uint8Array.from([
      IpamMessageKind.SpaceRequest,
      ...bytes('spaceRequestFromC').subarray(1),
    ]);
    const asB = decodeRangeMessage(request.subarray(1));
    expect(asB.end - asB.start).toBe(256);
    a.alloc.claim('x', '172.16.16.1/24');
    for (let i = 2; i < 128; i++) a.alloc.claim(`c${i}`, `172.16.16.${i}/24`);
    a.alloc.claim('c0', '172.16.16.0/24');
    a.sent.length = 0;
    a.receiver().onGossipUnicast(C, request);
    expect(a.sent.map((m) => [m.kind, m.payload[0]])).toEqual([
      ['unicast', IpamMessageKind.SpaceRequestDenied],
      ['unicast', IpamMessageKind.RingUpdate],
    ]);
  });

  it('rejects garbage by throwing (the router drops that connection)', () => {
    const a = hostA();
    expect(() => a.receiver().onGossip(Uint8Array.of(1, 2, 3))).toThrow();
    expect(() => a.receiver().onGossipUnicast(C, Uint8Array.of(0, 9, 9))).toThrow();
    // Unknown kinds are ignored, not fatal.
    expect(() => a.receiver().onGossipUnicast(C, Uint8Array.of(42))).not.toThrow();
  });
});
