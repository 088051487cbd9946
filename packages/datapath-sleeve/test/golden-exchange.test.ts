import type { Endpoint, OverlayFrame } from '@weave-ts/core';
import { describe, expect, it } from 'vitest';
import { isSpecialFrame, iterateFrameRecords, SleeveOverlay, SimulatedUnderlay } from '../src/index.js';
import { hex } from './frames.js';
import { bytesOf, captures } from './golden.js';
import { A, A_ADDR, B, CONN_UID } from './harness.js';
import { ManualClock } from './manual-clock.js';

const endpoint = (text: string): Endpoint => {
  const [host, port] = text.split(':');
  return { host: host!, port: Number(port) };
};

/** Our overlay in host A's place, talking to the captured host B. */
function hostA() {
  const clock = new ManualClock();
  const underlay = new SimulatedUnderlay({ clock });
  const overlay = new SleeveOverlay({ localPeer: A, socket: underlay.bind(A_ADDR), clock });
  const control: { tag: number; msg: string }[] = [];
  const received: OverlayFrame[] = [];
  overlay.onFramesReceived((frames) => received.push(...frames));
  const forwarder = overlay.prepareConnection({
    remotePeer: { name: B, nickname: 'hostB', uid: 2n },
    local: A_ADDR,
    remote: { host: '10.250.0.2', port: 51234 },
    outbound: false, // B dialled A in the capture
    connUID: CONN_UID,
    features: {},
    sendControlMessage: (tag, msg) => control.push({ tag, msg: hex(msg) }),
  });
  forwarder.confirm();
  const fromB = captures.ab.filter((d) => d.src === '10.250.0.2:6783');
  const inject = (d: (typeof fromB)[number]) => {
    underlay.inject(endpoint(d.src), A_ADDR, bytesOf(d));
    clock.advance(0);
  };
  return { clock, underlay, overlay, forwarder, control, received, fromB, inject };
}

describe('golden: our sleeve answering a stock Weave 2.8.1 peer', () => {
  it('acknowledges its heartbeat once over TCP (sub-tag 1, empty) and learns its UDP address', () => {
    const a = hostA();
    const heartbeats = a.fromB.filter((d) => d.hex.length / 2 === 42);
    a.inject(heartbeats[0]!);
    a.inject(heartbeats[1]!);
    expect(a.control).toEqual([{ tag: 1, msg: '' }]);
    expect(a.overlay.forwarderTo(B)?.remoteAddress).toEqual({ host: '10.250.0.2', port: 6783 });
  });

  it('answers the heartbeat with the same bytes upstream A sent', () => {
    const a = hostA();
    const sent: string[] = [];
    a.underlay.tap((d) => sent.push(hex(d.data)));
    a.inject(a.fromB[0]!);
    const upstreamA = captures.ab.find((d) => d.src === '10.250.0.1:6783' && d.hex.length / 2 === 42)!;
    expect(sent[0]).toBe(upstreamA.hex);
  });

  it('verifies its PMTU test frame for 1438 (sub-tag 3, 0x059e)', () => {
    const a = hostA();
    a.inject(a.fromB[0]!);
    a.inject(a.fromB.find((d) => d.hex.length / 2 === 1472)!);
    expect(a.control).toEqual([
      { tag: 1, msg: '' },
      { tag: 3, msg: '059e' },
    ]);
  });

  it('delivers its container frames to the local side, from B to A, byte for byte', () => {
    const a = hostA();
    a.inject(a.fromB[0]!);
    const data = a.fromB.filter((d) => d.hex.length / 2 !== 42 && d.hex.length / 2 !== 1472);
    for (const d of data) a.inject(d);
    const perDatagram = data.map((d) => {
      const frames: string[] = [];
      iterateFrameRecords(bytesOf(d).subarray(6), (_s, _d, f) => frames.push(hex(f)));
      return frames;
    });
    // Upstream packed some frames together (the 194-byte datagrams carry two).
    expect(perDatagram.some((frames) => frames.length === 2)).toBe(true);
    expect(a.received.map((f) => hex(f.frame))).toEqual(perDatagram.flat());
    expect(a.received.every((f) => f.src === B && f.dst === A && !isSpecialFrame(f.frame))).toBe(true);
  });
});
