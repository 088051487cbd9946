// Malformed packets over UDP and TCP never stop the server: each gets a well-formed reply (FORMERR for
// what does not parse) or none, and normal queries keep working.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { parsePeerName } from '@weave-ts/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nameserver } from '../src/nameserver.js';
import { DnsServer } from '../src/server.js';
import { addressesOf, decode, query, seededRandom, tcpQueries, udpQuery } from './helpers.js';

const random = seededRandom(2024);

/** Random bytes, and valid queries with random bytes flipped, cut or appended. */
function fuzzPackets(count: number): Buffer[] {
  const seeds = [
    query('web.weave.local', 'A', 1),
    query('web.weave.local', 'A', 2, 4096),
    query('4.0.0.10.in-addr.arpa', 'PTR', 3),
    query('web', 'TXT', 4),
  ];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0) {
      out.push(Buffer.from(random.bytes(random.int(80))));
      continue;
    }
    const p = Buffer.from(seeds[random.int(seeds.length)]!);
    const flips = 1 + random.int(6);
    for (let f = 0; f < flips; f++) p[random.int(p.length)] = random.int(256);
    p[2] = p[2]! & 0x7f; // keep QR clear most of the time, so replies are expected
    const shape = random.int(4);
    if (shape === 0) out.push(p.subarray(0, random.int(p.length)));
    else if (shape === 1) out.push(Buffer.concat([p, Buffer.from(random.bytes(random.int(40)))]));
    else out.push(p);
  }
  return out;
}

/** Every reply must at least be a response header. */
function expectWellFormed(reply: Buffer): void {
  expect(reply.length).toBeGreaterThanOrEqual(12);
  expect(reply[2]! & 0x80).toBe(0x80);
}

describe('malformed packets', () => {
  let server: DnsServer;
  let port: number;

  beforeAll(async () => {
    const ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
    ns.add('c1', '10.0.0.4', 'web.weave.local.');
    // No upstreams: anything forwarded fails at once with SERVFAIL.
    server = new DnsServer({ nameserver: ns, host: '127.0.0.1', port: 0, upstream: { servers: () => [] } });
    ({ udpPort: port } = await server.start());
  });
  afterAll(async () => {
    await server.stop();
  });

  it('UDP: answers or drops each one, and keeps serving', async () => {
    const sock = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    sock.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const packets = fuzzPackets(1500);
    for (let i = 0; i < packets.length; i += 50) {
      for (const p of packets.slice(i, i + 50)) sock.send(p, port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 200));
    sock.close();
    expect(replies.length).toBeGreaterThan(300);
    for (const r of replies) expectWellFormed(r);
    const rcodes = new Set(replies.map((r) => r[3]! & 0x0f));
    expect(rcodes.has(1)).toBe(true); // FORMERR seen
    expect(addressesOf(decode(await udpQuery(port, query('web.weave.local', 'A'))))).toEqual(['10.0.0.4']);
  });

  it('TCP: garbage frames get FORMERR or nothing; the connection and server keep working', async () => {
    const packets = fuzzPackets(300).filter((p) => p.length > 0);
    // One connection carrying every fuzzed frame followed by a good query.
    const replies = await new Promise<Buffer[]>((resolve, reject) => {
      const got: Buffer[] = [];
      let pending: Buffer = Buffer.alloc(0);
      const sock = net.connect({ port, host: '127.0.0.1' }, () => {
        for (const p of [...packets, query('web.weave.local', 'A', 0xabcd)]) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(p.length);
          sock.write(Buffer.concat([len, p]));
        }
      });
      const timer = setTimeout(() => reject(new Error('no reply to the good query')), 5000);
      sock.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= pending.readUInt16BE(0) + 2) {
          const n = pending.readUInt16BE(0);
          const reply = pending.subarray(2, n + 2);
          got.push(reply);
          pending = pending.subarray(n + 2);
          if (reply.readUInt16BE(0) === 0xabcd && reply.length > 12 && decode(reply).answers?.length) {
            clearTimeout(timer);
            sock.end();
            resolve(got);
          }
        }
      });
      sock.on('error', reject);
    });
    for (const r of replies) expectWellFormed(r);
    // Forwarded (SERVFAIL) replies may come after it: TCP replies need not keep request order.
    const good = replies.find((r) => r.readUInt16BE(0) === 0xabcd && (r[3]! & 0x0f) === 0);
    expect(addressesOf(decode(good!))).toEqual(['10.0.0.4']);

    // A frame announcing more bytes than ever arrive, then the client goes away: nothing breaks.
    await new Promise<void>((resolve) => {
      const sock = net.connect({ port, host: '127.0.0.1' }, () => {
        sock.end(Buffer.from([0xff, 0xff, 1, 2, 3]));
        resolve();
      });
    });
    const [after] = await tcpQueries(port, [query('web.weave.local', 'A', 5)]);
    expect(addressesOf(decode(after!))).toEqual(['10.0.0.4']);
  });
});
