import type { DatagramSocket, Endpoint } from '@weave-ts/core';
import { UdpTransport } from '@weave-ts/core/protocol';
import { afterEach, describe, expect, it } from 'vitest';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const open: DatagramSocket[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function bind(): Promise<DatagramSocket> {
  const s = await new UdpTransport().bind({ host: '127.0.0.1', port: 0 });
  open.push(s);
  return s;
}

/** Collects batches until `count` datagrams have arrived. */
function receive(socket: DatagramSocket, count: number) {
  const batches: { data: Uint8Array; from: Endpoint }[][] = [];
  const done = new Promise<typeof batches>((resolve) => {
    let n = 0;
    socket.onReceive((batch) => {
      batches.push([...batch]);
      n += batch.length;
      if (n >= count) resolve(batches);
    });
  });
  return done;
}

describe('UdpTransport', () => {
  it('binds port 0 and reports the bound endpoint', async () => {
    const s = await bind();
    expect(s.local.host).toBe('127.0.0.1');
    expect(s.local.port).toBeGreaterThan(0);
  });

  it('sends gathered buffers as one datagram and reports the sender', async () => {
    const a = await bind();
    const b = await bind();
    const got = receive(b, 2);
    a.send([[bytes('gath'), bytes('ered')], [bytes('second')]], b.local);
    const batches = await got;
    const all = batches.flat();
    expect(all.map((d) => text(d.data))).toEqual(['gathered', 'second']);
    expect(all[0]!.from).toEqual(a.local);
    expect(all[0]!.data).toBeInstanceOf(Uint8Array);
  });

  it('delivers datagrams of one event-loop turn in few batches', async () => {
    const a = await bind();
    const b = await bind();
    const n = 200;
    const got = receive(b, n);
    a.send(
      Array.from({ length: n }, (_, i) => [bytes(String(i))]),
      b.local,
    );
    const batches = await got;
    const all = batches.flat().map((d) => Number(text(d.data)));
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(batches.length).toBeLessThan(n / 4);
  });

  it('drops sends after close and delivers nothing more', async () => {
    const a = await bind();
    const b = await bind();
    let received = 0;
    b.onReceive((batch) => {
      received += batch.length;
    });
    await b.close();
    a.send([[bytes('late')]], b.local);
    await a.close();
    a.send([[bytes('after close')]], b.local);
    await new Promise((r) => setTimeout(r, 30));
    expect(received).toBe(0);
  });

  it('rejects binding a port in use', async () => {
    const a = await bind();
    await expect(new UdpTransport().bind({ host: '127.0.0.1', port: a.local.port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
