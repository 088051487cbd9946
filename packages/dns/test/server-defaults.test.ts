// The server's defaults are not an open resolver: it listens on loopback unless told otherwise, and
// forwards upstream only for clients in the networks it serves (others get REFUSED).
import type * as os from 'node:os';
import { parsePeerName } from '@weave-ts/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nameserver } from '../src/nameserver.js';
import { DnsServer, defaultRecursionNetworks } from '../src/server.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { decode, query, tcpQueries, udpQuery } from './helpers.js';

const names = () => {
  const ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
  ns.add('c1', '10.32.0.1', 'web.weave.local.');
  return ns;
};

describe('DnsServer defaults', () => {
  let upstream: FakeUpstream;
  const servers: DnsServer[] = [];
  const start = async (opts: Partial<ConstructorParameters<typeof DnsServer>[0]>) => {
    const s = new DnsServer({
      nameserver: names(),
      port: 0,
      upstream: { servers: () => ['127.0.0.1'] },
      upstreamPort: upstream.port,
      upstreamTimeoutMs: 500,
      ...opts,
    });
    servers.push(s);
    return (await s.start()).udpPort;
  };

  beforeAll(async () => {
    upstream = await startFakeUpstream({
      'example.com': [{ type: 'A', name: 'example.com', ttl: 60, data: '1.2.3.4' }],
    });
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await upstream.close();
  });

  it('listens on 127.0.0.1 when no host is given', async () => {
    const port = await start({});
    expect(servers.at(-1)!.address()?.host).toBe('127.0.0.1');
    expect(servers.at(-1)!.listenAddress).toBe(`127.0.0.1:${port}`);
  });

  it('forwards for loopback clients by default', async () => {
    const port = await start({});
    const reply = decode(await udpQuery(port, query('example.com', 'A')));
    expect(reply.rcode).toBe('NOERROR');
    expect(reply.answers?.[0]).toMatchObject({ data: '1.2.3.4' });
  });

  it('refuses recursion to clients outside recursionFrom, over UDP and TCP, and still answers local names', async () => {
    const port = await start({ host: '127.0.0.1', recursionFrom: ['10.0.0.0/8', 'fd00::/8'] });
    expect(decode(await udpQuery(port, query('example.com', 'A'))).rcode).toBe('REFUSED');
    expect(decode(await udpQuery(port, query('4.3.2.1.in-addr.arpa', 'PTR'))).rcode).toBe('REFUSED');
    const [tcp] = await tcpQueries(port, [query('example.com', 'A')]);
    expect(decode(tcp!).rcode).toBe('REFUSED');
    const local = decode(await udpQuery(port, query('web.weave.local', 'A')));
    expect(local.rcode).toBe('NOERROR');
    expect(local.answers?.[0]).toMatchObject({ data: '10.32.0.1' });
    expect(upstream.seenNames).not.toContain('4.3.2.1.in-addr.arpa');
  });

  it('matches client addresses against the configured networks', () => {
    const s = new DnsServer({ nameserver: names(), recursionFrom: ['10.32.0.0/12', 'fd00::/8'] });
    expect(s.recursionAllowed('10.40.1.2')).toBe(true);
    expect(s.recursionAllowed('::ffff:10.40.1.2')).toBe(true);
    expect(s.recursionAllowed('10.48.0.1')).toBe(false);
    expect(s.recursionAllowed('127.0.0.1')).toBe(false);
    expect(s.recursionAllowed('fd12::1')).toBe(true);
    expect(s.recursionAllowed('')).toBe(false);
    expect(() => new DnsServer({ nameserver: names(), recursionFrom: ['10.0.0.0/33'] })).toThrow(TypeError);
  });

  it('defaults recursion to loopback and the listen address subnet (every subnet for a wildcard)', () => {
    const ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = {
      weave: [
        {
          address: '10.32.0.1',
          netmask: '255.240.0.0',
          family: 'IPv4',
          mac: '',
          internal: false,
          cidr: '10.32.0.1/12',
        },
      ],
      docker0: [
        {
          address: '172.17.0.1',
          netmask: '255.255.0.0',
          family: 'IPv4',
          mac: '',
          internal: false,
          cidr: '172.17.0.1/16',
        },
      ],
    };
    expect(defaultRecursionNetworks('10.32.0.1', ifaces)).toEqual(['127.0.0.0/8', '::1/128', '10.32.0.1/12']);
    expect(defaultRecursionNetworks('127.0.0.1', ifaces)).toEqual(['127.0.0.0/8', '::1/128']);
    expect(defaultRecursionNetworks('0.0.0.0', ifaces)).toEqual([
      '127.0.0.0/8',
      '::1/128',
      '10.32.0.1/12',
      '172.17.0.1/16',
    ]);
    const s = new DnsServer({ nameserver: names(), host: '10.32.0.1', networkInterfaces: () => ifaces });
    expect(s.recursionAllowed('10.47.255.254')).toBe(true);
    expect(s.recursionAllowed('172.17.0.2')).toBe(false);
  });
});
