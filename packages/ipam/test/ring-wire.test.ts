import { parsePeerName } from '@weave-ts/core';
import { decodeGob, encodeGob, GobDecoder, GobEncoder, type WireType } from '@weave-ts/core/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireValueOutOfRangeError } from '../src/errors.js';
import { gossipStateType } from '../src/ipam-gossip.js';
import { PaxosNode } from '../src/paxos.js';
import { Ring } from '../src/ring.js';
import type { RingEntry } from '../src/ring-entries.js';
import {
  paxosFromWire,
  paxosToWire,
  rangeFromWire,
  rangeToWire,
  rangeWireType,
  ringFromWire,
  ringToWire,
  ringWireType,
} from '../src/ring-wire.js';
import { A, B, base, bytes, C } from './golden-ipam.js';

const entry = (offset: number, peer: typeof A, free: number, version: number): RingEntry => ({
  token: base + offset,
  peer,
  version,
  free,
});

/** Decodes a captured gossipState and checks that encoding it again, with the sender's ids, gives the same bytes. */
function decodeAndReencode(payload: Uint8Array) {
  const decoder = new GobDecoder(payload);
  const state = decoder.decode(gossipStateType);
  expect(decoder.atEnd).toBe(true);
  const again = new GobEncoder({ typeIds: decoder.typeIds }).encode(gossipStateType, state).finish();
  expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(payload).toString('hex'));
  return state;
}

/** A type graph as text, ids replaced by what they stand for, so two senders' definitions compare. */
function typeGraph(types: ReadonlyMap<number, WireType>, id: number): string {
  const basic: Record<number, string> = { 1: 'bool', 2: 'int', 3: 'uint', 5: 'bytes', 6: 'string' };
  const def = types.get(id);
  if (!def) return basic[id] ?? `?${id}`;
  const sub = (n: number) => typeGraph(types, n);
  switch (def.kind) {
    case 'struct':
      return `struct '${def.name}'{${def.fields.map((f) => `${f.name}: ${sub(f.id)}`).join(', ')}}`;
    case 'slice':
      return `slice '${def.name}'[${sub(def.elem)}]`;
    case 'map':
      return `map '${def.name}'[${sub(def.key)}]${sub(def.elem)}`;
    default:
      return def.kind;
  }
}

function gossipStateGraph(payload: Uint8Array): string {
  const decoder = new GobDecoder(payload);
  decoder.decode(gossipStateType);
  const root = [...decoder.wireTypes.values()].find((w) => w.name === 'gossipState')!;
  return typeGraph(decoder.wireTypes, root.id);
}

describe('IPAM gob schemas against Weave 2.8.1 traffic', () => {
  it('define the same types, with the same Go names, as the captured router', () => {
    for (const key of ['ringAfterFirstAllocations', 'paxosBothPromisedBAccepted']) {
      const captured = bytes(key);
      const fresh = encodeGob(gossipStateType, decodeGob(gossipStateType, captured));
      expect(gossipStateGraph(fresh)).toBe(gossipStateGraph(captured));
    }
    expect(gossipStateGraph(bytes('ringAfterFirstAllocations'))).toContain(
      "Ring: struct 'Ring'{Start: uint, End: uint, Peer: uint, Entries: slice 'entries'[struct ''{Token: uint",
    );
  });

  it('decodes the ring both peers gossiped after their first allocations, byte for byte', () => {
    const state = decodeAndReencode(bytes('ringAfterFirstAllocations'));
    const ring = ringFromWire(state.Ring!);
    expect(ring).toEqual({
      start: base,
      end: base + 256,
      peer: B,
      entries: [entry(0, A, 127, 1), entry(128, B, 127, 1)],
      seeds: [A, B],
    });
    // Our own merge accepts it and agrees on ownership.
    const ours = new Ring(base, base + 256, A);
    expect(ours.merge(ring, () => false)).toBe(true);
    expect(ours.owner(base + 1)).toBe(A);
    expect(ours.owner(base + 128)).toBe(B);
  });

  it("decodes A's ring after donating to C, unicast and then broadcast", () => {
    const unicast = bytes('ringUpdateToC');
    expect(unicast[0]).toBe(1); // msgRingUpdate
    const reply = decodeAndReencode(unicast.subarray(1));
    expect(ringFromWire(reply.Ring!).entries).toEqual([
      entry(0, A, 96, 2),
      entry(96, C, 32, 0),
      entry(128, B, 127, 1),
    ]);
    expect(new Map(reply.Nicknames)).toEqual(
      new Map([
        [0x0a0000000001, 'hostA'],
        [0x0a0000000002, 'hostB'],
        [0x0a0000000003, 'hostC'],
      ]),
    );
    expect(reply.Paxos.size).toBe(0);

    const broadcast = decodeAndReencode(bytes('ringAfterDonation'));
    expect(ringFromWire(broadcast.Ring!).entries).toEqual([
      entry(0, A, 95, 3),
      entry(96, C, 32, 0),
      entry(128, B, 127, 1),
    ]);
  });

  it("decodes C's space request for the whole range", () => {
    const msg = bytes('spaceRequestFromC');
    expect(msg[0]).toBe(0); // msgSpaceRequest
    const body = msg.subarray(1);
    const decoder = new GobDecoder(body);
    const range = rangeFromWire(decoder.decode(rangeWireType));
    expect(range).toEqual({ start: base, end: base + 256 });
    const again = new GobEncoder({ typeIds: decoder.typeIds })
      .encode(rangeWireType, rangeToWire(range))
      .finish();
    expect(Buffer.from(again)).toEqual(Buffer.from(body));
  });

  it('decodes Paxos claims and our elector reaches the same consensus', () => {
    const state = decodeAndReencode(bytes('paxosBothPromisedBAccepted'));
    expect(state.Ring).toBeUndefined();
    const gossip = paxosFromWire(state.Paxos);
    const bId = { name: B, uid: 11206339565063037629n };
    const claimsOf = (name: typeof A) => gossip.find((k) => k.node.name === name)!.claims;
    expect(claimsOf(B).accepted).toEqual({ round: 1, proposer: bId });
    expect(claimsOf(B).acceptedVal.value).toEqual([B, A]); // Go sends names unsorted
    expect(claimsOf(A).promise).toEqual({ round: 1, proposer: bId });
    expect(claimsOf(A).accepted.round).toBe(0);

    // Play A: it hears this, accepts B's proposal, and both then count as a quorum of 2.
    const aId = gossip.find((k) => k.node.name === A)!.node;
    const a = new PaxosNode(A, aId.uid, 2);
    expect(a.update(gossip)).toBe(true);
    expect(a.think()).toBe(true);
    expect(a.consensus()?.origin).toEqual({ round: 1, proposer: bId });
    expect(a.consensus()?.value).toEqual([B, A]);

    // Our encoding of what we decoded is the same map.
    expect(paxosFromWire(paxosToWire(gossip))).toEqual(gossip);
  });
});

describe('ring wire conversion', () => {
  it('round-trips random rings through gob', () => {
    const name = fc.integer({ min: 1, max: 2 ** 48 - 1 });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            token: fc.nat(0xffffffff),
            peer: name,
            version: fc.nat(0xffffffff),
            free: fc.nat(255),
          }),
        ),
        fc.array(name, { maxLength: 5 }),
        (raw, seeds) => {
          const state = {
            start: 0,
            end: 0xffffffff,
            peer: parsePeerName('0a::1'),
            entries: raw.map((e) => ({ ...e, peer: ringFromWire({ ...emptyWire, Peer: e.peer }).peer })),
            seeds: seeds.map((s) => ringFromWire({ ...emptyWire, Peer: s }).peer),
          };
          const decoded = ringFromWire(decodeGob(ringWireType, encodeGob(ringWireType, ringToWire(state))));
          expect(decoded).toEqual(state);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects values that do not fit the Go types', () => {
    expect(() => ringFromWire({ ...emptyWire, Start: 2 ** 32 })).toThrow(WireValueOutOfRangeError);
    expect(() => ringFromWire({ ...emptyWire, Peer: 2 ** 48 })).toThrow(WireValueOutOfRangeError);
    expect(() =>
      ringFromWire({ ...emptyWire, Entries: [{ Token: 1, Peer: 1, Version: 2 ** 32, Free: 0 }] }),
    ).toThrow('IPAM message: entry.Version out of range: 4294967296');
    expect(() => rangeFromWire({ Start: -1, End: 3 })).toThrow(WireValueOutOfRangeError);
  });
});

const emptyWire = { Start: 0, End: 1, Peer: 1, Entries: [], Seeds: [] };
