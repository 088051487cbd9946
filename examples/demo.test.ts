import { afterAll, describe, expect, it } from 'vitest';
import { type DemoHost, lookup, startDemoMesh, stopDemoMesh, waitForMesh } from './demo.js';

describe('demo: a mesh on loopback with weaveDNS', () => {
  let hosts: DemoHost[] = [];
  afterAll(() => stopDemoMesh(hosts));

  it('meshes three routers from one seed each and resolves a name across them', async () => {
    hosts = await startDemoMesh(3);
    await waitForMesh(hosts);
    hosts[0]!.nameserver.add('web1cid0000000000', '10.32.0.7', 'web1.weave.local.');
    expect(await lookup(hosts[2]!, 'web1.weave.local')).toEqual(['10.32.0.7']);
    for (const h of hosts) expect(h.router.statusText()).toContain('Connections: 2 (2 established)');
  });
});
