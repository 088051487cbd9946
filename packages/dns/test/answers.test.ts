// Reply building without sockets: truncation (dns_test.go TestTruncateResponse), the fast path's
// equivalence with the dns-packet path, names, and resolv.conf parsing.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePeerName } from '@weave-ts/core';
import dnsPacket, { type Answer } from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Forwarder } from '../src/forwarder.js';
import { encodeFitted, FLAG_TC } from '../src/message.js';
import { Nameserver } from '../src/nameserver.js';
import { fqdn, inDomain, isSingleLabel, parseReverseName } from '../src/names.js';
import { QueryHandler } from '../src/query-handler.js';
import { parseResolvConf, ResolvConfUpstream } from '../src/upstream.js';
import { decode, query, seededRandom } from './helpers.js';
import { VirtualClock } from '@weave-ts/core/testing';

describe('encodeFitted (TestTruncateResponse)', () => {
  it('never exceeds the limit and keeps the largest prefix that fits', () => {
    const random = seededRandom(99);
    for (let i = 0; i < 300; i++) {
      const n = 40 + random.int(200);
      const answers: Answer[] = Array.from({ length: n }, (_, j) => ({
        type: 'A',
        name: 'host.domain.com',
        class: 'IN',
        ttl: 30,
        data: `10.0.${j >> 8}.${j & 255}`,
      }));
      const maxSize = 512 + random.int(1024);
      const out = encodeFitted({ id: 1, type: 'response', questions: [] }, answers, maxSize);
      expect(out.length).toBeLessThanOrEqual(maxSize);
      const got = decode(out).answers!.length;
      expect(Boolean(decode(out).flags! & FLAG_TC)).toBe(got < n);
      if (got === n) continue;
      // One more answer would not have fitted.
      const oneMore = dnsPacket.encodingLength({
        id: 1,
        type: 'response',
        questions: [],
        answers: answers.slice(0, got + 1),
      });
      expect(oneMore).toBeGreaterThan(maxSize);
    }
  });

  it('never cuts a single answer, nor a reply that fits', () => {
    const one: Answer[] = [{ type: 'A', name: 'x'.repeat(60), data: '1.2.3.4' }];
    expect(decode(encodeFitted({ type: 'response' }, one, 20)).answers).toHaveLength(1);
    const two: Answer[] = [one[0]!, { type: 'A', name: 'y', data: '1.2.3.5' }];
    const fits = decode(encodeFitted({ type: 'response' }, two, 512));
    expect(fits.answers).toHaveLength(2);
    expect(fits.flags! & FLAG_TC).toBeFalsy();
  });
});

describe('fast path', () => {
  function handlers() {
    const ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
    ns.add('c', '10.0.0.1', 'one.weave.local.');
    for (let i = 0; i < 150; i++) ns.add(`c${i}`, `10.1.${i >> 8}.${i & 255}`, 'many.weave.local.');
    for (let i = 0; i < 3; i++) ns.add(`d${i}`, `10.2.0.${i}`, 'Three.Weave.Local.');
    const mk = (fastPath: boolean, seed: number) =>
      new QueryHandler({
        names: ns,
        ttl: 1,
        upstream: { servers: () => [] },
        upstreamPort: 53,
        upstreamTimeoutMs: 100,
        forwarder: new Forwarder(new VirtualClock()),
        random: seededRandom(seed),
        fastPath,
        maxForwards: 10,
      });
    return mk;
  }

  it('gives byte-identical replies to the dns-packet path', () => {
    const mk = handlers();
    fc.assert(
      fc.property(
        fc.constantFrom(
          'one.weave.local',
          'many.weave.local',
          'three.weave.local',
          'ONE.WEAVE.LOCAL',
          'one',
          'Three',
          'nope.weave.local',
          'example.com',
        ),
        fc.constantFrom('A', 'AAAA', 'MX') as fc.Arbitrary<'A' | 'AAAA' | 'MX'>,
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        fc.boolean(),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 1, max: 1000 }),
        (name, type, edns, tcp, id, seed) => {
          const q = query(name, type, id, edns);
          const fast = mk(true, seed).handle(q, tcp);
          const slow = mk(false, seed).handle(q, tcp);
          if (fast instanceof Promise || slow instanceof Promise) {
            // Forwarded (not ours): neither path answers locally.
            expect(fast).toBeInstanceOf(Promise);
            expect(slow).toBeInstanceOf(Promise);
            return;
          }
          expect(Buffer.from(fast!).toString('hex')).toBe(Buffer.from(slow!).toString('hex'));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('truncates at 512 without EDNS and answers all 150 over TCP', () => {
    const h = handlers()(true, 1);
    const udp = h.handle(query('many.weave.local', 'A'), false) as Buffer;
    expect(udp.length).toBeLessThanOrEqual(512);
    expect(decode(udp).flags! & FLAG_TC).toBeTruthy();
    const tcp = h.handle(query('many.weave.local', 'A'), true) as Buffer;
    expect(decode(tcp).answers).toHaveLength(150);
  });

  it('drops packets too short for a header', () => {
    const h = handlers()(true, 1);
    expect(h.handle(Buffer.alloc(11), false)).toBeUndefined();
  });
});

describe('names', () => {
  it('qualifies, scopes and reverses names', () => {
    expect(fqdn('a.b')).toBe('a.b.');
    expect(fqdn('a.b.')).toBe('a.b.');
    expect(inDomain('x.weave.local.', 'weave.local.')).toBe(true);
    expect(inDomain('weave.local.', 'weave.local.')).toBe(true);
    expect(inDomain('xweave.local.', 'weave.local.')).toBe(false);
    expect(isSingleLabel('foo.')).toBe(true);
    expect(isSingleLabel('foo.bar.')).toBe(false);
    expect(isSingleLabel('.')).toBe(false);
    expect(parseReverseName('4.3.2.1.in-addr.arpa.')).toBe(0x01020304);
    expect(parseReverseName('4.3.2.1.IN-ADDR.ARPA')).toBe(0x01020304);
    expect(parseReverseName('3.2.1.in-addr.arpa.')).toBeUndefined();
    expect(parseReverseName('256.3.2.1.in-addr.arpa.')).toBeUndefined();
    expect(parseReverseName('04.3.2.1.in-addr.arpa.')).toBeUndefined();
  });
});

describe('resolv.conf', () => {
  it('lists nameservers in order, ignoring comments and other options', () => {
    const text =
      '# generated\nsearch a b\nnameserver 10.0.0.1 ; primary\n  nameserver\t10.0.0.2\noptions ndots:5\nnameserver ::1\n;nameserver 9.9.9.9\n';
    expect(parseResolvConf(text)).toEqual(['10.0.0.1', '10.0.0.2', '::1']);
  });

  it('filters our own address, re-checks at most every 5 s and re-reads only on a new mtime', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weave-dns-'));
    const path = join(dir, 'resolv.conf');
    try {
      const clock = new VirtualClock();
      const base = Date.now();
      writeFileSync(path, 'nameserver 172.17.0.1\nnameserver 8.8.8.8\n');
      const up = new ResolvConfUpstream({ path, filterAddress: '172.17.0.1', clock });
      expect(up.servers()).toEqual(['8.8.8.8']);
      writeFileSync(path, 'nameserver 1.1.1.1\n');
      utimesSync(path, new Date(), new Date(base + 60_000));
      clock.advance(4999);
      expect(up.servers()).toEqual(['8.8.8.8']);
      clock.advance(1);
      expect(up.servers()).toEqual(['1.1.1.1']);
      // Same mtime: content changes are not noticed (upstream re-reads on mtime only).
      const mtime = new Date(base + 120_000);
      writeFileSync(path, 'nameserver 2.2.2.2\n');
      utimesSync(path, mtime, mtime);
      clock.advance(5000);
      expect(up.servers()).toEqual(['2.2.2.2']);
      writeFileSync(path, 'nameserver 3.3.3.3\n');
      utimesSync(path, mtime, mtime);
      clock.advance(5000);
      expect(up.servers()).toEqual(['2.2.2.2']);
      // A missing file keeps the last list and records why.
      rmSync(path);
      clock.advance(5000);
      expect(up.servers()).toEqual(['2.2.2.2']);
      expect(up.lastError).toBeInstanceOf(Error);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
