// The DNS server on 127.0.0.1 through real clients: node:dns (c-ares), dig when installed, and raw
// packets for what resolvers hide (flags, truncation, ids).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { promisify } from 'node:util';
import { parsePeerName, type Random } from '@weave-ts/core';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAG_AA, FLAG_RA, FLAG_TC } from '../src/message.js';
import { Nameserver } from '../src/nameserver.js';
import { DnsServer } from '../src/server.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { addressesOf, decode, OffsetClock, query, seededRandom, tcpQueries, udpQuery } from './helpers.js';

const run = promisify(execFile);
const hasDig = await run('sh', ['-c', 'command -v dig']).then(
  () => true,
  () => false,
);

function resolverFor(port: number): Resolver {
  const r = new Resolver({ timeout: 1500, tries: 1 });
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

/** A Random whose `int` draws come first from `fixed` (to pin forwarded query ids). */
function pinnedRandom(fixed: number[]): Random {
  const base = seededRandom(7);
  return { ...base, int: (n) => (fixed.length > 0 ? fixed.shift()! % n : base.int(n)) };
}

describe('DnsServer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weave-dns-'));
  const resolvConf = join(dir, 'resolv.conf');
  let upstream: FakeUpstream;
  let ns: Nameserver;
  let server: DnsServer;
  let port: number;
  let resolver: Resolver;
  const pinned: number[] = [];
  const random = pinnedRandom(pinned);

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      'example.com': [{ type: 'A', name: 'example.com', ttl: 60, data: '1.2.3.4' }],
      '9.9.9.9.in-addr.arpa': [{ type: 'PTR', name: '9.9.9.9.in-addr.arpa', ttl: 60, data: 'nine.example' }],
    });
    writeFileSync(resolvConf, '# test\nsearch example\nnameserver 127.0.0.1\noptions ndots:1\n');
    ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
    ns.add('c1', '10.32.0.1', 'web1.weave.local.');
    ns.add('c2', '10.32.0.2', 'Web2.weave.local.');
    for (let i = 1; i <= 3; i++) ns.add(`m${i}`, `10.32.1.${i}`, 'multi.weave.local.');
    for (let i = 0; i < 100; i++) ns.add(`b${i}`, `10.33.0.${i}`, 'big.weave.local.');
    server = new DnsServer({
      nameserver: ns,
      host: '127.0.0.1',
      port: 0,
      resolvConf,
      upstreamPort: upstream.port,
      upstreamTimeoutMs: 500,
      random,
    });
    ({ udpPort: port } = await server.start());
    resolver = resolverFor(port);
  });

  afterAll(async () => {
    await server.stop();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on one port for UDP and TCP', () => {
    expect(server.address()).toEqual({ host: '127.0.0.1', udpPort: port, tcpPort: port });
  });

  it('resolves names in the domain, case-insensitively, through a real resolver', async () => {
    expect(await resolver.resolve4('web1.weave.local')).toEqual(['10.32.0.1']);
    expect(await resolver.resolve4('WEB1.Weave.LOCAL')).toEqual(['10.32.0.1']);
    expect(await resolver.resolve4('web2.weave.local')).toEqual(['10.32.0.2']);
    expect((await resolver.resolve4('multi.weave.local')).sort()).toEqual([
      '10.32.1.1',
      '10.32.1.2',
      '10.32.1.3',
    ]);
  });

  it('appends the domain to single-label names', async () => {
    expect(await resolver.resolve4('web1')).toEqual(['10.32.0.1']);
  });

  it('answers with AA and RA, TTL 1, every address, in shuffled order', async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const reply = decode(await udpQuery(port, query('multi.weave.local', 'A')));
      expect(reply.flags! & FLAG_AA).toBeTruthy();
      expect(reply.flags! & FLAG_RA).toBeTruthy();
      expect(reply.rcode).toBe('NOERROR');
      expect(reply.answers?.every((a) => a.type === 'A' && a.ttl === 1)).toBe(true);
      expect(addressesOf(reply)).toEqual(['10.32.1.1', '10.32.1.2', '10.32.1.3']);
      orders.add((reply.answers ?? []).map((a) => (a as { data: string }).data).join());
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('gives NXDOMAIN for unknown names in the domain, NOERROR without answers for other types', async () => {
    await expect(resolver.resolve4('nope.weave.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolveMx('web1.weave.local')).rejects.toMatchObject({ code: 'ENODATA' });
    const aaaa = decode(await udpQuery(port, query('web1.weave.local', 'AAAA')));
    expect(aaaa.rcode).toBe('NOERROR');
    expect(aaaa.answers).toEqual([]);
    expect(aaaa.flags! & FLAG_AA).toBeTruthy();
    const nx = decode(await udpQuery(port, query('nope.weave.local', 'A')));
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.flags! & FLAG_RA).toBeTruthy();
  });

  it('follows a name removed or added at run time', async () => {
    ns.add('c9', '10.32.0.9', 'late.weave.local.');
    expect(await resolver.resolve4('late.weave.local')).toEqual(['10.32.0.9']);
    ns.containerDied('c9');
    await expect(resolver.resolve4('late.weave.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('answers reverse lookups from records and forwards unknown addresses', async () => {
    expect(await resolver.reverse('10.32.0.1')).toEqual(['web1.weave.local']);
    expect(await resolver.reverse('9.9.9.9')).toEqual(['nine.example']);
    const bad = decode(await udpQuery(port, query('1.2.3.in-addr.arpa', 'PTR')));
    expect(bad.rcode).toBe('NXDOMAIN');
    const notPtr = decode(await udpQuery(port, query('1.0.32.10.in-addr.arpa', 'A')));
    expect(notPtr.rcode).toBe('NXDOMAIN');
  });

  it('forwards other names upstream under a new id and restores the client id', async () => {
    expect(await resolver.resolve4('example.com')).toEqual(['1.2.3.4']);
    pinned.push(0xbeef);
    const reply = decode(await udpQuery(port, query('example.com', 'A', 0x1234)));
    expect(reply.id).toBe(0x1234);
    expect(addressesOf(reply)).toEqual(['1.2.3.4']);
    expect(upstream.seenIds.at(-1)).toBe(0xbeef);
    const nx = decode(await udpQuery(port, query('missing.example.com', 'A')));
    expect(nx.rcode).toBe('NXDOMAIN');
  });

  it('forwards over TCP when asked over TCP', async () => {
    const [reply] = await tcpQueries(port, [query('example.com', 'A', 77)]);
    expect(decode(reply!).id).toBe(77);
    expect(addressesOf(decode(reply!))).toEqual(['1.2.3.4']);
  });

  it('truncates big UDP replies with TC; EDNS0 and TCP get every address (TestTruncation)', async () => {
    const small = await udpQuery(port, query('big.weave.local', 'A'));
    const r1 = decode(small);
    expect(r1.flags! & FLAG_TC).toBeTruthy();
    expect(small.length).toBeLessThanOrEqual(512);
    expect(r1.answers!.length).toBeGreaterThan(0);
    expect(r1.answers!.length).toBeLessThan(100);

    const edns = decode(await udpQuery(port, query('big.weave.local', 'A', 1, 65535)));
    expect(edns.flags! & FLAG_TC).toBeFalsy();
    expect(edns.answers).toHaveLength(100);

    const midSize = await udpQuery(port, query('big.weave.local', 'A', 1, 1200));
    expect(midSize.length).toBeLessThanOrEqual(1200);
    expect(decode(midSize).answers!.length).toBeGreaterThan(r1.answers!.length);

    const [tcp] = await tcpQueries(port, [query('big.weave.local', 'A')]);
    expect(decode(tcp!).flags! & FLAG_TC).toBeFalsy();
    expect(decode(tcp!).answers).toHaveLength(100);

    // A resolver retries over TCP on TC and gets them all.
    expect(await resolver.resolve4('big.weave.local')).toHaveLength(100);
  });

  it('serves several queries on one TCP connection', async () => {
    const names = ['web1.weave.local', 'multi.weave.local', 'nope.weave.local', 'web2'];
    const replies = await tcpQueries(
      port,
      names.map((n, i) => query(n, 'A', 100 + i)),
    );
    const byId = new Map(replies.map((r) => [decode(r).id, decode(r)]));
    expect(addressesOf(byId.get(100)!)).toEqual(['10.32.0.1']);
    expect(addressesOf(byId.get(101)!)).toHaveLength(3);
    expect(byId.get(102)!.rcode).toBe('NXDOMAIN');
    expect(addressesOf(byId.get(103)!)).toEqual(['10.32.0.2']);
  });

  it('handles question counts other than one: NXDOMAIN locally, FORMERR for none', async () => {
    const two = dnsPacket.encode({
      type: 'query',
      id: 5,
      questions: [
        { type: 'A', name: 'web1.weave.local' },
        { type: 'A', name: 'web2.weave.local' },
      ],
    });
    expect(decode(await udpQuery(port, two)).rcode).toBe('NXDOMAIN');
    const none = dnsPacket.encode({ type: 'query', id: 6, questions: [] });
    const reply = decode(await udpQuery(port, none));
    expect(reply.id).toBe(6);
    expect(reply.rcode).toBe('FORMERR');
  });

  it('answers other opcodes with NOTIMP and ignores responses', async () => {
    const notify = query('web1.weave.local', 'A', 8);
    notify.writeUInt16BE((notify.readUInt16BE(2) & ~0x7800) | (4 << 11), 2);
    expect(decode(await udpQuery(port, notify)).rcode).toBe('NOTIMP');
    const response = query('web1.weave.local', 'A', 9);
    response[2] = response[2]! | 0x80;
    await expect(udpQuery(port, response, 300)).rejects.toThrow(/timed out/);
    expect(await resolver.resolve4('web1.weave.local')).toEqual(['10.32.0.1']);
  });

  it.skipIf(!hasDig)('answers dig: +short, flags, +tcp, truncation and reverse', async () => {
    const dig = async (...args: string[]) =>
      (await run('dig', [`@127.0.0.1`, '-p', String(port), '+time=2', '+tries=1', ...args])).stdout;
    expect((await dig('+short', 'web1.weave.local')).trim()).toBe('10.32.0.1');
    expect((await dig('+short', 'WeB1.WeAvE.LoCaL')).trim()).toBe('10.32.0.1');
    expect(await dig('web1.weave.local')).toMatch(/flags: qr aa rd ra;/);
    expect((await dig('+short', '+tcp', 'big.weave.local')).trim().split('\n')).toHaveLength(100);
    expect(await dig('+noedns', '+ignore', 'big.weave.local')).toMatch(/flags: qr aa tc rd ra;/);
    expect((await dig('+short', '-x', '10.32.0.2')).trim()).toBe('Web2.weave.local.');
    expect(await dig('MX', 'web1.weave.local')).toMatch(/status: NOERROR.*\n.*ANSWER: 0/);
    expect(await dig('nope.weave.local')).toMatch(/status: NXDOMAIN/);
    expect((await dig('+short', 'example.com')).trim()).toBe('1.2.3.4');
  });
});

describe('DnsServer upstream failures and resolv.conf changes', () => {
  it('gives SERVFAIL when every upstream times out or refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weave-dns-'));
    const resolvConf = join(dir, 'resolv.conf');
    const silent = await startFakeUpstream({}, true);
    writeFileSync(resolvConf, 'nameserver 127.0.0.1\n');
    const ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
    const mk = (upstreamPort: number) =>
      new DnsServer({
        nameserver: ns,
        host: '127.0.0.1',
        port: 0,
        resolvConf,
        upstreamPort,
        upstreamTimeoutMs: 200,
      });
    const toSilent = mk(silent.port);
    const toClosed = mk(1); // nothing listens on port 1: ICMP port unreachable
    try {
      const p1 = (await toSilent.start()).udpPort;
      const p2 = (await toClosed.start()).udpPort;
      const t0 = Date.now();
      await expect(resolverFor(p1).resolve4('example.com')).rejects.toMatchObject({ code: 'ESERVFAIL' });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
      expect(silent.seenNames).toContain('example.com');
      await expect(resolverFor(p2).resolve4('example.com')).rejects.toMatchObject({ code: 'ESERVFAIL' });
      const [tcp] = await tcpQueries(p2, [query('example.com', 'A', 3)]);
      expect(decode(tcp!).rcode).toBe('SERVFAIL');
    } finally {
      await toSilent.stop();
      await toClosed.stop();
      await silent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('re-reads resolv.conf only after 5 s and only when its mtime changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weave-dns-'));
    const resolvConf = join(dir, 'resolv.conf');
    const a = await startFakeUpstream({
      'x.example': [{ type: 'A', name: 'x.example', ttl: 5, data: '1.1.1.1' }],
    });
    writeFileSync(resolvConf, 'nameserver 127.0.0.1\n');
    const clock = new OffsetClock();
    const ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
    const server = new DnsServer({
      nameserver: ns,
      host: '127.0.0.1',
      port: 0,
      resolvConf,
      upstreamPort: a.port,
      upstreamTimeoutMs: 300,
      clock,
    });
    try {
      const { udpPort } = await server.start();
      const r = resolverFor(udpPort);
      expect(await r.resolve4('x.example')).toEqual(['1.1.1.1']);
      // Replace the upstream with an address nothing answers on.
      writeFileSync(resolvConf, 'nameserver 127.0.0.3\n');
      utimesSync(resolvConf, new Date(), new Date(Date.now() + 10_000));
      clock.offsetMs += 4000; // under 5 s since the last check: old list still used
      expect(await r.resolve4('x.example')).toEqual(['1.1.1.1']);
      clock.offsetMs += 1500;
      expect(server.upstream.servers()).toEqual(['127.0.0.3']);
      await expect(r.resolve4('x.example')).rejects.toMatchObject({ code: 'ESERVFAIL' });
      // Back again.
      writeFileSync(resolvConf, 'nameserver 127.0.0.1\n');
      utimesSync(resolvConf, new Date(), new Date(Date.now() + 20_000));
      clock.offsetMs += 5000;
      expect(await r.resolve4('x.example')).toEqual(['1.1.1.1']);
    } finally {
      await server.stop();
      await a.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('releases its port on stop()', async () => {
    const ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
    const s1 = new DnsServer({ nameserver: ns, host: '127.0.0.1', port: 0, upstream: { servers: () => [] } });
    const { udpPort } = await s1.start();
    await s1.stop();
    const s2 = new DnsServer({
      nameserver: ns,
      host: '127.0.0.1',
      port: udpPort,
      upstream: { servers: () => [] },
    });
    expect((await s2.start()).udpPort).toBe(udpPort);
    await s2.stop();
  });
});
