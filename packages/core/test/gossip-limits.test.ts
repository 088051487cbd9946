// A peer that sends an oversized topology update loses its connection; the router and its other
// connections carry on (decode errors propagate to Connection.shutdown of that connection only).
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import {
  type Endpoint,
  type PeerName,
  parsePeerName,
  peerNameToNumber,
  Router,
  type StreamConnection,
  type StreamConnectionEvents,
  type StreamTransport,
} from '@weave-ts/core';
import {
  decodeFeatures,
  decodeTopology,
  encodeFeatures,
  encodeTopology,
  GobEncoder,
  GobLimitError,
  MAX_FEATURES,
  MAX_TOPOLOGY_PEERS,
  ProtocolTag,
  t,
  TopologyDecodeError,
} from '@weave-ts/core/protocol';
import { SeededRandom, VirtualClock } from '@weave-ts/core/testing';
import { flush, peerFeatures, remoteStream } from './handshake-helpers.js';

/** A dialled connection that plays `bytes` once our side has written its header. */
class ScriptedConnection extends EventEmitter<StreamConnectionEvents> implements StreamConnection {
  closed: Error | undefined | null = null;
  private started = false;
  constructor(
    readonly local: Endpoint,
    readonly remote: Endpoint,
    private readonly bytes: Uint8Array,
  ) {
    super();
  }
  write(): void {
    if (this.started) return;
    this.started = true;
    setImmediate(() => this.emit('data', this.bytes));
  }
  close(error?: Error): void {
    if (this.closed !== null) return;
    this.closed = error;
    this.emit('close', error);
  }
}

const name = (n: number): PeerName => parsePeerName(`0a:00:00:00:00:0${n}`);

/** A topology update describing `count` distinct peers with no connections. */
function manyPeers(count: number): Uint8Array {
  return encodeTopology(
    Array.from({ length: count }, (_, i) => ({
      peer: {
        name: parsePeerName(
          `0b:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        ),
        nickname: '',
        uid: 1n,
        version: 1,
        shortId: 0,
        hasShortId: false,
      },
      connections: [],
    })),
  );
}

/** A tag-4 gossip message on the topology channel from `from`. */
function topologyGossip(from: PeerName, payload: Uint8Array): Uint8Array {
  const body = new GobEncoder()
    .encode(t.string, 'topology')
    .encode(t.uint, Number(peerNameToNumber(from)))
    .encode(t.bytes, payload)
    .finish();
  const msg = new Uint8Array(body.length + 1);
  msg[0] = ProtocolTag.Gossip;
  msg.set(body, 1);
  return msg;
}

describe('oversized gossip closes only the connection that sent it', () => {
  it('refuses a topology update with too many peers (TopologyDecodeError)', () => {
    const e = (() => {
      try {
        decodeTopology(manyPeers(MAX_TOPOLOGY_PEERS + 1));
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(TopologyDecodeError);
    expect((e as Error).message).toMatch(/more than 16384 peers/);
    expect(decodeTopology(manyPeers(100))).toHaveLength(100);
  });

  it('the router closes the hostile connection and keeps the other one', async () => {
    const conns = new Map<string, ScriptedConnection>();
    const scripts: Record<string, Uint8Array> = {
      '10.9.0.2': remoteStream({ features: peerFeatures(2, 22n) }),
      '10.9.0.3': remoteStream({
        features: peerFeatures(3, 33n),
        extra: [topologyGossip(name(3), manyPeers(MAX_TOPOLOGY_PEERS + 1))],
      }),
    };
    const transport: StreamTransport = {
      listen: async (local) => ({ local, close: async () => {} }),
      dial: async (remote) => {
        const c = new ScriptedConnection({ host: '10.9.0.1', port: 40000 }, remote, scripts[remote.host]!);
        conns.set(remote.host, c);
        return c;
      },
    };
    const router = new Router({
      name: name(1),
      nickname: 'one',
      host: '10.9.0.1',
      transport,
      clock: new VirtualClock(),
      random: new SeededRandom(1),
    });
    const closed: [string, Error | undefined][] = [];
    router.on('connectionClosed', (_remote, address, error) => closed.push([address, error]));
    await router.start();
    router.connect(['10.9.0.2', '10.9.0.3']);
    (router.clock as VirtualClock).advance(1);
    for (let i = 0; i < 200; i++) await flush();

    expect(conns.get('10.9.0.3')?.closed).toBeInstanceOf(TopologyDecodeError);
    expect(closed).toHaveLength(1);
    expect(closed[0]![0]).toBe('10.9.0.3:6783');
    expect(closed[0]![1]?.message).toMatch(/more than 16384 peers/);
    expect(conns.get('10.9.0.2')?.closed).toBeNull();
    const states = Object.fromEntries(router.status().connections.map((c) => [c.address, c.state]));
    expect(states).toEqual({ '10.9.0.2:6783': 'established', '10.9.0.3:6783': 'failed' });
    await router.stop();
  });
});

describe('the features map (read before authentication)', () => {
  it('refuses more than MAX_FEATURES entries before allocating them', () => {
    const many = new GobEncoder()
      .encode(
        t.map(t.string, t.string),
        new Map(Array.from({ length: MAX_FEATURES + 1 }, (_, i) => [`k${i}`, 'v'])),
      )
      .finish();
    expect(() => decodeFeatures(many)).toThrow(GobLimitError);
    const ok = encodeFeatures({ Name: 'x' });
    expect(decodeFeatures(ok)).toEqual({ Name: 'x' });
  });
});
