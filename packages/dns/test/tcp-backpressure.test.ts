// DNS over TCP against a client that pipelines queries and never reads: the server stops reading once
// its replies back up, its memory stays bounded, and the connection is closed; well-behaved pipelining
// still gets every answer.
import * as net from 'node:net';
import { parsePeerName } from '@weave-ts/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nameserver } from '../src/nameserver.js';
import { DnsServer } from '../src/server.js';
import { TcpMessageReader } from '../src/tcp-message-reader.js';
import { query, tcpQueries } from './helpers.js';

describe('DNS over TCP backpressure', () => {
  let server: DnsServer;
  let port: number;

  beforeAll(async () => {
    const ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
    for (let i = 0; i < 20; i++) ns.add(`c${i}`, `10.32.0.${i + 1}`, 'many.weave.local.');
    server = new DnsServer({ nameserver: ns, host: '127.0.0.1', port: 0, upstream: { servers: () => [] } });
    ({ tcpPort: port } = await server.start());
  });

  afterAll(async () => {
    await server.stop();
  });

  it('a never-reading client that pipelines 300 000 queries does not grow server memory', async () => {
    const q = query('many.weave.local', 'A'); // each reply carries 20 addresses (~360 bytes)
    const framed = Buffer.alloc(q.length + 2);
    framed.writeUInt16BE(q.length, 0);
    q.copy(framed, 2);
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => framed));
    const client = net.connect(port, '127.0.0.1');
    client.pause(); // never read a reply
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    let closed = false;
    client.on('close', () => {
      closed = true;
    });
    client.on('error', () => {});
    const before = process.memoryUsage();
    let peak = 0;
    let sent = 0;
    const sample = () => {
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed - before.heapUsed + m.arrayBuffers - before.arrayBuffers);
    };
    // Write as fast as the server takes it; stop when it stops taking (no drain for 2 s).
    while (sent < 300 && !closed) {
      const ok = client.write(batch);
      sent++;
      sample();
      if (!ok) {
        const drained = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 2000);
          client.once('drain', () => {
            clearTimeout(t);
            resolve(true);
          });
        });
        if (!drained) break;
      }
    }
    sample();
    // The server stopped reading well before all queries were taken (it would have buffered >100 MB).
    expect(sent).toBeLessThan(300);
    expect(peak).toBeLessThan(48 << 20);
    expect(server.tcpBufferedBytes()).toBeLessThanOrEqual(256 * 1024 + 65_536);
    client.destroy();
  });

  it('a client pipelining queries and reading replies gets every answer, in order', async () => {
    const qs = Array.from({ length: 2000 }, (_, i) => query('many.weave.local', 'A', i + 1));
    const replies = await tcpQueries(port, qs, 10_000);
    expect(replies).toHaveLength(2000);
    expect(replies.map((r) => r.readUInt16BE(0))).toEqual(qs.map((_, i) => i + 1));
  });
});

describe('TcpMessageReader', () => {
  it('reassembles a 64 KiB message from 1-byte segments copying each byte once', () => {
    const body = Buffer.alloc(65_535, 7);
    body[0] = 1;
    body[65_534] = 2;
    const wire = Buffer.concat([Buffer.from([0xff, 0xff]), body, Buffer.from([0, 1, 9])]);
    const r = new TcpMessageReader();
    const got: Buffer[] = [];
    for (let i = 0; i < wire.length; i++) {
      r.push(wire.subarray(i, i + 1));
      for (let m = r.next(); m !== undefined; m = r.next()) got.push(m);
    }
    expect(got).toHaveLength(2);
    expect(got[0]!.equals(body)).toBe(true);
    expect([...got[1]!]).toEqual([9]);
    expect(r.copied).toBe(65_536);
    expect(r.buffered).toBe(0);
  });

  it('splits many messages out of one chunk and keeps a partial one', () => {
    const r = new TcpMessageReader();
    r.push(Buffer.from([0, 2, 1, 2, 0, 0, 0, 3, 5]));
    expect([...r.next()!]).toEqual([1, 2]);
    expect([...r.next()!]).toEqual([]);
    expect(r.next()).toBeUndefined();
    r.push(Buffer.from([6, 7]));
    expect([...r.next()!]).toEqual([5, 6, 7]);
  });
});
