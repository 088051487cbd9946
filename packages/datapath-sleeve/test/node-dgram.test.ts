import type { DatagramSocket, Endpoint } from '@weave-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bindNodeDgramSocket,
  bindSleeveOverlay,
  type ReceivedDatagram,
  sleeveSocketOverDatagram,
} from '../src/index.js';
import { arpFrame, hex, ipv4Frame } from './frames.js';
import { A, B } from './harness.js';
import { connectOverlays, until } from './real-sockets.js';

const LOOPBACK: Endpoint = { host: '127.0.0.1', port: 0 };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('node:dgram socket', () => {
  it('sends gathered buffer lists as single datagrams and delivers them in batches', async () => {
    const a = await bindNodeDgramSocket(LOOPBACK);
    const b = await bindNodeDgramSocket(LOOPBACK);
    cleanup.push(
      () => a.close(),
      () => b.close(),
    );
    expect(b.local.port).toBeGreaterThan(0);
    const batches: (readonly ReceivedDatagram[])[] = [];
    b.onReceive((batch) => batches.push(batch));
    a.send(
      [[Uint8Array.of(1, 2), Uint8Array.of(3)], [Uint8Array.of(4)], [new Uint8Array(3000).fill(9)]],
      b.local,
    );
    await until(() => batches.flat().length === 3);
    const received = batches.flat();
    expect(received.map((d) => d.data.length)).toEqual([3, 1, 3000]);
    expect(hex(received[0]!.data)).toBe('010203');
    expect(received[0]!.from).toEqual({ host: '127.0.0.1', port: a.local.port });
    expect(batches.length).toBeLessThanOrEqual(3);
  });

  it('drops sends after close', async () => {
    const a = await bindNodeDgramSocket(LOOPBACK);
    const b = await bindNodeDgramSocket(LOOPBACK);
    cleanup.push(() => b.close());
    const got: ReceivedDatagram[] = [];
    b.onReceive((batch) => got.push(...batch));
    await a.close();
    a.send([[Uint8Array.of(1)]], b.local);
    await new Promise((r) => setTimeout(r, 30));
    expect(got).toEqual([]);
  });
});

describe('sleeve socket over a plain datagram socket', () => {
  function fake() {
    const sent: number[] = [];
    const socket: DatagramSocket = {
      local: { host: '10.0.0.1', port: 6783 },
      send: (datagrams) => sent.push(...datagrams.map((d) => d.reduce((n, p) => n + p.length, 0))),
      onReceive: () => {},
      close: async () => {},
    };
    return { socket, sent };
  }

  it('refuses DF datagrams beyond the configured path MTU with EMSGSIZE, sends the rest', () => {
    const { socket, sent } = fake();
    const sleeve = sleeveSocketOverDatagram(socket, { pathMtu: 1000 });
    const to = { host: '10.0.0.2', port: 6783 };
    expect(sleeve.send([[new Uint8Array(972)]], to, { df: true })).toBeUndefined();
    expect(sleeve.send([[new Uint8Array(973)], [new Uint8Array(10)]], to, { df: true })).toEqual({
      code: 'EMSGSIZE',
      pmtu: 1000,
    });
    expect(sleeve.send([[new Uint8Array(5000)]], to, { df: false })).toBeUndefined();
    expect(sent).toEqual([972, 10, 5000]);
  });

  it('defaults to a 1500-byte path', () => {
    const { socket } = fake();
    const sleeve = sleeveSocketOverDatagram(socket);
    expect(sleeve.send([[new Uint8Array(1473)]], socket.local, { df: true })?.pmtu).toBe(1500);
  });
});

describe('two sleeve overlays over real loopback UDP', () => {
  it('establish, discover MTU 1438 for a 1500 path, and carry frames both ways', async () => {
    const a = await bindSleeveOverlay({ localPeer: A, local: LOOPBACK, socket: 'dgram' });
    const b = await bindSleeveOverlay({ localPeer: B, local: LOOPBACK, socket: 'dgram' });
    cleanup.push(
      () => a.stop(),
      () => b.stop(),
    );
    const { fa, fb, received } = connectOverlays(a, b, { host: '127.0.0.1', port: 1 });
    await until(() => fa.established && fb.established);
    await until(() => fa.mtu === 1438 && fb.mtu === 1438);
    expect(fb.remoteAddress).toEqual(a.local);

    const frame = ipv4Frame({ ipLength: 1438, df: true });
    expect(a.forward({ srcPeer: A, dstPeer: B }, [frame, arpFrame()])).toBe('forwarded');
    expect(b.forward({ srcPeer: B, dstPeer: A }, [arpFrame(60)])).toBe('forwarded');
    await until(() => received.b.length === 2 && received.a.length === 1);
    // The DF and non-DF paths are separate datagrams: their relative order is not kept.
    expect(received.b.map((f) => hex(f.frame)).sort()).toEqual([hex(frame), hex(arpFrame())].sort());
    expect(a.forward({ srcPeer: A, dstPeer: B }, [frame], { via: A })).toBe('no-connection');
    expect(a.diagnostics().forwarders).toEqual([
      {
        peer: B,
        remoteAddress: `127.0.0.1:${b.local.port}`,
        outbound: true,
        established: true,
        mtu: 1438,
        stackFrag: true,
        encrypted: false,
      },
    ]);
  });
});
