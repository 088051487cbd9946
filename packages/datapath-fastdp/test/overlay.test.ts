// The fastdp control plane on an in-memory dataplane and a virtual clock: heartbeats and acks,
// health (timeout → unhealthy → recovery), the overlay switch falling back to sleeve and back,
// refusals with their reasons, tunnel ids on forwarded frames, misses, and flow offers.
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import {
  type DatapathConnection,
  type FlowOffer,
  type NetworkOverlay,
  type OverlayConnectionEvents,
  type OverlayConnectionParams,
  type OverlayFrame,
  OverlaySwitch,
  type PeerName,
} from '@weave-ts/core';
import { VirtualClock } from '@weave-ts/core/testing';
import {
  FastdpEncryptionUnsupportedError,
  FastdpOverlay,
  NoShortIdError,
  parseHeartbeat,
  type ShortIdDirectory,
  tunnelIdFor,
} from '../src/index.js';
import { MemoryDataplane, MemoryTunnel } from './memory-dataplane.js';

const A = '0a:00:00:00:00:01' as PeerName;
const B = '0a:00:00:00:00:02' as PeerName;
const C = '0a:00:00:00:00:03' as PeerName;
const SHORT: Record<string, number> = { [A]: 1, [B]: 2, [C]: 3 };

function directory(self: PeerName): ShortIdDirectory {
  return {
    localShortId: () => SHORT[self]!,
    shortIdOf: (p) => SHORT[p],
    peerOf: (id) => Object.keys(SHORT).find((k) => SHORT[k] === id) as PeerName | undefined,
  };
}

interface Side {
  overlay: FastdpOverlay;
  plane: MemoryDataplane;
  received: OverlayFrame[];
}

function side(
  clock: VirtualClock,
  tunnel: MemoryTunnel,
  self: PeerName,
  ip: string,
  timeoutMs?: number,
): Side {
  const plane = new MemoryDataplane(tunnel, ip);
  const overlay = new FastdpOverlay({
    localPeer: self,
    dataplane: plane,
    shortIds: directory(self),
    clock,
    // A shorter timeout needs a shorter slow interval too, or health flaps between heartbeats.
    ...(timeoutMs ? { heartbeat: { timeoutMs, slowMs: timeoutMs / 3 } } : {}),
  });
  const received: OverlayFrame[] = [];
  overlay.onFramesReceived((frames) => received.push(...frames));
  return { overlay, plane, received };
}

/** Connection parameters of A (outbound, dialled B's 6783) and B (inbound). */
function params(
  outbound: boolean,
  send: (tag: number, msg: Uint8Array) => void,
  extra: Partial<OverlayConnectionParams> = {},
): OverlayConnectionParams {
  const a = { host: '10.0.0.1', port: 41000 };
  const b = { host: '10.0.0.2', port: 6783 };
  return {
    remotePeer: outbound
      ? { name: B, nickname: 'b', uid: 2n, shortId: 2 }
      : { name: A, nickname: 'a', uid: 1n, shortId: 1 },
    local: outbound ? a : b,
    remote: outbound ? b : a,
    outbound,
    connUID: 0x1234n,
    features: {},
    sendControlMessage: send,
    ...extra,
  };
}

function world(timeoutMs?: number) {
  const clock = new VirtualClock();
  const tunnel = new MemoryTunnel();
  const a = side(clock, tunnel, A, '10.0.0.1', timeoutMs);
  const b = side(clock, tunnel, B, '10.0.0.2', timeoutMs);
  return { clock, tunnel, a, b };
}

/** Connects the two overlays directly (control messages unframed) and confirms both ends. */
function connect(w: ReturnType<typeof world>) {
  let fa: DatapathConnection | undefined;
  let fb: DatapathConnection | undefined;
  fa = w.a.overlay.prepareConnection(params(true, (t, m) => fb!.controlMessage(t, m)));
  fb = w.b.overlay.prepareConnection(params(false, (t, m) => fa!.controlMessage(t, m)));
  const health: [string, boolean, string | undefined][] = [];
  fa.onHealthChange!((ok, why) => health.push(['a', ok, why?.message]));
  fb.onHealthChange!((ok, why) => health.push(['b', ok, why?.message]));
  fa.confirm();
  fb.confirm();
  return { fa, fb, health };
}

const heartbeatsFrom = (tunnel: MemoryTunnel, ip: string) =>
  tunnel.sent.filter((s) => s.from === ip && s.frame.length === 14 + 1376 && s.frame[0] === 0).length;

describe('fastdp forwarder: heartbeats', () => {
  it('a heartbeat is 14 + MTU bytes with the connection UID, VNI ours | theirs << 12, to port + 1', () => {
    const w = world();
    const { fa, fb } = connect(w);
    const first = w.tunnel.sent[0]!;
    expect(first.from).toBe('10.0.0.1');
    expect(first.to).toEqual({ host: '10.0.0.2', port: 6784 });
    expect(first.tunnelId).toBe(tunnelIdFor(1, 2));
    expect(first.frame.length).toBe(1390);
    expect(parseHeartbeat(first.frame)).toEqual({ ok: true, connUID: 0x1234n });
    // B (inbound) learns A's address from A's next heartbeat and answers; the acks (sub-tag 0)
    // establish both ends.
    expect([fa.established, fb.established]).toEqual([false, false]);
    w.clock.advance(500);
    expect(w.tunnel.sent.find((s) => s.from === '10.0.0.2')).toMatchObject({
      from: '10.0.0.2',
      to: { host: '10.0.0.1', port: 6784 },
      tunnelId: tunnelIdFor(2, 1),
    });
    expect([fa.established, fb.established]).toEqual([true, true]);
    expect(fa.attrs()).toEqual({ name: 'fastdp', mtu: 1376 });
  });

  it('heartbeats every 500 ms until acknowledged, then every 10 s (upstream defaults)', () => {
    const w = world();
    w.tunnel.blocked = true;
    const { fa } = connect(w);
    w.clock.advance(2_000);
    expect(heartbeatsFrom(w.tunnel, '10.0.0.1')).toBe(5); // t = 0, 0.5, 1, 1.5, 2 s
    expect(fa.established).toBe(false);
    w.tunnel.blocked = false;
    w.clock.advance(500);
    expect(fa.established).toBe(true);
    const before = heartbeatsFrom(w.tunnel, '10.0.0.1');
    w.clock.advance(30_000);
    expect(heartbeatsFrom(w.tunnel, '10.0.0.1') - before).toBe(3);
  });

  it('60 s without heartbeats makes it unhealthy (flows dropped); the next heartbeat makes it healthy', () => {
    const w = world();
    const { health } = connect(w);
    w.tunnel.blocked = true;
    const flushes = w.a.plane.flushes;
    w.clock.advance(59_000);
    expect(health).toEqual([]);
    w.clock.advance(11_000);
    expect(health).toEqual([
      ['a', false, 'timed out waiting for vxlan heartbeat'],
      ['b', false, 'timed out waiting for vxlan heartbeat'],
    ]);
    expect(w.a.plane.flushes).toBeGreaterThan(flushes);
    w.tunnel.blocked = false;
    w.clock.advance(10_000);
    expect(health.slice(2).sort()).toEqual([
      ['a', true, undefined],
      ['b', true, undefined],
    ]);
  });

  it('the timeout is injectable for tests', () => {
    const w = world(3_000);
    const { health } = connect(w);
    w.tunnel.blocked = true;
    w.clock.advance(3_100);
    expect(health.map(([who, ok]) => [who, ok])).toEqual([
      ['a', false],
      ['b', false],
    ]);
  });

  it('ignores heartbeats with another connection UID or a wrong length field', () => {
    const w = world();
    w.tunnel.blocked = true;
    const { fa } = connect(w);
    const good = w.tunnel.sent[0]!.frame;
    const otherUid = good.slice();
    otherUid[21] = otherUid[21]! ^ 1;
    const truncated = good.slice(0, 200);
    w.b.plane.receive([
      { remoteIp: '10.0.0.1', tunnelId: tunnelIdFor(1, 2), frame: otherUid },
      { remoteIp: '10.0.0.1', tunnelId: tunnelIdFor(1, 2), frame: truncated },
    ]);
    expect(fa.established).toBe(false);
    expect(w.b.overlay.diagnostics().counters.ignoredSpecial).toBe(2);
  });
});

describe('fastdp overlay: refusals', () => {
  it('refuses an encrypted connection (no IPsec ESP) and a peer without a short ID', () => {
    const w = world();
    expect(() =>
      w.a.overlay.prepareConnection(params(true, () => {}, { sessionKey: new Uint8Array(32) })),
    ).toThrow(FastdpEncryptionUnsupportedError);
    const noShort = params(true, () => {});
    expect(() =>
      w.a.overlay.prepareConnection({ ...noShort, remotePeer: { name: B, nickname: 'b', uid: 2n } }),
    ).toThrow(NoShortIdError);
  });
});

describe('fastdp overlay: frames and flows', () => {
  it('forwards with the tunnel id of the key to the next hop, and declines peers without short IDs', () => {
    const w = world();
    connect(w);
    const frame = Uint8Array.from({ length: 60 }, (_, i) => i + 1);
    expect(w.a.overlay.forward({ srcPeer: A, dstPeer: C }, [frame], { via: B })).toBe('forwarded');
    const last = w.tunnel.sent.at(-1)!;
    expect(last).toMatchObject({ from: '10.0.0.1', tunnelId: tunnelIdFor(1, 3) });
    // B got it as a miss for C: handed to its router to relay.
    expect(w.b.received).toEqual([{ src: A, dst: C, frame }]);
    const D = '0a:00:00:00:00:04' as PeerName;
    expect(w.a.overlay.forward({ srcPeer: A, dstPeer: D }, [frame], { via: B })).toBe('no-forwarder');
    expect(w.a.overlay.forward({ srcPeer: A, dstPeer: B }, [frame], { via: D })).toBe('no-connection');
  });

  it('drops misses whose VNI names an unknown short ID', () => {
    const w = world();
    w.b.plane.receive([
      { remoteIp: '10.0.0.1', tunnelId: tunnelIdFor(9, 2), frame: new Uint8Array(60).fill(1) },
    ]);
    expect(w.b.received).toEqual([]);
    expect(w.b.overlay.diagnostics().counters.unknownShortId).toBe(1);
  });

  it('turns offers into kernel flows (send only once established and healthy) and flushes them', () => {
    const w = world();
    w.tunnel.blocked = true;
    connect(w);
    const offers: FlowOffer[] = [
      {
        kind: 'send',
        srcMac: 0x0a0000000011,
        dstMac: 0x0a0000000022,
        key: { srcPeer: A, dstPeer: B },
        via: B,
      },
      { kind: 'deliver', srcPeer: B, srcMac: 0x0a0000000022, dstMac: 0x0a0000000011 },
    ];
    w.a.overlay.offerFlows(offers);
    expect(w.a.plane.sendFlows).toEqual([]); // not established yet
    expect(w.a.plane.deliverFlows).toEqual([
      { srcShortId: 2, srcMac: 0x0a0000000022, dstMac: 0x0a0000000011 },
    ]);
    w.tunnel.blocked = false;
    w.clock.advance(500);
    w.a.overlay.offerFlows(offers);
    expect(w.a.plane.sendFlows).toEqual([
      { srcMac: 0x0a0000000011, dstMac: 0x0a0000000022, remoteIp: '10.0.0.2', tunnelId: tunnelIdFor(1, 2) },
    ]);
    expect(w.a.overlay.flowCount()).toBe(3);
    w.a.overlay.invalidateRoutes();
    expect(w.a.overlay.flowCount()).toBe(0);
    w.a.overlay.invalidateShortIDs();
    expect(w.a.plane.localShortId).toBe(1);
  });

  it('stop() closes the dataplane and refuses new connections', async () => {
    const w = world();
    await w.a.overlay.stop();
    expect(w.a.plane.closed).toBe(true);
    expect(w.a.overlay.forward({ srcPeer: A, dstPeer: B }, [])).toBe('stopped');
    expect(() => w.a.overlay.prepareConnection(params(true, () => {}))).toThrow('fastdp overlay stopped');
  });
});

/** A sleeve stand-in: established as soon as confirmed, counts what it forwards. */
class StubSleeve implements NetworkOverlay {
  forwarded = 0;
  addFeaturesTo(): void {}
  prepareConnection(): DatapathConnection {
    const stub = this;
    class Conn extends EventEmitter<OverlayConnectionEvents> implements DatapathConnection {
      established = false;
      confirm() {
        this.established = true;
        this.emit('established');
      }
      controlMessage() {}
      attrs() {
        return { name: 'sleeve', mtu: 1438 };
      }
      stop() {}
      forward(_k: unknown, frames: readonly Uint8Array[]) {
        stub.forwarded += frames.length;
        return true;
      }
    }
    return new Conn();
  }
  forward() {
    return 'no-connection' as const;
  }
  onFramesReceived(): void {}
  invalidateRoutes(): void {}
  invalidateShortIDs(): void {}
  diagnostics() {
    return {};
  }
  async stop() {}
}

describe('fastdp in an overlay switch [fastdp, sleeve]', () => {
  function switched(timeoutMs: number, sessionKey?: Uint8Array) {
    const w = world(timeoutMs);
    const sleeves = [new StubSleeve(), new StubSleeve()] as const;
    const swA = new OverlaySwitch([
      { name: 'fastdp', overlay: w.a.overlay },
      { name: 'sleeve', overlay: sleeves[0] },
    ]);
    const swB = new OverlaySwitch([
      { name: 'fastdp', overlay: w.b.overlay },
      { name: 'sleeve', overlay: sleeves[1] },
    ]);
    const features = { Overlays: 'fastdp sleeve' };
    const key = sessionKey ? { sessionKey } : {};
    let ca: DatapathConnection | undefined;
    let cb: DatapathConnection | undefined;
    ca = swA.prepareConnection(params(true, (t, m) => cb!.controlMessage(t, m), { features, ...key }));
    cb = swB.prepareConnection(params(false, (t, m) => ca!.controlMessage(t, m), { features, ...key }));
    ca.confirm();
    cb.confirm();
    return { w, ca, cb, sleeves, swA };
  }

  it('uses fastdp, falls back to sleeve while heartbeats are missing (showing why), and returns', () => {
    const { w, ca, sleeves, swA } = switched(3_000);
    const frame = new Uint8Array(60).fill(7);
    // The stub sleeve is established at once, fastdp after its first heartbeat round trip.
    expect(ca.attrs()).toEqual({ name: 'sleeve', mtu: 1438 });
    w.clock.advance(500);
    expect(ca.attrs()).toEqual({ name: 'fastdp', mtu: 1376 });
    const using: string[] = [];
    swA.on('using', (_peer, name) => using.push(name));
    w.tunnel.blocked = true;
    w.clock.advance(3_100);
    expect(ca.attrs()).toEqual({
      name: 'sleeve',
      mtu: 1438,
      fastdp: 'timed out waiting for vxlan heartbeat',
    });
    expect(ca.forward({ srcPeer: A, dstPeer: B }, [frame])).toBe(true);
    expect(sleeves[0].forwarded).toBe(1);
    w.tunnel.blocked = false;
    w.clock.advance(10_000);
    expect(ca.attrs()).toEqual({ name: 'fastdp', mtu: 1376 });
    expect(using).toEqual(['sleeve', 'fastdp']);
  });

  it('with a session key the connection is on sleeve and the attrs say why', () => {
    const { ca } = switched(60_000, new Uint8Array(32));
    expect(ca.attrs()).toEqual({
      name: 'sleeve',
      mtu: 1438,
      fastdp: 'encryption needs IPsec ESP, not available: using sleeve',
    });
  });
});
