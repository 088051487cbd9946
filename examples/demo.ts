// `pnpm demo`: a Weave mesh in one process, no root needed.
//
// Three routers listen on loopback addresses 127.66.0.1-3 (one shared port, as hosts of a real mesh
// would). Each is given one earlier peer; discovery completes the mesh. Every router runs IPAM over
// 10.32.0.0/12 and weaveDNS on its own address: the first host allocates an address for a container
// (Paxos forms the ring), registers `web1.weave.local` for it, and the last host's DNS server answers.
// Finally each router prints `weave status`, and the first prints `status peers` and `status dns`.
// With `--root`, the datapath demo instead: containers in namespaces pinging across the mesh
// (examples/demo-root.ts).
import { Resolver } from 'node:dns/promises';
import { parsePeerName, Router } from '@weave-ts/core';
import { DnsServer, dnsStatus, dnsStatusSection, formatDnsStatus, Nameserver } from '@weave-ts/dns';
import { type Allocator, createRouterAllocator, formatAddress } from '@weave-ts/ipam';

export interface DemoHost {
  router: Router;
  ipam: Allocator;
  nameserver: Nameserver;
  dns: DnsServer;
}

/** Starts `count` hosts on 127.66.0.x and connects each to the one before it. */
export async function startDemoMesh(
  count = 3,
  port = 16783 + Math.floor(Math.random() * 1000),
): Promise<DemoHost[]> {
  const hosts: DemoHost[] = [];
  for (let i = 1; i <= count; i++) {
    const ip = `127.66.0.${i}`;
    const router = new Router({ name: parsePeerName(`a::${i}`), nickname: `host${i}`, host: ip, port });
    const nameserver = new Nameserver({ ourName: router.name, isKnownPeer: (p) => router.hasPeer(p) });
    nameserver.register(router);
    router.on('peersRemoved', (names) => {
      for (const name of names) nameserver.peerGone(name);
    });
    const dns = new DnsServer({ nameserver, host: ip, port: 0, upstream: { servers: () => [] } });
    const ipam = createRouterAllocator(router, { range: '10.32.0.0/12' });
    ipam.start();
    await router.start();
    nameserver.start();
    await dns.start();
    if (i > 1) router.connect([`127.66.0.${i - 1}`]);
    hosts.push({ router, ipam, nameserver, dns });
  }
  return hosts;
}

/** Resolves once every router sees `count` peers, all connections established. */
export async function waitForMesh(hosts: DemoHost[], timeoutMs = 15_000): Promise<void> {
  const want = `Peers: ${hosts.length} (with ${hosts.length * (hosts.length - 1)} established connections)`;
  const deadline = Date.now() + timeoutMs;
  while (!hosts.every((h) => h.router.statusText().includes(want))) {
    if (Date.now() > deadline) throw new Error(`mesh did not form within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopDemoMesh(hosts: DemoHost[]): Promise<void> {
  for (const h of hosts) {
    await h.dns.stop();
    h.nameserver.stop();
    h.ipam.stop();
    await h.router.stop();
  }
}

/** Looks `name` up through a host's DNS server, retrying until gossip has delivered it. */
export async function lookup(host: DemoHost, name: string, timeoutMs = 5_000): Promise<string[]> {
  const address = host.dns.address();
  if (!address) throw new Error('DNS server is not running');
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`${address.host}:${address.udpPort}`]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await resolver.resolve4(name);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  const hosts = await startDemoMesh();
  try {
    await waitForMesh(hosts);
    const [first, , last] = hosts as [DemoHost, DemoHost, DemoHost];
    const cidr = await first.ipam.allocate('web1cid0000000000');
    first.nameserver.add('web1cid0000000000', formatAddress(cidr.addr), 'web1.weave.local.');
    const answer = await lookup(last, 'web1.weave.local');
    console.log(
      `IPAM gave web1 ${formatAddress(cidr.addr)}/${cidr.prefixLen}; host3's DNS server says ${answer}\n`,
    );
    for (const h of hosts) {
      console.log(
        h.router.statusText([h.ipam.statusSection(), dnsStatusSection(dnsStatus(h.nameserver, h.dns))]),
      );
    }
    console.log(`status ipam (host1):\n${first.ipam.ipamText()}`);
    console.log(`status peers (host1):\n${first.router.peersText()}`);
    console.log(`status dns (host3):\n${formatDnsStatus(dnsStatus(last.nameserver, last.dns))}`);
  } finally {
    await stopDemoMesh(hosts);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const job = process.argv.includes('--root') ? import('./demo-root.js').then((m) => m.rootDemo()) : main();
  job.catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
