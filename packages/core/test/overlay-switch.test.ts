import { describe, expect, it } from 'vitest';
import {
  type DatapathConnection,
  type DeliverFlowOffer,
  type FlowOffer,
  type Logger,
  type NetworkOverlay,
  NoCommonOverlaysError,
  NoWorkingForwardersError,
  type OverlayConnectionParams,
  OverlaySwitch,
  type PeerName,
  Router,
  type SendFlowOffer,
  peerNameFromNumber,
} from '@weave-ts/core';
import {
  advanceSettled,
  MEMORY_HEARTBEAT_ACK,
  MemoryDatapath,
  MemoryWire,
  SeededRandom,
  SimNetwork,
  VirtualClock,
} from '@weave-ts/core/testing';

const A = '0a:00:00:00:00:01' as PeerName;
const B = '0a:00:00:00:00:02' as PeerName;

/** Parameters of an outbound connection from A to B whose `Overlays` feature is `overlays`. */
function dialParams(overlays: string): OverlayConnectionParams {
  return {
    remotePeer: { name: B, nickname: 'hostb', uid: 1n },
    local: { host: '10.0.0.1', port: 1 },
    remote: { host: '10.0.0.2', port: 1 },
    outbound: true,
    connUID: 1n,
    features: { Overlays: overlays },
    sendControlMessage: () => {},
  };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m) };
}

/** One peer's switch over a fastdp and a sleeve memory datapath (each on its own wire). */
function peerSwitch(clock: VirtualClock, wires: { fastdp: MemoryWire; sleeve: MemoryWire }, peer: PeerName) {
  const fastdp = new MemoryDatapath({
    wire: wires.fastdp,
    clock,
    localPeer: peer,
    name: 'fastdp',
    mtu: 1376,
  });
  const sleeve = new MemoryDatapath({
    wire: wires.sleeve,
    clock,
    localPeer: peer,
    name: 'sleeve',
    mtu: 1438,
  });
  const logger = recordingLogger();
  const sw = new OverlaySwitch(
    [
      { name: 'fastdp', overlay: fastdp },
      { name: 'sleeve', overlay: sleeve },
    ],
    { logger },
  );
  const using: string[] = [];
  sw.on('using', (_peer, name) => using.push(name));
  return { sw, fastdp, sleeve, logger, using };
}

type Side = ReturnType<typeof peerSwitch>;

interface Wiring {
  clock: VirtualClock;
  wires: { fastdp: MemoryWire; sleeve: MemoryWire };
  a: Side;
  b: Side;
  ca: DatapathConnection;
  cb: DatapathConnection;
  /** Every control message A's router would have sent: [tag, ...body]. */
  sentByA: number[][];
  errorsA: string[];
}

/** Connects A (outbound) and B with cross-wired control messages; `featuresOfB` overrides what A sees. */
function connect(featuresOfB?: Record<string, string>): Wiring {
  const clock = new VirtualClock();
  const wires = { fastdp: new MemoryWire(), sleeve: new MemoryWire() };
  const a = peerSwitch(clock, wires, A);
  const b = peerSwitch(clock, wires, B);
  const sentByA: number[][] = [];
  const conns: { a?: DatapathConnection; b?: DatapathConnection } = {};
  const params = (
    remote: PeerName,
    features: Record<string, string>,
    to: 'a' | 'b',
  ): OverlayConnectionParams => ({
    remotePeer: { name: remote, nickname: remote === A ? 'hosta' : 'hostb', uid: 1n },
    local: { host: '10.0.0.1', port: 6783 },
    remote: { host: '10.0.0.2', port: 6783 },
    outbound: to === 'b',
    connUID: 77n,
    features,
    sendControlMessage: (tag, msg) => {
      if (to === 'b') sentByA.push([tag, ...msg]);
      const copy = msg.slice();
      queueMicrotask(() => conns[to]?.controlMessage(tag, copy));
    },
  });
  const fa: Record<string, string> = {};
  const fb: Record<string, string> = {};
  a.sw.addFeaturesTo(fa);
  b.sw.addFeaturesTo(fb);
  conns.a = a.sw.prepareConnection(params(B, featuresOfB ?? fb, 'b'));
  conns.b = b.sw.prepareConnection(params(A, featuresOfB ? {} : fa, 'a'));
  const errorsA: string[] = [];
  conns.a.on('error', (e) => errorsA.push(e.message));
  conns.a.confirm();
  conns.b.confirm();
  return { clock, wires, a, b, ca: conns.a, cb: conns.b, sentByA, errorsA };
}

const key = { srcPeer: A, dstPeer: B };
const frame = () => new Uint8Array(60).fill(7);

describe('overlay switch: features and common overlays', () => {
  it('advertises its overlays space-separated in preference order', () => {
    const clock = new VirtualClock();
    const { sw } = peerSwitch(clock, { fastdp: new MemoryWire(), sleeve: new MemoryWire() }, A);
    const features: Record<string, string> = { Overlays: 'stale' };
    sw.addFeaturesTo(features);
    expect(features.Overlays).toBe('fastdp sleeve');
  });

  it('uses the common overlays in local order; indices follow that list', async () => {
    // B lists them the other way round: A still puts fastdp at index 0.
    const w = connect({ Overlays: 'sleeve fastdp' });
    await advanceSettled(w.clock, 20);
    expect(w.a.using).toEqual(['fastdp']);
    // A acknowledges B's heartbeats on both sub-forwarders: index 0 (fastdp) and 1 (sleeve).
    // B was given no Overlays feature from A, so it runs sleeve alone, unframed; A's heartbeats to
    // B's fastdp go unanswered, B's sleeve heartbeat is answered by A's sleeve at index 1.
    await advanceSettled(w.clock, 500);
    // Each goes as protocol tag 7 with body [index][subTag].
    expect(w.sentByA).toContainEqual([7, 1, MEMORY_HEARTBEAT_ACK]);
    expect(w.sentByA.every(([tag, index]) => tag === 7 && (index === 0 || index === 1))).toBe(true);
  });

  it('only the overlays the remote lists take part', async () => {
    const w = connect({ Overlays: 'sleeve other' });
    await advanceSettled(w.clock, 500);
    expect(w.a.using).toEqual(['sleeve']);
    expect(w.ca.attrs()).toEqual({ name: 'sleeve', mtu: 1438 });
    expect(w.a.fastdp.connectionTo(B)).toBeUndefined();
  });

  it('a peer without the Overlays feature gets the sleeve alone, with unframed control messages', async () => {
    const w = connect({});
    await advanceSettled(w.clock, 500);
    expect(w.a.using).toEqual(['sleeve']);
    expect(w.a.fastdp.connectionTo(B)).toBeUndefined();
    expect(w.sentByA).toEqual([[MEMORY_HEARTBEAT_ACK]]);
    expect(w.ca.established).toBe(true);
  });

  it('refuses a peer with no overlay in common', () => {
    const clock = new VirtualClock();
    const { sw } = peerSwitch(clock, { fastdp: new MemoryWire(), sleeve: new MemoryWire() }, A);
    const params = dialParams('weird');
    expect(() => sw.prepareConnection(params)).toThrow(NoCommonOverlaysError);
    expect(() => sw.prepareConnection(params)).toThrow('no overlays in common with peer');
    // Without a compat overlay, a peer with no Overlays feature has nothing in common either.
    const fastOnly = new OverlaySwitch([
      {
        name: 'fastdp',
        overlay: new MemoryDatapath({ wire: new MemoryWire(), localPeer: A, name: 'fastdp' }),
      },
    ]);
    expect(() => fastOnly.prepareConnection({ ...params, features: {} })).toThrow(NoCommonOverlaysError);
  });

  it('rejects repeated overlay names', () => {
    const wire = new MemoryWire();
    const overlay = new MemoryDatapath({ wire, localPeer: A });
    expect(
      () =>
        new OverlaySwitch([
          { name: 'x', overlay },
          { name: 'x', overlay },
        ]),
    ).toThrow(/repeated overlay name/);
    expect(() => new OverlaySwitch([{ name: 'fast dp', overlay }])).toThrow(/without spaces/);
  });

  it('skips an overlay that cannot start a forwarder, and refuses when none can', async () => {
    const clock = new VirtualClock();
    const { sw, fastdp, sleeve, logger } = peerSwitch(
      clock,
      { fastdp: new MemoryWire(), sleeve: new MemoryWire() },
      A,
    );
    await fastdp.stop();
    const params = dialParams('fastdp sleeve');
    const conn = sw.prepareConnection(params);
    expect(logger.lines).toContain(
      'Unable to use fastdp for connection to 0a:00:00:00:00:02(hostb): memory datapath stopped',
    );
    expect(logger.lines).toContain('overlay_switch ->[0a:00:00:00:00:02(hostb)] using sleeve');
    conn.stop();
    await sleeve.stop();
    expect(() => sw.prepareConnection(params)).toThrow(NoWorkingForwardersError);
    expect(() => sw.prepareConnection(params)).toThrow('no working forwarders to 0a:00:00:00:00:02(hostb)');
  });
});

describe('overlay switch: choosing the forwarder', () => {
  it('the lowest-index established forwarder beats a lower-index working one', async () => {
    const clock = new VirtualClock();
    const wires = { fastdp: new MemoryWire(), sleeve: new MemoryWire() };
    wires.fastdp.partition(A, B);
    const w = connectOn(clock, wires);
    await advanceSettled(clock, 500);
    expect(w.ca.established).toBe(true);
    expect(w.a.using).toEqual(['fastdp', 'sleeve']);
    expect(w.ca.attrs().name).toBe('sleeve');
    wires.fastdp.heal();
    await advanceSettled(clock, 500);
    expect(w.a.using).toEqual(['fastdp', 'sleeve', 'fastdp']);
    expect(w.ca.attrs()).toEqual({ name: 'fastdp', mtu: 1376 });
  });

  it('is established as soon as any sub-forwarder is, and says so once', async () => {
    const clock = new VirtualClock();
    const wires = { fastdp: new MemoryWire(), sleeve: new MemoryWire() };
    const w = connectOn(clock, wires, false);
    let events = 0;
    w.ca.on('established', () => events++);
    w.ca.confirm();
    w.cb.confirm();
    await advanceSettled(clock, 1_000);
    expect(events).toBe(1);
    expect(w.ca.established).toBe(true);
  });

  it('forwards through the best forwarder, then falls back when it is on hold, and back again', async () => {
    const w = connect();
    await advanceSettled(w.clock, 500);
    const received: number[] = [];
    w.b.sw.onFramesReceived((frames) => received.push(frames.length));
    expect(w.a.sw.forward(key, [frame()])).toBe('forwarded');
    await advanceSettled(w.clock, 1);
    expect([w.wires.fastdp.stats.delivered, w.wires.sleeve.stats.delivered]).toEqual([1, 0]);

    w.a.fastdp.connectionTo(B)!.setHealthy(false);
    expect(w.a.using).toEqual(['fastdp', 'sleeve']);
    expect(w.a.sw.forward(key, [frame(), frame()])).toBe('forwarded');
    await advanceSettled(w.clock, 1);
    expect([w.wires.fastdp.stats.delivered, w.wires.sleeve.stats.delivered]).toEqual([1, 2]);

    w.a.fastdp.connectionTo(B)!.setHealthy(true);
    expect(w.a.using).toEqual(['fastdp', 'sleeve', 'fastdp']);
    w.a.sw.forward(key, [frame()]);
    await advanceSettled(w.clock, 1);
    expect([w.wires.fastdp.stats.delivered, w.wires.sleeve.stats.delivered]).toEqual([2, 2]);
    expect(received).toEqual([1, 2, 1]);
    expect(w.errorsA).toEqual([]);
  });

  it('tries higher indices when the best declines a batch (fastdp without short IDs)', async () => {
    const w = connect();
    await advanceSettled(w.clock, 500);
    w.a.fastdp.connectionTo(B)!.declineForwarding = true;
    expect(w.a.sw.forward(key, [frame()])).toBe('forwarded');
    await advanceSettled(w.clock, 1);
    expect([w.wires.fastdp.stats.delivered, w.wires.sleeve.stats.delivered]).toEqual([0, 1]);
    w.a.sleeve.connectionTo(B)!.declineForwarding = true;
    expect(w.a.sw.forward(key, [frame()])).toBe('no-forwarder');
  });

  it('drops a failed forwarder; with none left the connection fails with upstream text', async () => {
    const w = connect();
    await advanceSettled(w.clock, 500);
    w.a.fastdp.connectionTo(B)!.fail(new Error('vxlan gone'));
    expect(w.a.logger.lines).toContain('overlay_switch ->[0a:00:00:00:00:02(hostb)] fastdp vxlan gone');
    expect(w.a.using).toEqual(['fastdp', 'sleeve']);
    expect(w.errorsA).toEqual([]);
    w.a.sleeve.connectionTo(B)!.fail(new Error('timed out waiting for UDP heartbeat'));
    expect(w.errorsA).toEqual(['no working forwarders to 0a:00:00:00:00:02(hostb)']);
    expect(w.a.sw.forward(key, [frame()])).toBe('no-connection');
  });

  it('fails when every forwarder is on hold', async () => {
    const w = connect();
    await advanceSettled(w.clock, 500);
    w.a.fastdp.connectionTo(B)!.setHealthy(false);
    expect(w.errorsA).toEqual([]);
    w.a.sleeve.connectionTo(B)!.setHealthy(false);
    expect(w.errorsA).toEqual(['no working forwarders to 0a:00:00:00:00:02(hostb)']);
  });

  it('stop() stops every sub-forwarder and leaves the switch table', async () => {
    const w = connect();
    await advanceSettled(w.clock, 500);
    w.ca.stop();
    expect(w.a.fastdp.connectionTo(B)).toBeUndefined();
    expect(w.a.sleeve.connectionTo(B)).toBeUndefined();
    expect(w.a.sw.forward(key, [frame()])).toBe('no-connection');
    expect(w.a.sw.diagnostics()).toMatchObject({ fastdp: { connections: [] }, sleeve: { connections: [] } });
  });

  it('passes invalidations to every overlay', () => {
    const w = connect();
    w.a.sw.invalidateRoutes();
    w.a.sw.invalidateShortIDs();
    w.a.sw.invalidateShortIDs();
    expect(w.a.fastdp.invalidations).toEqual({ routes: 1, shortIds: 2 });
    expect(w.a.sleeve.invalidations).toEqual({ routes: 1, shortIds: 2 });
  });
});

/** Makes a connection take offers; returns each call's offers. */
function takeSends(conn: DatapathConnection): SendFlowOffer[][] {
  const calls: SendFlowOffer[][] = [];
  conn.offerFlows = (offers) => calls.push([...offers]);
  return calls;
}

/** Makes an overlay take offers; returns each call's offers. */
function takeOffers(overlay: NetworkOverlay): FlowOffer[][] {
  const calls: FlowOffer[][] = [];
  overlay.offerFlows = (offers) => calls.push([...offers]);
  return calls;
}

const C = '0a:00:00:00:00:03' as PeerName;
const sendTo = (via: PeerName, srcMac = 1, dstMac = 2): SendFlowOffer => ({
  kind: 'send',
  srcMac,
  dstMac,
  key: { srcPeer: A, dstPeer: via },
  via,
});
const deliverFrom = (srcPeer: PeerName): DeliverFlowOffer => ({
  kind: 'deliver',
  srcPeer,
  srcMac: 2,
  dstMac: 1,
});

describe('overlay switch: flow offers', () => {
  it('gives send offers to the best forwarder of their next hop only, following it when it changes', async () => {
    const w = connect();
    await advanceSettled(w.clock, 500);
    const fastdp = takeSends(w.a.fastdp.connectionTo(B)!);
    const sleeve = takeSends(w.a.sleeve.connectionTo(B)!);
    // C has no connection: its offer goes nowhere.
    w.a.sw.offerFlows([sendTo(B, 1, 2), sendTo(C), sendTo(B, 3, 4)]);
    expect(fastdp).toEqual([[sendTo(B, 1, 2), sendTo(B, 3, 4)]]);
    expect(sleeve).toEqual([]);

    w.a.fastdp.connectionTo(B)!.setHealthy(false);
    w.a.sw.offerFlows([sendTo(B)]);
    expect(fastdp).toHaveLength(1);
    expect(sleeve).toEqual([[sendTo(B)]]);
  });

  it('prefers an established forwarder to a lower-index one still connecting', async () => {
    const clock = new VirtualClock();
    const wires = { fastdp: new MemoryWire(), sleeve: new MemoryWire() };
    wires.fastdp.partition(A, B);
    const w = connectOn(clock, wires);
    await advanceSettled(clock, 500);
    const fastdp = takeSends(w.a.fastdp.connectionTo(B)!);
    const sleeve = takeSends(w.a.sleeve.connectionTo(B)!);
    w.a.sw.offerFlows([sendTo(B)]);
    expect([fastdp, sleeve]).toEqual([[], [[sendTo(B)]]]);
    wires.fastdp.heal();
    await advanceSettled(clock, 500);
    w.a.sw.offerFlows([sendTo(B, 5, 6)]);
    expect([fastdp, sleeve]).toEqual([[[sendTo(B, 5, 6)]], [[sendTo(B)]]]);
  });

  it('gives deliver offers to every overlay that takes offers, and nothing once stopped', async () => {
    const w = connect();
    await advanceSettled(w.clock, 500);
    const fastdpSends = takeSends(w.a.fastdp.connectionTo(B)!);
    const fastdp = takeOffers(w.a.fastdp);
    // The sleeve overlay takes no offers yet: it is skipped; send-only batches reach no overlay.
    w.a.sw.offerFlows([deliverFrom(B)]);
    w.a.sw.offerFlows([sendTo(B)]);
    expect(fastdp).toEqual([[deliverFrom(B)]]);
    expect(fastdpSends).toEqual([[sendTo(B)]]);

    const sleeve = takeOffers(w.a.sleeve);
    w.a.sw.offerFlows([deliverFrom(B), sendTo(B, 3, 4), deliverFrom(C)]);
    expect(fastdp).toEqual([[deliverFrom(B)], [deliverFrom(B), deliverFrom(C)]]);
    expect(sleeve).toEqual([[deliverFrom(B), deliverFrom(C)]]);
    expect(fastdpSends).toEqual([[sendTo(B)], [sendTo(B, 3, 4)]]);

    await w.a.sw.stop();
    w.a.sw.offerFlows([deliverFrom(B), sendTo(B)]);
    expect([fastdp.length, sleeve.length, fastdpSends.length]).toEqual([2, 1, 2]);
  });
});

/** Like {@link connect} with full features, on given wires, optionally leaving confirm to the test. */
function connectOn(clock: VirtualClock, wires: Wiring['wires'], confirm = true) {
  const a = peerSwitch(clock, wires, A);
  const b = peerSwitch(clock, wires, B);
  const conns: { a?: DatapathConnection; b?: DatapathConnection } = {};
  const params = (
    remote: PeerName,
    features: Record<string, string>,
    to: 'a' | 'b',
  ): OverlayConnectionParams => ({
    remotePeer: { name: remote, nickname: 'n', uid: 1n },
    local: { host: '10.0.0.1', port: 6783 },
    remote: { host: '10.0.0.2', port: 6783 },
    outbound: to === 'b',
    connUID: 5n,
    features,
    sendControlMessage: (tag, msg) => queueMicrotask(() => conns[to]?.controlMessage(tag, msg)),
  });
  conns.a = a.sw.prepareConnection(params(B, { Overlays: 'fastdp sleeve' }, 'b'));
  conns.b = b.sw.prepareConnection(params(A, { Overlays: 'fastdp sleeve' }, 'a'));
  if (confirm) {
    conns.a.confirm();
    conns.b.confirm();
  }
  return { a, b, ca: conns.a, cb: conns.b };
}

describe('overlay switch under real routers', () => {
  it('multiplexes tag-7 control messages over the mesh connection and shows the chosen overlay', async () => {
    const sim = new SimNetwork();
    const wires = { fastdp: new MemoryWire(), sleeve: new MemoryWire() };
    const names = [1, 2].map((n) => peerNameFromNumber(0x0a0000000000 + n));
    const routers = names.map((name, i) => {
      const { sw } = peerSwitch(sim.clock, wires, name);
      return new Router({
        name,
        nickname: `host${i + 1}`,
        host: `10.0.0.${i + 1}`,
        transport: sim.transport(`10.0.0.${i + 1}`),
        clock: sim.clock,
        random: new SeededRandom(i + 1),
        overlay: sw,
      });
    });
    for (const r of routers) await r.start();
    routers[1]!.connect(['10.0.0.1']);
    await sim.runUntilQuiet({ horizonMs: 2_000 });
    for (const r of routers) {
      expect(r.statusText()).toContain('Connections: 1 (1 established)');
      expect(r.connectionsText()).toMatch(/established +fastdp +0a:00:00:00:00:0\d\(host\d\) mtu=1376/);
    }
    for (const r of routers) await r.stop();
  });
});
