// Peers' caches: encoded entries of remote peers and the skip of known connection lists.
import { peerNameFromNumber } from '@weave-ts/core';
import { decodeTopology, encodeTopology, LocalPeer, Peers } from '@weave-ts/core/protocol';
import { SeededRandom } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';

const name = (i: number) => peerNameFromNumber(0x0a0000000000 + i);
const conn = (i: number, established = true) => ({
  remoteName: name(i),
  remoteTcpAddr: `10.0.0.${i}:6783`,
  outbound: true,
  established,
});
const summary = (i: number, version: number) => ({
  name: name(i),
  nickname: `n${i}`,
  uid: BigInt(100 + i),
  version,
  shortId: i,
  hasShortId: true,
});

describe('Peers caches', () => {
  it('re-encodes a remote peer once gossip changes it', () => {
    const peers = new Peers(LocalPeer.create(name(1), 'us', new SeededRandom(1)), new SeededRandom(2));
    peers.applyUpdate(encodeTopology([{ peer: summary(2, 1), connections: [conn(1)] }]));
    const before = peers.encodePeers([name(2)]);
    expect(peers.encodePeers([name(2)])).toEqual(before);
    peers.applyUpdate(encodeTopology([{ peer: summary(2, 2), connections: [conn(1), conn(3, false)] }]));
    const after = decodeTopology(peers.encodePeers([name(2)]));
    expect(after[0]!.peer.version).toBe(2);
    expect(after[0]!.connections.map((c) => c.remoteName)).toEqual([name(1), name(3)]);
  });

  it('adds placeholders again for a repeated update after they were collected', () => {
    const peers = new Peers(LocalPeer.create(name(1), 'us', new SeededRandom(1)), new SeededRandom(2));
    const payload = encodeTopology([{ peer: summary(2, 1), connections: [conn(3)] }]);
    peers.applyUpdate(payload);
    expect(peers.fetch(name(3))).toBeDefined();
    // Nothing connects us to 2 or 3: both go.
    expect(
      peers
        .garbageCollect()
        .map((p) => p.name)
        .sort(),
    ).toEqual([name(2), name(3)]);
    peers.applyUpdate(payload);
    expect(peers.fetch(name(2))).toBeDefined();
    expect(peers.fetch(name(3))).toBeDefined();
  });

  it('scans entries given directly (not decoded) every time', () => {
    const peers = new Peers(LocalPeer.create(name(1), 'us', new SeededRandom(1)), new SeededRandom(2));
    const connections = [conn(3)];
    const entries = [{ peer: summary(2, 1), connections }];
    peers.applyEntries(entries);
    connections.push(conn(4));
    peers.applyEntries(entries);
    expect(peers.fetch(name(4))).toBeDefined();
  });
});
