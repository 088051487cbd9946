import { readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { peerNameFromNumber } from '@weave-ts/core';
import { createPeer, type PeerEvents, type WeavePeer } from '@weave-ts/peer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Three peers on real loopback TCP, control plane only, with fixed names so status compares with the
// golden output of a stock Weave 2.8.1 (fixtures/weaver-2.8.1: hosts A, B, C on 172.16.16.0/24).
const FIXTURES = new URL('../../../fixtures/weaver-2.8.1/', import.meta.url);
const fixture = (f: string) => readFileSync(new URL(f, FIXTURES), 'utf8');
const nameOf = (n: number) => peerNameFromNumber(0x0a0000000000 + n);
// One port on several loopback addresses: discovery dials an inbound peer's IP with our own port.
const PORT = 20_000 + Math.floor(Math.random() * 20_000);
const ipOf = (n: number) => `127.78.0.${n}`;

const peers: WeavePeer[] = [];
const events: string[] = [];
let a: WeavePeer;
let b: WeavePeer;
let c: WeavePeer;

function make(n: number, nickname: string, targets: string[]): WeavePeer {
  const p = createPeer({
    name: nameOf(n),
    nickname,
    host: ipOf(n),
    port: PORT,
    peers: targets,
    ipam: { range: '172.16.16.0/24', init: 'consensus=3' },
    dns: { listen: `${ipOf(n)}:0`, upstream: ['127.0.0.53'] },
  });
  peers.push(p);
  return p;
}

function record(p: WeavePeer, label: string): void {
  const names: (keyof PeerEvents)[] = [
    'peerAdded',
    'connectionEstablished',
    'ipamReady',
    'dnsEntryAdded',
    'dnsEntryRemoved',
  ];
  for (const e of names)
    p.on(e, ((...args: unknown[]) => events.push(`${label} ${e} ${JSON.stringify(args)}`)) as never);
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  a = make(1, 'hostA', []);
  record(a, 'A');
  await a.start();
  b = make(2, 'hostB', [ipOf(1)]);
  c = make(3, 'hostC', [ipOf(1)]);
  await b.start();
  await c.start();
  await Promise.all(peers.map((p) => p.whenConverged({ peers: 3, timeoutMs: 15_000 })));
  await Promise.all(peers.map((p) => p.ready));
}, 30_000);

afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
});

describe('createPeer on loopback TCP', () => {
  it('emits typed events for peers, connections and IPAM', () => {
    expect(events).toContain(`A peerAdded ["${nameOf(2)}","hostB"]`);
    expect(events).toContain(`A peerAdded ["${nameOf(3)}","hostC"]`);
    expect(
      events.some(
        (e) =>
          e.startsWith(`A connectionEstablished [{"peer":"${nameOf(2)}"`) && e.includes('"overlay":"none"'),
      ),
    ).toBe(true);
    expect(events).toContain('A ipamReady []');
  });

  it('allocates, claims and releases with string addresses', async () => {
    await a.claim('web1cid0000000000', '172.16.16.1/24');
    const web2 = await b.allocate('web2cid0000000000');
    expect(web2).toMatch(/^172\.16\.16\.\d+\/24$/);
    expect(a.addressesOf('web1cid0000000000')).toEqual(['172.16.16.1/24']);
    const extra = await c.allocate('extra', { subnet: '172.16.16.0/24' });
    expect(c.addressesOf('extra')).toEqual([extra]);
    c.release('extra', extra);
    expect(c.addressesOf('extra')).toEqual([]);
    const again = await c.allocate('extra');
    c.release('extra');
    expect(c.addressesOf('extra')).toEqual([]);
    expect(again).toMatch(/\/24$/);
  });

  it('DNS records added on one peer resolve through every peer’s DNS server', async () => {
    const web2 = b.addressesOf('web2cid0000000000')[0]!.split('/')[0]!;
    a.dns.add('web1cid0000000000', '172.16.16.1', 'web1.weave.local.');
    b.dns.add('web2cid0000000000', web2, 'web2.weave.local');
    await waitFor(
      () => peers.every((p) => p.dns.lookup('web1').length === 1 && p.dns.lookup('web2').length === 1),
      'DNS gossip',
    );
    for (const p of peers) {
      const resolver = new Resolver();
      const addr = p.dns.address()!;
      resolver.setServers([`${addr.host}:${addr.port}`]);
      expect(await resolver.resolve4('web1.weave.local')).toEqual(['172.16.16.1']);
      expect(await resolver.resolve4('web2.weave.local')).toEqual([web2]);
    }
    expect(events).toContain(
      `A dnsEntryAdded [{"hostname":"web2.weave.local.","ip":"${web2}","containerId":"web2cid0000000000","origin":"${nameOf(2)}"}]`,
    );
    expect(a.dns.reverse('172.16.16.1')).toBe('web1.weave.local.');
    c.dns.add('tmp', '172.16.16.200', 'tmp.weave.local');
    await waitFor(() => a.dns.lookup('tmp.weave.local.').length === 1, 'tmp added');
    expect(c.dns.remove('tmp')).toBe(1);
    await waitFor(() => a.dns.lookup('tmp').length === 0, 'tmp removed');
    expect(
      events.some((e) => e.startsWith('A dnsEntryRemoved') && e.includes('"hostname":"tmp.weave.local."')),
    ).toBe(true);
  });

  it('statusText matches upstream’s text byte for byte (host A of the golden capture)', () => {
    const web2 = b.addressesOf('web2cid0000000000')[0]!.split('/')[0]!;
    const [, ...expected] = fixture('hostA_status.txt').split('\n');
    const [version, ...ours] = a.statusText().split('\n');
    expect(version).toBe('        Version: weave-ts (version check update disabled)');
    expect(ours).toEqual(expected);
    // `status dns`: the fixture's own second record is web2 at .128; ours is wherever B allocated.
    expect(a.statusText('dns')).toBe(
      fixture('hostA_status_dns.txt').replace('172.16.16.128  ', web2.padEnd(15)),
    );
    expect(a.statusText('targets')).toBe('');
    expect(b.statusText('targets')).toBe(`${ipOf(1)}\n`);
    const ipamLines = a.statusText('ipam').split('\n').filter(Boolean);
    expect(ipamLines).toHaveLength(3);
    expect(ipamLines[0]).toMatch(
      /^0a:00:00:00:00:01\(hostA\) {2,}\d+ IPs \(\d\d\.\d% of total\) \(1 active\)$/,
    );
    expect(a.statusText('peers')).toMatch(
      /^0a:00:00:00:00:01\(hostA\)\n {3}<- 127\.78\.0\.[23]:\d+ +0a:00:00:00:00:0[23]\(host[BC]\) +established\n/,
    );
    expect(a.statusText('connections').split('\n').filter(Boolean)).toHaveLength(2);
    expect(a.statusText('connections')).toMatch(
      /^<- 127\.78\.0\.[23]:\d+ +established none {3}0a:00:00:00:00:0[23]\(host[BC]\) \n/,
    );
  });

  it('status() is JSON-safe and has upstream’s /report shape', () => {
    const report = JSON.parse(JSON.stringify(a.status()));
    const golden = JSON.parse(fixture('hostA_report.json'));
    expect(Object.keys(report).sort()).toEqual(['DNS', 'IPAM', 'Ready', 'Router', 'Version']);
    for (const key of [
      'Protocol',
      'ProtocolMinVersion',
      'ProtocolMaxVersion',
      'Encryption',
      'PeerDiscovery',
      'Name',
      'NickName',
      'TrustedSubnets',
      'TerminationCount',
      'Targets',
    ]) {
      expect(report.Router[key]).toEqual(golden.Router[key]);
    }
    expect(Object.keys(report.Router.Peers[0]).sort()).toEqual(Object.keys(golden.Router.Peers[0]).sort());
    expect(report.Router.Peers).toHaveLength(3);
    expect(report.Router.Peers[0].UID).toMatch(/^\d+$/);
    expect(Object.keys(report.Router.Connections[0]).sort()).toEqual(
      Object.keys(golden.Router.Connections[0]).sort(),
    );
    expect(Object.keys(report.IPAM).sort()).toEqual(Object.keys(golden.IPAM).sort());
    expect(report.IPAM.Range).toBe('172.16.16.0/24');
    expect(report.DNS.Domain).toBe('weave.local.');
    expect(report.DNS.Upstream).toEqual(['127.0.0.53']);
    expect(report.DNS.Address).toBe(`${ipOf(1)}:${a.dns.address()!.port}`);
    expect(report.Ready).toBe(true);
  });

  it('connect, forget and targets; failed dials are events with upstream’s text', async () => {
    const failed = new Promise<{ address: string; error: string }>((resolve) =>
      a.once('connectionFailed', resolve),
    );
    a.connect(['127.0.0.1:1']);
    expect(a.targets()).toEqual(['127.0.0.1:1']);
    expect(await failed).toEqual({
      address: '127.0.0.1:1',
      error: 'dial tcp4 127.0.0.1:1: connect: connection refused',
    });
    expect(a.statusText('connections')).toContain(
      'failed      dial tcp4 127.0.0.1:1: connect: connection refused, retry: ',
    );
    a.forget(['127.0.0.1:1']);
    expect(a.targets()).toEqual([]);
    expect(a.statusText('targets')).toBe('');
  });

  it('rmpeer answers with upstream’s text', () => {
    expect(a.rmpeer('nobody')).toBe('0 IPs taken over from nobody');
  });
});
