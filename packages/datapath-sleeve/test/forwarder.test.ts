import { describe, expect, it } from 'vitest';
import {
  HeartbeatTimeoutError,
  internetChecksum,
  iterateFrameRecords,
  SleeveControlTag,
  type UnderlayDatagram,
} from '../src/index.js';
import { arpFrame, fromHex, hex, ipv4Frame } from './frames.js';
import { A, A_ADDR, B, B_ADDR, establish, makePair } from './harness.js';

const framesIn = (d: UnderlayDatagram) => {
  const frames: Uint8Array[] = [];
  iterateFrameRecords(d.data.subarray(6), (_s, _dst, f) => frames.push(f));
  return frames;
};

/** Delivers `datagrams` to B's socket as if A's had sent them, then lets B process them. */
function deliverFromA(pair: ReturnType<typeof makePair>, ...datagrams: Uint8Array[]): void {
  for (const d of datagrams) pair.underlay.inject(A_ADDR, B_ADDR, d);
  pair.clock.advance(1);
}

describe('sleeve forwarder: heartbeats and establishment', () => {
  it('heartbeats on confirm, acks once over TCP, and becomes established on the ack', () => {
    const pair = makePair();
    const wire: UnderlayDatagram[] = [];
    pair.underlay.tap((d) => wire.push(d));
    expect(pair.fa.established).toBe(false);
    pair.fa.confirm();
    pair.fb.confirm();
    // Only the outbound side knows where to send before any heartbeat arrived.
    expect(wire.map((d) => d.from.host)).toEqual([A_ADDR.host]);
    expect(wire[0]!.df).toBe(true);
    expect(hex(wire[0]!.data)).toBe(
      '0a00000000010a00000000010a0000000002001600000000000000000000000000009506b8534fd55308',
    );
    pair.clock.advance(0);
    expect(pair.fb.remoteAddress).toEqual(A_ADDR);
    pair.clock.advance(5);
    expect(pair.events).toEqual(['A established', 'B established']);
    expect(pair.fa.established && pair.fb.established).toBe(true);
    const acks = pair.control.filter((c) => c.tag === SleeveControlTag.ConnectionEstablished);
    expect(acks.map((c) => c.from)).toEqual([B, A]);
    expect(acks.every((c) => c.msg.length === 0)).toBe(true);
  });

  it('sends fast heartbeats (500 ms) until acknowledged, then slow ones (10 s)', () => {
    const pair = makePair();
    pair.underlay.setPath(A_ADDR.host, B_ADDR.host, { loss: 1 }); // A's heartbeats never arrive
    const times: number[] = [];
    pair.underlay.tap((d) => {
      if (d.from.host === A_ADDR.host && d.data.length === 42) times.push(pair.clock.now());
    });
    pair.fa.confirm();
    pair.fb.confirm();
    pair.clock.advance(2000);
    expect(times).toEqual([0, 500, 1000, 1500, 2000]);
    expect(pair.fa.established).toBe(false);
    expect(pair.fb.remoteAddress).toBeUndefined();
    pair.underlay.setPath(A_ADDR.host, B_ADDR.host, {});
    times.length = 0;
    pair.clock.advance(30_000);
    expect(pair.fa.established && pair.fb.established).toBe(true);
    expect(times).toEqual([2500, 12_500, 22_500]);
  });

  it('fails with "timed out waiting for UDP heartbeat" after 60 s of silence', () => {
    const pair = makePair();
    establish(pair);
    pair.underlay.setPath(A_ADDR.host, B_ADDR.host, { loss: 1 });
    const errors: Error[] = [];
    pair.fb.on('error', (e) => errors.push(e));
    pair.clock.advance(59_000);
    expect(errors).toEqual([]);
    pair.clock.advance(12_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HeartbeatTimeoutError);
    expect(errors[0]!.message).toBe('timed out waiting for UDP heartbeat');
    // A failed forwarder is done: no more heartbeats from it.
    const sentByB: number[] = [];
    pair.underlay.tap((d) => d.from.host === B_ADDR.host && sentByB.push(1));
    pair.clock.advance(60_000);
    expect(sentByB).toEqual([]);
  });

  it('ignores datagrams from peers it has no confirmed forwarder for', () => {
    const pair = makePair();
    pair.fa.confirm();
    pair.clock.advance(1000);
    expect(pair.fb.remoteAddress).toBeUndefined();
    expect(pair.overlayB.diagnostics().counters.unknownSender).toBeGreaterThan(0);
    expect(pair.control).toEqual([]);
  });

  it('ignores heartbeats carrying another connection uid', () => {
    const pair = makePair();
    pair.fb.confirm();
    const stray = '0a00000000010a00000000010a000000000200160000000000000000000000000000ffffffffffffffff';
    deliverFromA(pair, fromHex(stray));
    expect(pair.fb.remoteAddress).toBeUndefined();
    expect(pair.control).toEqual([]);
  });

  it("learns the dialler's UDP address from its heartbeat and follows it when it changes", () => {
    const pair = makePair();
    establish(pair);
    expect(pair.fb.remoteAddress).toEqual(A_ADDR);
    const moved = { host: '192.0.2.7', port: 31000 };
    pair.underlay.mapAddress(A_ADDR, moved);
    pair.clock.advance(10_000);
    expect(pair.fb.remoteAddress).toEqual(moved);
    expect(pair.logs).toContain(
      'B sleeve ->[10.250.0.1:6783|0a:00:00:00:00:01(hostA)]: Peer UDP address changed to 192.0.2.7:31000',
    );
    // Traffic from B now goes to the new address (and reaches A through the mapping).
    pair.overlayB.forward({ srcPeer: B, dstPeer: A }, [arpFrame()]);
    pair.clock.advance(1);
    expect(pair.received.a).toHaveLength(1);
  });

  it('cannot forward before it knows the remote address', () => {
    const pair = makePair();
    pair.fb.confirm();
    pair.fb.forward({ srcPeer: B, dstPeer: A }, [arpFrame()]);
    expect(pair.overlayB.diagnostics().counters.awaitingContact).toBe(1);
    expect(pair.underlay.stats.sent).toBe(0);
  });

  it('stops cleanly: no timers, no events', () => {
    const pair = makePair();
    establish(pair);
    pair.fa.stop();
    pair.fb.stop();
    expect(pair.clock.pending).toBe(0);
    expect(pair.overlayA.forwarderTo(B)).toBeUndefined();
  });
});

describe('sleeve forwarder: PMTU discovery', () => {
  const cases = [
    { underlay: 1500, encrypted: false, mtu: 1438 },
    { underlay: 1500, encrypted: true, mtu: 1414 },
    { underlay: 1000, encrypted: false, mtu: 938 },
    { underlay: 1000, encrypted: true, mtu: 914 },
  ];
  for (const c of cases) {
    it(`underlay ${c.underlay}${c.encrypted ? ' encrypted' : ''} ⇒ overlay MTU ${c.mtu}`, () => {
      const pair = makePair({ interfaceMtu: c.underlay, encrypted: c.encrypted });
      expect(pair.fa.mtu).toBe(65535);
      establish(pair);
      expect(pair.fa.mtu).toBe(c.mtu);
      expect(pair.fb.mtu).toBe(c.mtu);
      expect(pair.fa.attrs()).toEqual(
        c.encrypted ? { name: 'sleeve', mtu: c.mtu, encrypted: true } : { name: 'sleeve', mtu: c.mtu },
      );
      expect(pair.logs).toContain(
        `A sleeve ->[10.250.0.2:6783|0a:00:00:00:00:02(hostB)]: Effective MTU verified at ${c.mtu}`,
      );
      const verified = pair.control.filter((x) => x.tag === SleeveControlTag.PMTUVerified);
      expect(verified.map((x) => (x.msg[0]! << 8) | x.msg[1]!)).toContain(c.mtu);
    });
  }

  it('follows a smaller MTU further along the path once ICMP reports it', () => {
    const pair = makePair({ defaultPath: { mtu: 1200 } });
    establish(pair, 500);
    expect(pair.fa.mtu).toBe(1200 - 62);
    expect(pair.fb.mtu).toBe(1200 - 62);
  });

  it('binary-searches an ICMP black hole down to the exact MTU', () => {
    const pair = makePair({ defaultPath: { mtu: 1000, icmpBlackhole: true } });
    establish(pair, 60_000);
    expect(pair.fa.mtu).toBe(938);
    expect(pair.fb.mtu).toBe(938);
    expect(pair.fa.established).toBe(true);
  });

  it('never searches below 552 (upstream assumes 576-byte packets always get through)', () => {
    const pair = makePair({ defaultPath: { mtu: 500, icmpBlackhole: true } });
    establish(pair, 60_000);
    expect(pair.fa.mtu).toBe(552);
  });

  it('the first candidate gets 8 attempts with doubling timeouts', () => {
    const pair = makePair({ defaultPath: { mtu: 1000, icmpBlackhole: true } });
    const tests: number[] = [];
    pair.underlay.tap((d) => {
      if (d.from.host === A_ADDR.host && d.data.length === 1472) tests.push(pair.clock.now());
    });
    establish(pair, 3000);
    expect(tests).toHaveLength(8);
    const gaps = tests.slice(1).map((t, i) => t - tests[i]!);
    expect(gaps).toEqual([10, 20, 40, 80, 160, 320, 640]);
  });

  it('runs the fragmentation test: trusts kernel fragmentation only if fragments get through', () => {
    const through = makePair();
    establish(through);
    expect(through.fa.status().stackFrag).toBe(true);
    expect(through.control.filter((c) => c.tag === SleeveControlTag.FragmentationReceived)).toHaveLength(2);

    const blocked = makePair({ defaultPath: { dropFragments: true } });
    establish(blocked);
    expect(blocked.fa.status().stackFrag).toBe(false);
    expect(blocked.control.filter((c) => c.tag === SleeveControlTag.FragmentationReceived)).toEqual([]);
  });

  it('repeats the fragmentation test every 5 minutes, resetting its verdict', () => {
    const pair = makePair();
    const fragTests: number[] = [];
    pair.underlay.tap(
      (d) => d.from.host === A_ADDR.host && d.data.length === 60021 && fragTests.push(pair.clock.now()),
    );
    establish(pair);
    pair.underlay.setPath(A_ADDR.host, B_ADDR.host, { dropFragments: true });
    pair.clock.advance(5 * 60_000);
    expect(fragTests).toHaveLength(2);
    expect(pair.fa.status().stackFrag).toBe(false);
  });
});

describe('sleeve forwarder: the per-frame forwarding decision', () => {
  it('packs small frames up to 100 per datagram', () => {
    const pair = makePair({ interfaceMtu: 65535 });
    establish(pair);
    const wire: UnderlayDatagram[] = [];
    pair.underlay.tap((d) => wire.push(d));
    const frames = Array.from({ length: 250 }, (_, i) => {
      const f = arpFrame(42);
      f[20] = i;
      return f;
    });
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, frames);
    expect(wire.map((d) => framesIn(d).length)).toEqual([100, 100, 50]);
    pair.clock.advance(1);
    expect(pair.received.b.map((r) => r.frame[20])).toEqual(frames.map((f) => f[20]));
    expect(pair.received.b.every((r) => r.src === A && r.dst === B)).toBe(true);
  });

  it('packs frames up to the path MTU: 26 ARP frames of 42 bytes fill 1500', () => {
    const pair = makePair();
    establish(pair);
    const wire: UnderlayDatagram[] = [];
    pair.underlay.tap((d) => wire.push(d));
    pair.overlayA.forward(
      { srcPeer: A, dstPeer: B },
      Array.from({ length: 60 }, () => arpFrame(42)),
    );
    expect(wire.map((d) => framesIn(d).length)).toEqual([26, 26, 8]);
    expect(wire[0]!.data.length).toBe(6 + 26 * (14 + 42));
  });

  it('packs as many frames as fit the path, each datagram within it', () => {
    const pair = makePair({ defaultPath: { dropFragments: true } });
    establish(pair);
    const wire: UnderlayDatagram[] = [];
    pair.underlay.tap((d) => wire.push(d));
    pair.overlayA.forward(
      { srcPeer: A, dstPeer: B },
      Array.from({ length: 7 }, () => ipv4Frame({ ipLength: 486 })),
    );
    expect(wire.map((d) => framesIn(d).length)).toEqual([2, 2, 2, 1]);
    expect(wire.every((d) => d.data.length + 28 <= 1500 && d.df)).toBe(true);
    pair.clock.advance(1);
    expect(pair.received.b).toHaveLength(7);
  });

  it('sends DF frames that fit on the DF path', () => {
    const pair = makePair();
    establish(pair);
    const wire: UnderlayDatagram[] = [];
    pair.underlay.tap((d) => wire.push(d));
    const frame = ipv4Frame({ ipLength: 1438, df: true });
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [frame]);
    expect(wire.map((d) => [d.df, d.data.length])).toEqual([[true, 1472]]);
    pair.clock.advance(1);
    expect(hex(pair.received.b[0]!.frame)).toBe(hex(frame));
  });

  it('answers a too-big DF unicast with ICMP frag-needed carrying the overlay MTU', () => {
    const pair = makePair();
    establish(pair);
    const sent = pair.underlay.stats.sent;
    const frame = ipv4Frame({ ipLength: 1439, df: true });
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [frame]);
    expect(pair.underlay.stats.sent).toBe(sent);
    expect(pair.received.a).toHaveLength(1);
    const icmp = pair.received.a[0]!;
    expect([icmp.src, icmp.dst]).toEqual([B, A]);
    expect(icmp.frame[14 + 9]).toBe(1);
    expect(internetChecksum(icmp.frame, 14, 34)).toBe(0);
    expect(internetChecksum(icmp.frame, 34, icmp.frame.length)).toBe(0);
    expect([icmp.frame[34], icmp.frame[35]]).toEqual([3, 4]);
    expect((icmp.frame[40]! << 8) | icmp.frame[41]!).toBe(1438);
    expect(pair.overlayA.diagnostics().counters.icmpFragNeeded).toBe(1);
  });

  it('drops a too-big DF broadcast instead', () => {
    const pair = makePair();
    establish(pair);
    const sent = pair.underlay.stats.sent;
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [ipv4Frame({ ipLength: 1439, df: true })], {
      broadcast: true,
    });
    expect(pair.underlay.stats.sent).toBe(sent);
    expect(pair.received.a).toEqual([]);
    expect(
      pair.logs.some((l) =>
        l.includes('dropping too big DF broadcast frame (172.16.16.1 -> 172.16.16.128): MTU=1438'),
      ),
    ).toBe(true);
  });

  it('sends big non-DF packets whole on the non-DF path when fragments get through', () => {
    const pair = makePair();
    establish(pair);
    const wire: UnderlayDatagram[] = [];
    pair.underlay.tap((d) => wire.push(d));
    const frame = ipv4Frame({ ipLength: 4000 });
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [frame]);
    expect(wire.map((d) => d.df)).toEqual([false]);
    pair.clock.advance(1);
    expect(pair.received.b.map((r) => hex(r.frame))).toEqual([hex(frame)]);
  });

  it('fragments big non-DF packets itself when fragments do not get through', () => {
    const pair = makePair({ defaultPath: { dropFragments: true } });
    establish(pair);
    const wire: UnderlayDatagram[] = [];
    pair.underlay.tap((d) => wire.push(d));
    const frame = ipv4Frame({ ipLength: 4000 });
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [frame]);
    expect(wire.every((d) => d.df)).toBe(true);
    pair.clock.advance(1);
    const pieces = pair.received.b.map((r) => r.frame);
    expect(pieces.map((p) => (p[16]! << 8) | p[17]!)).toEqual([1436, 1436, 1168]);
    expect(pieces.every((p) => p.length - 14 <= 1438 && internetChecksum(p, 14, 34) === 0)).toBe(true);
    expect(pair.overlayA.diagnostics().counters.fragmented).toBe(1);
  });

  it('sends non-IP frames on the non-DF path even when fragments are blocked', () => {
    const pair = makePair({ defaultPath: { dropFragments: true } });
    establish(pair);
    const wire: UnderlayDatagram[] = [];
    pair.underlay.tap((d) => wire.push(d));
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [arpFrame(60)]);
    expect(wire.map((d) => d.df)).toEqual([false]);
  });
});

describe('sleeve forwarder: hostile or damaged traffic', () => {
  it('drops replayed encrypted datagrams silently and keeps working', () => {
    const pair = makePair({ encrypted: true });
    establish(pair);
    const captured: UnderlayDatagram[] = [];
    const untap = pair.underlay.tap((d) => captured.push(d));
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [arpFrame()]);
    untap();
    pair.clock.advance(1);
    expect(pair.received.b).toHaveLength(1);
    const replayed = captured[0]!.data;
    deliverFromA(pair, replayed, replayed, replayed);
    expect(pair.received.b).toHaveLength(1);
    expect(pair.overlayB.diagnostics().counters.duplicates).toBe(3);
    pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [arpFrame()]);
    pair.clock.advance(1);
    expect(pair.received.b).toHaveLength(2);
    expect(pair.events.filter((e) => e.includes('error'))).toEqual([]);
  });

  it('drops duplicated and reordered traffic of a lossy path exactly once each', () => {
    const pair = makePair({ encrypted: true, seed: 7, defaultPath: { duplicate: 0.5, reorder: 0.5 } });
    establish(pair);
    const frames = Array.from({ length: 40 }, (_, i) => {
      const f = arpFrame(1400);
      f[20] = i;
      return f;
    });
    for (const f of frames) pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [f]);
    pair.clock.advance(10);
    expect(pair.received.b.map((r) => r.frame[20]).sort((x, y) => x! - y!)).toEqual(frames.map((f) => f[20]));
    expect(pair.overlayB.diagnostics().counters.duplicates).toBeGreaterThan(0);
  });

  it('logs corrupted datagrams as decode errors and delivers nothing from them', () => {
    for (const encrypted of [true, false]) {
      const pair = makePair({ encrypted });
      establish(pair);
      const captured: UnderlayDatagram[] = [];
      const untap = pair.underlay.tap((d) => captured.push(d));
      pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [arpFrame(), arpFrame()]);
      untap();
      const damaged = captured[0]!.data.slice();
      if (encrypted) damaged[40]! ^= 0xff;
      else damaged[6 + 12] = 0xff; // first record claims a huge frame
      pair.clock.advance(1);
      const before = pair.received.b.length;
      deliverFromA(pair, damaged, damaged.subarray(0, 3));
      expect(pair.received.b.length).toBe(before);
      const counters = pair.overlayB.diagnostics().counters;
      expect(counters.decodeErrors).toBe(1);
      expect(counters.shortDatagrams).toBe(1);
      expect(
        pair.logs.some(
          (l) => l.startsWith('B sleeve ->[10.250.0.1:6783|') && l.includes('Failed to decode packet'),
        ),
      ).toBe(true);
      expect(pair.fb.established).toBe(true);
    }
  });

  it('only lets the connected peer send special frames, and only to us', () => {
    const pair = makePair();
    pair.fb.confirm();
    // A heartbeat for this connection, but claiming to come from a third peer.
    const spoofed = '0a00000000010a00000000090a0000000002001600000000000000000000000000009506b8534fd55308';
    deliverFromA(pair, fromHex(spoofed));
    expect(pair.fb.remoteAddress).toBeUndefined();
    expect(pair.received.b).toEqual([]);
  });
});
