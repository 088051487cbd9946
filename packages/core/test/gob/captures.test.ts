// Every features map and gossip payload a stock Weave 2.8.1 router sent (extracted from
// /work/shared/interop/weaver-2.8.1 into fixtures/gob/weaver-2.8.1-gossip.json) decodes into values
// that make sense for the recorded scenario, and re-encodes, with the sender's type ids, to the same bytes.
import { readFileSync } from 'node:fs';
import {
  decodeGob,
  encodeGob,
  GobDecoder,
  GobEncoder,
  type GobType,
  type Infer,
  t,
} from '@weave-ts/core/protocol';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from './json-values.js';
import * as s from './schemas.js';

interface Captured {
  source: string;
  kind: string;
  hex: string;
}
const captured = (
  JSON.parse(readFileSync(new URL('../fixtures/gob/weaver-2.8.1-gossip.json', import.meta.url), 'utf8')) as {
    messages: Captured[];
  }
).messages;

const PEERS = new Set([1n, 2n, 3n, 4n].map((n) => 0x0a0000000000n | n));
const RANGE_START = 0xac101000; // 172.16.16.0
const RANGE_END = RANGE_START + 256;
const macOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

/** Decodes a stream of values with one decoder and re-encodes them with its ids; checks the bytes match. */
function roundTrip(bytes: Uint8Array, types: (d: GobDecoder) => GobType | undefined): unknown[] {
  const d = new GobDecoder(bytes);
  const values: [GobType, unknown][] = [];
  for (let ty = types(d); ty !== undefined; ty = types(d)) values.push([ty, d.decode(ty)]);
  expect(d.atEnd).toBe(true);
  const e = new GobEncoder({ typeIds: d.typeIds });
  for (const [ty, v] of values) e.encode(ty, v as never);
  expect(bytesToHex(e.finish())).toBe(bytesToHex(bytes));
  return values.map(([, v]) => v);
}

function checkTopology(payload: Uint8Array): number {
  let next: GobType = s.peerSummary;
  const values = roundTrip(payload, (d) => {
    if (d.atEnd) return undefined;
    const ty = next;
    next = ty === s.peerSummary ? s.connections : s.peerSummary;
    return ty;
  });
  expect(values.length % 2).toBe(0);
  for (let i = 0; i < values.length; i += 2) {
    const peer = values[i] as Infer<typeof s.peerSummary>;
    expect(macOf(peer.NameByte)).toMatch(/^0a:00:00:00:00:0[1-4]$/);
    expect(peer.NickName).toMatch(/^(host[ABC]|docker[1-4]|line[1-4])$/);
    expect(peer.HasShortID).toBe(true);
    expect(peer.ShortID).toBeLessThan(4096);
    for (const c of values[i + 1] as Infer<typeof s.connections>) {
      expect(macOf(c.NameByte)).toMatch(/^0a:00:00:00:00:0[1-4]$/);
      expect(c.RemoteTCPAddr).toMatch(/^10\.250\.\d+\.\d+:\d+$/);
    }
  }
  return values.length / 2;
}

function checkIpam(state: Infer<typeof s.gossipState>): void {
  for (const [name, nick] of state.Nicknames) {
    expect(PEERS.has(name)).toBe(true);
    expect(nick).toMatch(/^(host[ABC]|docker[1-4]|line[1-4])$/);
  }
  for (const [node, claims] of state.Paxos) {
    expect(PEERS.has(node.Name)).toBe(true);
    expect(claims.Promise.Round).toBeGreaterThanOrEqual(claims.Accepted.Round);
  }
  if (state.Ring === undefined) return;
  expect([state.Ring.Start, state.Ring.End]).toEqual([RANGE_START, RANGE_END]);
  for (const e of state.Ring.Entries) {
    expect(e!.Token).toBeGreaterThanOrEqual(RANGE_START);
    expect(e!.Token).toBeLessThan(RANGE_END);
    expect(PEERS.has(e!.Peer)).toBe(true);
  }
}

describe('captured Weave 2.8.1 gob', () => {
  it('has the messages the scenario produced', () => {
    expect(captured.length).toBeGreaterThan(300);
  });

  it('decodes and re-encodes every features map', () => {
    const maps = captured.filter((m) => m.kind.startsWith('features'));
    expect(maps.length).toBeGreaterThanOrEqual(8);
    for (const m of maps) {
      const [features] = roundTrip(hexToBytes(m.hex), (d) => (d.atEnd ? undefined : s.features)) as Infer<
        typeof s.features
      >[];
      expect(features!.get('Name')).toMatch(/^0a:00:00:00:00:0[1-4]$/);
      expect(features!.get('PeerNameFlavour')).toBe('mac');
      expect(features!.get('UID')).toMatch(/^\d+$/);
    }
  });

  const channels = new Map<string, number>();
  it('decodes every gossip message and its payload into sensible values, and re-encodes them', () => {
    let peersSeen = 0;
    const hostnames = new Set<string>();
    for (const m of captured.filter((c) => !c.kind.startsWith('features'))) {
      const body = hexToBytes(m.hex);
      const tag = body[0]!;
      // One encoder writes channel, source, [destination,] payload: builtin singletons only.
      const header = [t.string, t.uint64, ...(tag === 5 ? [t.uint64] : []), t.bytes] as const;
      let i = 0;
      const parts = roundTrip(body.subarray(1), (d) => (d.atEnd ? undefined : header[i++]));
      expect(parts.length).toBe(header.length);
      const channel = parts[0] as string;
      expect(PEERS.has(parts[1] as bigint)).toBe(true);
      if (tag === 5) expect(PEERS.has(parts[2] as bigint)).toBe(true);
      const payload = parts[parts.length - 1] as Uint8Array;
      channels.set(channel, (channels.get(channel) ?? 0) + 1);

      if (channel === 'topology') {
        peersSeen += checkTopology(payload);
      } else if (channel === 'IPallocation') {
        // Unicast: a kind byte (0 space request: a Range; 1 ring update: the gossip state), then gob.
        const kind = tag === 5 ? payload[0] : 1;
        const gob = tag === 5 ? payload.subarray(1) : payload;
        if (kind === 0) {
          const [r] = roundTrip(gob, (x) => (x.atEnd ? undefined : s.range)) as Infer<typeof s.range>[];
          expect(r!.Start).toBeGreaterThanOrEqual(RANGE_START);
          expect(r!.End).toBeLessThanOrEqual(RANGE_END + 256);
        } else {
          const [state] = roundTrip(gob, (x) => (x.atEnd ? undefined : s.gossipState)) as Infer<
            typeof s.gossipState
          >[];
          checkIpam(state!);
        }
      } else {
        expect(channel).toBe('nameserver');
        const [data] = roundTrip(payload, (x) => (x.atEnd ? undefined : s.gossipData)) as Infer<
          typeof s.gossipData
        >[];
        for (const e of data!.Entries) {
          hostnames.add(e.Hostname);
          expect(e.ContainerID).toMatch(/^web[123]cid0{10}$/);
          expect(PEERS.has(e.Origin)).toBe(true);
          expect(e.Addr).toBeGreaterThanOrEqual(RANGE_START);
          expect(e.Addr).toBeLessThan(RANGE_END);
        }
      }
    }
    expect(peersSeen).toBeGreaterThan(100);
    expect([...hostnames].sort()).toEqual(['web1.weave.local.', 'web2.weave.local.']);
    expect([...channels.keys()].sort()).toEqual(['IPallocation', 'nameserver', 'topology']);
  });

  it('re-encodes a gossip header from its values alone (builtin types need no ids)', () => {
    const m = captured.find((c) => c.hex.startsWith('04'))!;
    const body = hexToBytes(m.hex).subarray(1);
    const d = new GobDecoder(body);
    const values = [d.decode(t.string), d.decode(t.uint64), d.decode(t.bytes)] as const;
    const fresh = new GobEncoder()
      .encode(t.string, values[0])
      .encode(t.uint64, values[1])
      .encode(t.bytes, values[2]);
    expect(bytesToHex(fresh.finish())).toBe(bytesToHex(body));
  });

  it('re-encodes a captured IPAM state with fresh-process ids to different but equivalent bytes', () => {
    const m = captured.find((c) => c.hex.startsWith('04') && c.hex.includes('4950616c6c6f636174696f6e'))!;
    const d = new GobDecoder(hexToBytes(m.hex).subarray(1));
    d.decode(t.string);
    d.decode(t.uint64);
    const payload = d.decode(t.bytes);
    const state = decodeGob(s.gossipState, payload);
    const fresh = encodeGob(s.gossipState, state);
    expect(fresh.length).toBe(payload.length);
    expect(bytesToHex(fresh)).not.toBe(bytesToHex(payload)); // Weave's process had numbered Ring first
    expect(decodeGob(s.gossipState, fresh)).toEqual(state);
  });
});
