import { describe, expect, it } from 'vitest';
import { OverlaySwitch, type OverlayConnectionParams, type PeerName } from '@weave-ts/core';
import {
  advanceSettled,
  MemoryDatapath,
  MemoryLocalPort,
  MemoryWire,
  VirtualClock,
  parseFrame,
  pingFrame,
} from '@weave-ts/core/testing';
import { runDatapathCompliance } from '@weave-ts/core/testing/compliance';

const A = '0a:00:00:00:00:01' as PeerName;
const B = '0a:00:00:00:00:02' as PeerName;

runDatapathCompliance('memory', () => {
  const clock = new VirtualClock();
  const wire = new MemoryWire();
  return {
    a: {
      name: A,
      datapath: new MemoryDatapath({ wire, clock, localPeer: A }),
      endpoint: { host: '10.0.0.1', port: 6783 },
    },
    b: {
      name: B,
      datapath: new MemoryDatapath({ wire, clock, localPeer: B }),
      endpoint: { host: '10.0.0.2', port: 6783 },
    },
    advance: (ms) => advanceSettled(clock, ms),
  };
});

runDatapathCompliance('overlay switch over memory (fastdp, sleeve)', () => {
  const clock = new VirtualClock();
  const wire = new MemoryWire();
  const make = (peer: PeerName) =>
    new OverlaySwitch([
      { name: 'fastdp', overlay: new MemoryDatapath({ wire, clock, localPeer: peer, name: 'fastdp' }) },
      {
        name: 'sleeve',
        overlay: new MemoryDatapath({ wire, clock, localPeer: peer, name: 'sleeve', mtu: 1438 }),
      },
    ]);
  return {
    a: { name: A, datapath: make(A), endpoint: { host: '10.0.0.1', port: 6783 } },
    b: { name: B, datapath: make(B), endpoint: { host: '10.0.0.2', port: 6783 } },
    advance: (ms) => advanceSettled(clock, ms),
  };
});

/** Two memory datapaths with a connection each way, control messages cross-wired. */
function pair(wire = new MemoryWire()) {
  const clock = new VirtualClock();
  const da = new MemoryDatapath({ wire, clock, localPeer: A });
  const db = new MemoryDatapath({ wire, clock, localPeer: B });
  const params = (
    remote: PeerName,
    deliver: (tag: number, msg: Uint8Array) => void,
  ): OverlayConnectionParams => ({
    remotePeer: { name: remote, nickname: 'x', uid: 1n },
    local: { host: '10.0.0.1', port: 1 },
    remote: { host: '10.0.0.2', port: 1 },
    outbound: true,
    connUID: 42n,
    features: {},
    sendControlMessage: (tag, msg) => queueMicrotask(() => deliver(tag, msg)),
  });
  const ca = da.prepareConnection(params(B, (t, m) => cb.controlMessage(t, m)));
  const cb = db.prepareConnection(params(A, (t, m) => ca.controlMessage(t, m)));
  ca.confirm();
  cb.confirm();
  return { clock, wire, da, db, ca, cb };
}

describe('memory datapath', () => {
  it('establishes through a heartbeat and a control-message ack', async () => {
    const { clock, ca, cb } = pair();
    expect(ca.established).toBe(false);
    await advanceSettled(clock, 49);
    expect(ca.established).toBe(false);
    await advanceSettled(clock, 200);
    expect(ca.established && cb.established).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('loses frames across a partition and while unhealthy, and reports health changes', async () => {
    const { clock, wire, da, db, ca } = pair();
    await advanceSettled(clock, 500);
    const got: number[] = [];
    db.onFramesReceived((frames) => got.push(...frames.map((f) => parseFrame(f.frame).ipv4!.icmp!.seq)));
    const health: boolean[] = [];
    ca.onHealthChange((healthy) => health.push(healthy));
    const ping = (seq: number) =>
      pingFrame({
        srcMac: '02:00:00:00:00:0a',
        dstMac: '02:00:00:00:00:0b',
        srcIp: '10.1.0.1',
        dstIp: '10.1.0.2',
        seq,
      });
    const key = { srcPeer: A, dstPeer: B };
    da.forward(key, [ping(1)]);
    wire.partition(A, B);
    da.forward(key, [ping(2)]);
    wire.heal();
    ca.setHealthy(false);
    da.forward(key, [ping(3)]);
    ca.setHealthy(true);
    da.forward(key, [ping(4)]);
    await advanceSettled(clock, 10);
    expect(got).toEqual([1, 4]);
    expect(health).toEqual([false, true]);
    expect(wire.stats).toEqual({ delivered: 2, dropped: 2 });
  });

  it('drops frames above the MTU and declines when told to', async () => {
    const { clock, da, db, ca } = pair();
    await advanceSettled(clock, 500);
    let count = 0;
    db.onFramesReceived((frames) => (count += frames.length));
    const big = new Uint8Array(1376 + 15);
    const fits = new Uint8Array(1376 + 14);
    expect(da.forward({ srcPeer: A, dstPeer: B }, [big, fits])).toBe('forwarded');
    ca.declineForwarding = true;
    expect(da.forward({ srcPeer: A, dstPeer: B }, [fits])).toBe('no-forwarder');
    await advanceSettled(clock, 10);
    expect(count).toBe(1);
  });

  it('a fatal failure emits error once and unregisters', async () => {
    const { clock, da, ca } = pair();
    await advanceSettled(clock, 500);
    const errors: string[] = [];
    ca.on('error', (e) => errors.push(e.message));
    ca.fail(new Error('boom'));
    ca.fail(new Error('again'));
    expect(errors).toEqual(['boom']);
    expect(da.connectionTo(B)).toBeUndefined();
  });

  it('refuses a second datapath of the same name for the same peer', () => {
    const wire = new MemoryWire();
    new MemoryDatapath({ wire, localPeer: A });
    expect(() => new MemoryDatapath({ wire, localPeer: A })).toThrow(/already attached/);
    expect(() => new MemoryDatapath({ wire, localPeer: A, name: 'other' })).not.toThrow();
  });
});

describe('memory local port', () => {
  it('splits captures into batches of batchSize, hands over copies, and keeps injected copies', async () => {
    const port = new MemoryLocalPort({ batchSize: 2 });
    const batches: number[] = [];
    port.onCapture((frames) => batches.push(frames.length));
    const frames = [1, 2, 3, 4, 5].map((n) => new Uint8Array([n]));
    port.capture(frames);
    expect(batches).toEqual([2, 2, 1]);
    const mine = new Uint8Array([9]);
    port.inject([mine]);
    mine[0] = 0;
    expect(port.takeInjected()).toEqual([new Uint8Array([9])]);
    expect(port.takeInjected()).toEqual([]);
    await port.close();
    port.capture(frames);
    port.inject(frames);
    expect(batches).toEqual([2, 2, 1]);
    expect(port.takeInjected()).toEqual([]);
  });
});

describe('frame builder', () => {
  it('builds a ping with valid checksums that parses back', () => {
    const frame = pingFrame({
      srcMac: '02:00:00:00:00:0a',
      dstMac: '02:00:00:00:00:0b',
      srcIp: '10.32.0.1',
      dstIp: '10.32.0.2',
      id: 0x1234,
      seq: 7,
      size: 56,
      df: true,
    });
    expect(frame.length).toBe(14 + 20 + 8 + 56);
    const p = parseFrame(frame);
    expect(p).toMatchObject({ dst: '02:00:00:00:00:0b', src: '02:00:00:00:00:0a', etherType: 0x0800 });
    expect(p.ipv4).toMatchObject({
      src: '10.32.0.1',
      dst: '10.32.0.2',
      protocol: 1,
      df: true,
      headerChecksumValid: true,
    });
    expect(p.ipv4!.icmp).toMatchObject({ type: 8, code: 0, id: 0x1234, seq: 7, checksumValid: true });
    frame[40] = frame[40]! ^ 1;
    expect(parseFrame(frame).ipv4!.icmp!.checksumValid).toBe(false);
  });

  it('rejects truncated frames with a typed error', () => {
    expect(() => parseFrame(new Uint8Array(5))).toThrow(/frame too short/);
    const frame = pingFrame({ srcMac: 1, dstMac: 2, srcIp: '1.1.1.1', dstIp: '2.2.2.2' });
    expect(() => parseFrame(frame.subarray(0, 30))).toThrow(/bad IPv4 lengths|not an IPv4/);
  });
});
