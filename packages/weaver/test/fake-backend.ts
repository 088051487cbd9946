// An in-memory ApiBackend for HTTP-layer tests: records every call, hands out addresses from a
// counter, and fails the way the real allocator does where the tests need it.
import type { ApiBackend, IpamRequestOptions, StatusSectionName, WeaveReport } from '../src/index.js';

export interface FakeCalls {
  connect: { peers: string[]; replace: boolean }[];
  forget: string[][];
  expose: { cidr: string; skipNAT: boolean }[];
  hide: string[];
  reset: number;
  rmpeer: string[];
  dnsAdd: [string, string, string][];
  dnsRemove: [string | undefined, string | undefined, string | undefined][];
  allocateSignals: AbortSignal[];
}

export interface FakeBackend extends ApiBackend {
  calls: FakeCalls;
  ready: boolean;
  proxy: string[];
  failExpose?: string;
  /** Allocations for this ident wait until aborted. */
  hangIdent?: string;
  ipamEnabled: boolean;
  dnsEnabled: boolean;
}

export function fakeReport(): WeaveReport {
  return {
    Ready: true,
    Version: '2.8.1-ts',
    Router: {
      Protocol: 'weave',
      Name: '0a:00:00:00:00:01',
      NickName: 'hostA',
      Port: 6783,
      Peers: [{ Name: '0a:00:00:00:00:01', NickName: 'hostA', UID: '11206339565063037629', Connections: [] }],
      Connections: [
        {
          Address: '10.0.0.2:6783',
          Outbound: true,
          State: 'established',
          Info: 'x',
          Attrs: { name: 'sleeve', mtu: 1438 },
        },
      ],
      TerminationCount: 3,
      Targets: ['10.0.0.2'],
    },
    IPAM: {
      Range: '10.32.0.0/12',
      RangeNumIPs: 1048576,
      ActiveIPs: 2,
      DefaultSubnet: '10.32.0.0/12',
      Entries: [
        {
          Token: '10.32.0.0',
          Size: 524288,
          Peer: '0a:00:00:00:00:01',
          Nickname: 'hostA',
          IsKnownPeer: true,
          Version: 1,
        },
        {
          Token: '10.40.0.0',
          Size: 262144,
          Peer: '0a:00:00:00:00:09',
          Nickname: 'gone',
          IsKnownPeer: false,
          Version: 1,
        },
      ],
      PendingClaims: null,
      PendingAllocates: ['c9 10.32.0.0/12'],
    },
    DNS: {
      Domain: 'weave.local.',
      Address: '127.0.0.1:5353',
      Entries: [
        { Hostname: 'a.weave.local.', Origin: '0a:00:00:00:00:01', Tombstone: 0 },
        { Hostname: 'b.weave.local.', Origin: '0a:00:00:00:00:02', Tombstone: 0 },
        { Hostname: 'c.weave.local.', Origin: '0a:00:00:00:00:01', Tombstone: 17 },
      ],
    },
  };
}

export function createFakeBackend(metricsText = '# fake\n'): FakeBackend {
  const calls: FakeCalls = {
    connect: [],
    forget: [],
    expose: [],
    hide: [],
    reset: 0,
    rmpeer: [],
    dnsAdd: [],
    dnsRemove: [],
    allocateSignals: [],
  };
  const owned = new Map<string, string[]>();
  let next = 1;
  const ownerOf = (ip: string) =>
    [...owned].find(([, addrs]) => addrs.some((a) => a.split('/')[0] === ip))?.[0];
  const fake: FakeBackend = {
    calls,
    ready: true,
    proxy: [],
    ipamEnabled: true,
    dnsEnabled: true,
    isReady: () => fake.ready,
    report: fakeReport,
    statusText: (section?: StatusSectionName) => `status ${section ?? 'all'}\n`,
    connect(peers, replace) {
      calls.connect.push({ peers, replace });
      return peers.filter((p) => p.includes(' ')).map((p) => `bad peer ${p}`);
    },
    forget: (peers) => void calls.forget.push(peers),
    async reset() {
      calls.reset++;
    },
    rmpeer(id) {
      calls.rmpeer.push(id);
      if (id === '0a:00:00:00:00:01') throw new Error('cannot take over from ourselves');
      return `7 IPs taken over from ${id}\n`;
    },
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: metricsText }),
    proxyAddresses: () => fake.proxy,
    get ipam() {
      return fake.ipamEnabled ? ipam : undefined;
    },
    get dns() {
      return fake.dnsEnabled ? dns : undefined;
    },
    exposer: {
      async expose(cidr, { skipNAT }) {
        if (fake.failExpose) throw new Error(fake.failExpose);
        calls.expose.push({ cidr, skipNAT });
      },
      async hide(cidr) {
        calls.hide.push(cidr);
      },
    },
  };
  const ipam = {
    defaultSubnet: '10.32.0.0/12',
    allocate(ident: string, subnet: string | undefined, o: IpamRequestOptions = {}): Promise<string> {
      if (o.signal) calls.allocateSignals.push(o.signal);
      if (ident === fake.hangIdent) {
        return new Promise((_, reject) => {
          const fail = () => {
            const e = new Error(`Allocate request for ${ident} cancelled`);
            e.name = 'OperationCancelledError';
            reject(e);
          };
          if (o.signal?.aborted) fail();
          o.signal?.addEventListener('abort', fail);
        });
      }
      const net = (subnet ?? '10.32.0.0/12').split('/');
      const base = net[0]!.split('.').map(Number);
      base[3] = next++;
      const cidr = `${base.join('.')}/${net[1]}`;
      owned.set(ident, [...(owned.get(ident) ?? []), cidr]);
      return Promise.resolve(cidr);
    },
    async claim(ident: string, cidr: string) {
      const holder = ownerOf(cidr.split('/')[0]!);
      if (holder !== undefined && holder !== ident)
        throw new Error(`address ${cidr} is already owned by ${holder}`);
      if (holder === undefined) owned.set(ident, [...(owned.get(ident) ?? []), cidr]);
    },
    lookup: (ident: string, subnet?: string) =>
      (owned.get(ident) ?? []).filter(
        (a) => subnet === undefined || a.startsWith(subnet.split('.').slice(0, 2).join('.')),
      ),
    owned: () => [...owned].map(([containerid, addrs]) => ({ containerid, addrs })),
    free(ident: string, ip: string) {
      const addrs = owned.get(ident) ?? [];
      const keep = addrs.filter((a) => a.split('/')[0] !== ip);
      if (keep.length === addrs.length) throw new Error(`Free: address ${ip} not found for ${ident}`);
      if (keep.length === 0) owned.delete(ident);
      else owned.set(ident, keep);
    },
    freeAll(ident: string) {
      if (!owned.delete(ident)) throw new Error(`Delete: no addresses for ${ident}`);
    },
    prime: async () => {},
    tracker: () => '',
  };
  const dns = {
    domain: 'weave.local.',
    address: () => '127.0.0.1:5353',
    add: (c: string, ip: string, fqdn: string) => void calls.dnsAdd.push([c, ip, fqdn]),
    remove: (c: string | undefined, ip: string | undefined, fqdn: string | undefined) =>
      void calls.dnsRemove.push([c, ip, fqdn]),
    entries: () => [
      {
        ContainerID: 'c1',
        Origin: '0a:00:00:00:00:01',
        Addr: 169869313,
        Hostname: 'web.weave.local.',
        Version: 0,
        Tombstone: 0,
      },
    ],
  };
  return fake;
}
