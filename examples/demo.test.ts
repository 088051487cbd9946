import { afterAll, describe, expect, it } from 'vitest';
import { type DemoHost, lookup, startDemoMesh, stopDemoMesh, waitForMesh } from './demo.js';

describe('demo: a mesh on loopback with weaveDNS', () => {
  let hosts: DemoHost[] = [];
  afterAll(() => stopDemoMesh(hosts));

  it('meshes three routers from one seed each and resolves a name across them', async () => {
    hosts = await startDemoMesh(3);
    await waitForMesh(hosts);
    const cidr = await hosts[0]!.ipam.allocate('web1cid0000000000');
    expect(cidr).toEqual({ addr: (10 << 24) + (32 << 16) + 1, prefixLen: 12 });
    hosts[0]!.nameserver.add('web1cid0000000000', '10.32.0.1', 'web1.weave.local.');
    expect(await lookup(hosts[2]!, 'web1.weave.local')).toEqual(['10.32.0.1']);
    expect(hosts[2]!.ipam.status()).toBe('ready');
    for (const h of hosts) expect(h.router.statusText()).toContain('Connections: 2 (2 established)');
  });
});
