// How the sleeve drives an offload (the native fast path): connections registered per forwarder and
// kept in step with its state, flows passed on only once established, flushed on route changes, and
// everything released when forwarders or the overlay stop. A recording fake stands in for the addon.
import type { FastPathConnectionState, FastPathStats } from '@weave-ts/host';
import { type ForwardPacketKey, peerNameToBytes } from '@weave-ts/core';
import { describe, expect, it } from 'vitest';
import type { OffloadConnection, SleeveOffload } from '../src/index.js';
import { A, B, B_ADDR, establish, makePair } from './harness.js';

const ZERO_STATS: FastPathStats = {
  framesSent: 7,
  datagramsSent: 0,
  framesReceived: 0,
  datagramsReceived: 0,
  duplicates: 0,
  sendErrors: 0,
  tooBig: 0,
  tapDrops: 0,
};

class FakeConnection implements OffloadConnection {
  readonly states: FastPathConnectionState[] = [];
  readonly sends: string[] = [];
  removed = false;
  constructor(
    readonly peer: Uint8Array,
    readonly outbound: boolean,
  ) {}
  set(state: FastPathConnectionState): void {
    this.states.push(state);
  }
  offerSend(srcMac: number, dstMac: number, dstName: Uint8Array): void {
    this.sends.push(`${srcMac}>${dstMac}@${Buffer.from(dstName).toString('hex')}`);
  }
  seal(): Uint8Array {
    throw new Error('unencrypted connections never seal through the offload');
  }
  open(): Uint8Array {
    throw new Error('unencrypted connections never open through the offload');
  }
  remove(): void {
    this.removed = true;
  }
  get last(): FastPathConnectionState | undefined {
    return this.states.at(-1);
  }
}

class FakeOffload implements SleeveOffload {
  readonly connections: FakeConnection[] = [];
  readonly events: string[] = [];
  addConnection(peerName: Uint8Array, _key: Uint8Array | undefined, outbound: boolean): FakeConnection {
    const conn = new FakeConnection(peerName.slice(), outbound);
    this.connections.push(conn);
    return conn;
  }
  offerDeliver(srcName: Uint8Array, srcMac: number, dstMac: number): void {
    this.events.push(`deliver ${Buffer.from(srcName).toString('hex')} ${srcMac}>${dstMac}`);
  }
  flush(): void {
    this.events.push('flush');
  }
  stats(): FastPathStats {
    return ZERO_STATS;
  }
  close(): void {
    this.events.push('close');
  }
}

const KEY: ForwardPacketKey = { srcPeer: A, dstPeer: B };

describe('sleeve offload (fast path) control', () => {
  it('registers each forwarder and enables it only once established, with its verified MTU', () => {
    const offload = new FakeOffload();
    const pair = makePair({ offloadA: offload });
    const [conn] = offload.connections as [FakeConnection];
    expect(Buffer.from(conn.peer).equals(Buffer.from(peerNameToBytes(B)))).toBe(true);
    expect(conn.outbound).toBe(true);
    expect(conn.states.every((s) => !s.enabled)).toBe(true);
    establish(pair, 2000);
    expect(pair.fa.established).toBe(true);
    expect(conn.last).toEqual({
      enabled: true,
      remote: B_ADDR,
      mtu: pair.fa.mtu,
      maxPayload: expect.any(Number),
      stackFrag: expect.any(Boolean),
    });
    expect(pair.fa.mtu).toBe(1438);
    // The DF payload limit is the path MTU less the IP and UDP headers, as JS packs datagrams.
    expect(conn.last!.maxPayload).toBe(1500 - 28);
  });

  it('passes flows on only once established: sends to the next hop, deliveries to the offload', () => {
    const offload = new FakeOffload();
    const pair = makePair({ offloadA: offload });
    const [conn] = offload.connections as [FakeConnection];
    const send = { kind: 'send', srcMac: 1, dstMac: 2, key: KEY, via: B } as const;
    pair.fa.confirm();
    pair.overlayA.offerFlows([send]);
    expect(conn.sends).toEqual([]); // not established yet
    establish(pair, 2000);
    pair.overlayA.offerFlows([send, { kind: 'deliver', srcPeer: B, srcMac: 3, dstMac: 4 }]);
    expect(conn.sends).toEqual([`1>2@${Buffer.from(peerNameToBytes(B)).toString('hex')}`]);
    expect(offload.events).toEqual([`deliver ${Buffer.from(peerNameToBytes(B)).toString('hex')} 3>4`]);
    // A next hop without a forwarder: nothing to offer to.
    pair.overlayA.offerFlows([{ ...send, via: A }]);
    expect(conn.sends).toHaveLength(1);
  });

  it('flushes on route changes, reports its stats, and releases everything on stop', async () => {
    const offload = new FakeOffload();
    const pair = makePair({ offloadA: offload });
    establish(pair, 2000);
    pair.overlayA.invalidateRoutes();
    expect(offload.events).toEqual(['flush']);
    expect(pair.overlayA.diagnostics().fastPath).toEqual(ZERO_STATS);
    await pair.overlayA.stop();
    expect(offload.connections[0]!.removed).toBe(true);
    expect(offload.events).toEqual(['flush', 'close']);
    pair.overlayA.invalidateRoutes();
    pair.overlayA.offerFlows([{ kind: 'deliver', srcPeer: B, srcMac: 3, dstMac: 4 }]);
    expect(offload.events).toEqual(['flush', 'close']);
  });

  it('removes a failed forwarder’s connection (heartbeat timeout)', () => {
    const offload = new FakeOffload();
    const pair = makePair({ offloadA: offload });
    pair.fa.confirm(); // B never answers
    pair.clock.advance(61_000);
    expect(pair.events).toContain('A error: timed out waiting for UDP heartbeat');
    expect(offload.connections[0]!.removed).toBe(true);
  });
});
