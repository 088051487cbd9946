import { describe, expect, it } from 'vitest';
import { peerNameToBytes } from '@weave-ts/core';
import {
  makeHeartbeatFrame,
  PlainFrameEncoder,
  SimulatedUnderlay,
  SleeveOverlay,
  SleeveStoppedError,
} from '../src/index.js';
import { arpFrame } from './frames.js';
import { A, A_ADDR, B, establish, makePair } from './harness.js';
import { ManualClock } from './manual-clock.js';

describe('SleeveOverlay', () => {
  it('advertises no Overlays feature standalone: it is a compat peer', () => {
    const clock = new ManualClock();
    const overlay = new SleeveOverlay({
      localPeer: A,
      socket: new SimulatedUnderlay({ clock }).bind(A_ADDR),
      clock,
    });
    const alone: Record<string, string> = {};
    overlay.addFeaturesTo(alone);
    expect(alone).toEqual({});
    const withOthers: Record<string, string> = { Overlays: 'fastdp' };
    overlay.addFeaturesTo(withOthers);
    expect(withOthers).toEqual({ Overlays: 'fastdp' });
  });

  it('stops every forwarder quietly, closes the socket and refuses new connections', async () => {
    const pair = makePair();
    establish(pair);
    await pair.overlayA.stop();
    await pair.overlayB.stop();
    pair.clock.advance(120_000);
    expect(pair.events).toEqual(['A established', 'B established']);
    expect(pair.clock.pending).toBe(0);
    expect(() =>
      pair.overlayA.prepareConnection({
        remotePeer: { name: B, nickname: 'b', uid: 1n },
        local: A_ADDR,
        remote: A_ADDR,
        outbound: true,
        connUID: 1n,
        features: {},
        sendControlMessage: () => {},
      }),
    ).toThrow(SleeveStoppedError);
    // The address is free again.
    expect(() => pair.underlay.bind(A_ADDR)).not.toThrow();
  });

  it('routes through the confirmed forwarder of the next hop only', () => {
    const pair = makePair();
    expect(pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [arpFrame()])).toBe('no-connection');
    establish(pair);
    expect(pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [arpFrame()])).toBe('forwarded');
    pair.clock.advance(1);
    expect(pair.received.b).toHaveLength(1);
  });

  it('reports its forwarders and counters', () => {
    const pair = makePair({ encrypted: true });
    establish(pair);
    const report = pair.overlayB.diagnostics();
    expect(report.localPeer).toBe(B);
    expect(report.localAddress).toBe('10.250.0.2:6783');
    expect(report.forwarders).toEqual([
      {
        peer: A,
        remoteAddress: '10.250.0.1:6783',
        outbound: false,
        established: true,
        mtu: 1414,
        stackFrag: true,
        encrypted: true,
      },
    ]);
    expect(report.counters.datagramsSent).toBeGreaterThan(0);
  });

  it('logs unknown and truncated control messages without failing', () => {
    const pair = makePair();
    establish(pair);
    pair.fa.controlMessage(9, new Uint8Array(0));
    pair.fa.controlMessage(3, Uint8Array.of(5));
    expect(pair.logs.filter((l) => l.startsWith('A ')).slice(-2)).toEqual([
      'A sleeve ->[10.250.0.2:6783|0a:00:00:00:00:02(hostB)]: Ignoring unknown control message tag: 9',
      'A sleeve ->[10.250.0.2:6783|0a:00:00:00:00:02(hostB)]: Received truncated MTUTestAck',
    ]);
    expect(pair.fa.established).toBe(true);
  });

  it('fails the forwarder when the control connection cannot take its message', () => {
    const clock = new ManualClock();
    const underlay = new SimulatedUnderlay({ clock });
    const overlay = new SleeveOverlay({
      localPeer: B,
      socket: underlay.bind({ host: '10.0.0.2', port: 6783 }),
      clock,
    });
    const fwd = overlay.prepareConnection({
      remotePeer: { name: A, nickname: 'a', uid: 1n },
      local: { host: '10.0.0.2', port: 6783 },
      remote: { host: '10.0.0.1', port: 1234 },
      outbound: false,
      connUID: 5n,
      features: {},
      sendControlMessage: () => {
        throw new Error('connection closed');
      },
    });
    const errors: string[] = [];
    fwd.on('error', (e) => errors.push(e.message));
    fwd.confirm();
    const encoder = new PlainFrameEncoder(peerNameToBytes(A));
    encoder.append(peerNameToBytes(A), peerNameToBytes(B), makeHeartbeatFrame(5n));
    const heartbeat = encoder.seal();
    underlay.inject({ host: '10.0.0.1', port: 6783 }, { host: '10.0.0.2', port: 6783 }, heartbeat);
    clock.advance(0);
    expect(errors).toEqual(['connection closed']);
  });
});
