import { request } from 'node:http';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerPlugin } from '../../src/docker/docker-plugin.js';
import type { EndpointLinks } from '../../src/docker/endpoint-links.js';
import { PLUGIN_CONTENT_TYPE } from '../../src/docker/plugin-server.js';
import { FakePeer } from './fake-peer.js';

// The plugin API as Docker speaks it, over the real unix sockets, with a fake peer and fake veths:
// well-formed sequences, malformed bodies and out-of-order calls (all answered {"Err": …}, never a crash).

class FakeLinks implements EndpointLinks {
  readonly live = new Map<string, string>();
  failNext = false;
  async create(host: string, guest: string, bridge: string): Promise<string> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error(`bridge ${bridge} does not exist`);
    }
    this.live.set(host, guest);
    return '02:42:0a:00:00:01';
  }
  async delete(host: string): Promise<void> {
    this.live.delete(host);
  }
}

function post(socketPath: string, path: string, body: string, method = 'POST') {
  return new Promise<{ status: number; type: string | undefined; json: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(
        { socketPath, path, method, headers: { 'Content-Type': PLUGIN_CONTENT_TYPE } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              type: res.headers['content-type'],
              json: JSON.parse(text),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('Docker plugin API (weave network driver, weavemesh IPAM driver)', () => {
  let dir: string;
  let plugin: DockerPlugin;
  const peer = new FakePeer('10.32.0.0/12');
  const links = new FakeLinks();
  const errors: string[] = [];
  let net: (path: string, body: unknown) => ReturnType<typeof post>;
  let ipam: (path: string, body: unknown) => ReturnType<typeof post>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wd-plugin-'));
    plugin = new DockerPlugin({
      peer,
      links,
      pluginDir: dir,
      networkDriverName: 'wdnet',
      ipamDriverName: 'wdipam',
      onError: (driver, method) => errors.push(`${driver} ${method}`),
      lookupNetwork: async (id) => (id === 'adoptme' ? { driver: 'wdnet', options: {} } : undefined),
    });
    await plugin.start();
    net = (path, body) =>
      post(join(dir, 'wdnet.sock'), path, typeof body === 'string' ? body : JSON.stringify(body));
    ipam = (path, body) =>
      post(join(dir, 'wdipam.sock'), path, typeof body === 'string' ? body : JSON.stringify(body));
  });
  afterAll(async () => {
    await plugin.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('activates as NetworkDriver and IpamDriver with Docker capabilities', async () => {
    expect((await net('/Plugin.Activate', '')).json).toEqual({ Implements: ['NetworkDriver'] });
    expect((await ipam('/Plugin.Activate', '')).json).toEqual({ Implements: ['IpamDriver'] });
    const caps = await net('/NetworkDriver.GetCapabilities', '');
    expect(caps.type).toBe(PLUGIN_CONTENT_TYPE);
    expect(caps.json.Scope).toBe('local');
    expect((await ipam('/IpamDriver.GetCapabilities', '')).json).toEqual({
      RequiresMACAddress: false,
      RequiresRequestReplay: false,
    });
    expect((await ipam('/IpamDriver.GetDefaultAddressSpaces', {})).json).toEqual({
      LocalDefaultAddressSpace: 'weavelocal',
      GlobalDefaultAddressSpace: 'weaveglobal',
    });
  });

  it('runs the whole network lifecycle with addresses from the peer', async () => {
    const pool = await ipam('/IpamDriver.RequestPool', { AddressSpace: 'weavelocal', Pool: '', Options: {} });
    expect(pool.json).toEqual({
      PoolID: 'weave-10.32.0.0/12-10.32.0.0/12',
      Pool: '10.32.0.0/12',
      Data: { 'com.docker.network.gateway': '10.32.0.0/12' },
    });
    const sub = await ipam('/IpamDriver.RequestPool', { Pool: '10.2.1.0/24', SubPool: '10.2.1.128/25' });
    expect(sub.json.PoolID).toBe('weave-10.2.1.0/24-10.2.1.128/25');
    const a1 = await ipam('/IpamDriver.RequestAddress', {
      PoolID: sub.json.PoolID,
      Address: '',
      Options: {},
    });
    expect(a1.json.Address).toBe('10.2.1.129/24');
    const a2 = await ipam('/IpamDriver.RequestAddress', { PoolID: sub.json.PoolID, Address: '10.2.1.7' });
    expect(a2.json.Address).toBe('10.2.1.7/24');
    expect([...peer.owned.values()].flat().sort()).toEqual(['10.2.1.129/25', '10.2.1.7/24']);

    expect(
      (
        await net('/NetworkDriver.CreateNetwork', {
          NetworkID: 'n1',
          Options: { 'com.docker.network.generic': { 'works.weave.multicast': 'true' } },
          IPv4Data: [{ AddressSpace: 'weavelocal', Pool: '10.2.1.0/24', Gateway: '10.2.1.0/24' }],
          IPv6Data: [],
        })
      ).json,
    ).toEqual({});
    const ep = await net('/NetworkDriver.CreateEndpoint', {
      NetworkID: 'n1',
      EndpointID: 'abcdef0123456789',
      Interface: { Address: '10.2.1.129/24', AddressIPv6: '', MacAddress: '' },
      Options: {},
    });
    expect(ep.json).toEqual({ Interface: { MacAddress: '02:42:0a:00:00:01' } });
    expect(links.live.get('vethwlabcdef012')).toBe('vethwgabcdef012');
    expect(
      (await net('/NetworkDriver.EndpointOperInfo', { NetworkID: 'n1', EndpointID: 'abcdef0123456789' }))
        .status,
    ).toBe(200);
    const join1 = await net('/NetworkDriver.Join', {
      NetworkID: 'n1',
      EndpointID: 'abcdef0123456789',
      SandboxKey: '/var/run/docker/netns/x',
      Options: {},
    });
    expect(join1.json).toEqual({
      InterfaceName: { SrcName: 'vethwgabcdef012', DstPrefix: 'ethwe' },
      StaticRoutes: [{ Destination: '224.0.0.0/4', RouteType: 1 }],
    });
    expect(
      (
        await net('/NetworkDriver.ProgramExternalConnectivity', {
          NetworkID: 'n1',
          EndpointID: 'abcdef0123456789',
        })
      ).json,
    ).toEqual({});
    expect(
      (await net('/NetworkDriver.Leave', { NetworkID: 'n1', EndpointID: 'abcdef0123456789' })).json,
    ).toEqual({});
    expect(
      (await net('/NetworkDriver.DeleteEndpoint', { NetworkID: 'n1', EndpointID: 'abcdef0123456789' })).json,
    ).toEqual({});
    expect(links.live.size).toBe(0);
    expect((await net('/NetworkDriver.DeleteNetwork', { NetworkID: 'n1' })).json).toEqual({});

    for (const addr of ['10.2.1.129', '10.2.1.7']) {
      expect(
        (await ipam('/IpamDriver.ReleaseAddress', { PoolID: sub.json.PoolID, Address: addr })).json,
      ).toEqual({});
    }
    expect(peer.owned.size).toBe(0);
    expect((await ipam('/IpamDriver.ReleasePool', { PoolID: sub.json.PoolID })).json).toEqual({});
  });

  it('adopts a network the engine knows and joins without multicast route by default', async () => {
    await net('/NetworkDriver.CreateEndpoint', { NetworkID: 'adoptme', EndpointID: 'e2', Interface: {} });
    const j = await net('/NetworkDriver.Join', { NetworkID: 'adoptme', EndpointID: 'e2', SandboxKey: '/x' });
    expect(j.json).toEqual({ InterfaceName: { SrcName: 'vethwge2', DstPrefix: 'ethwe' } });
    await net('/NetworkDriver.Leave', { NetworkID: 'adoptme', EndpointID: 'e2' });
    await net('/NetworkDriver.DeleteEndpoint', { NetworkID: 'adoptme', EndpointID: 'e2' });
  });

  it('answers malformed requests with {"Err": …} and keeps serving', async () => {
    const cases: [typeof net, string, unknown, number, RegExp][] = [
      [net, '/NetworkDriver.CreateNetwork', '{not json', 400, /malformed request/],
      [net, '/NetworkDriver.CreateNetwork', '[1,2]', 400, /JSON object/],
      [net, '/NetworkDriver.CreateNetwork', 'null', 400, /JSON object/],
      [net, '/NetworkDriver.CreateNetwork', {}, 400, /NetworkID/],
      [net, '/NetworkDriver.CreateNetwork', { NetworkID: 7 }, 400, /NetworkID/],
      [net, '/NetworkDriver.CreateNetwork', { NetworkID: 'x', Options: 'o' }, 400, /Options/],
      [net, '/NetworkDriver.CreateNetwork', { NetworkID: 'x', IPv4Data: {} }, 400, /IPv4Data/],
      [
        net,
        '/NetworkDriver.CreateNetwork',
        { NetworkID: 'x', IPv6Data: [{ Pool: 'fd00::/64' }] },
        500,
        /IPv6/,
      ],
      [
        net,
        '/NetworkDriver.CreateNetwork',
        { NetworkID: 'x', Options: { 'com.docker.network.generic': { 'works.weave.multicast': 'maybe' } } },
        500,
        /unrecognized value/,
      ],
      [net, '/NetworkDriver.CreateEndpoint', { NetworkID: 'x', EndpointID: '../../etc' }, 400, /EndpointID/],
      [net, '/NetworkDriver.DiscoverNew', { DiscoveryType: 'node' }, 400, /DiscoveryType/],
      [net, '/NetworkDriver.NoSuchMethod', {}, 404, /not supported/],
      [ipam, '/IpamDriver.RequestPool', { Pool: '10.2.1.0/33' }, 400, /Pool/],
      [ipam, '/IpamDriver.RequestPool', { Pool: 'banana' }, 400, /Pool/],
      [ipam, '/IpamDriver.RequestPool', { Pool: '10.2.1.0/24', SubPool: '10.3.0.0/25' }, 500, /not inside/],
      [ipam, '/IpamDriver.RequestPool', { Pool: 'fd00::/64', V6: true }, 500, /IPv6/],
      [ipam, '/IpamDriver.RequestAddress', { PoolID: 'garbage' }, 500, /Unrecognized pool ID/],
      [
        ipam,
        '/IpamDriver.RequestAddress',
        { PoolID: 'weave-10.2.1.0/24-10.2.1.0/24', Address: 'x.y' },
        400,
        /Address/,
      ],
      [
        ipam,
        '/IpamDriver.RequestAddress',
        { PoolID: 'weave-10.2.1.0/24-10.2.1.0/24', Address: '10.9.9.9' },
        500,
        /not in pool/,
      ],
      [
        ipam,
        '/IpamDriver.ReleaseAddress',
        { PoolID: 'weave-10.2.1.0/24-10.2.1.0/24', Address: 12 },
        400,
        /Address/,
      ],
      [ipam, '/IpamDriver.ReleasePool', {}, 400, /PoolID/],
    ];
    for (const [to, path, body, status, err] of cases) {
      const res = await to(path, body);
      expect({ path, body, status: res.status }).toEqual({ path, body, status });
      expect(res.json.Err, `${path} ${JSON.stringify(body)}`).toMatch(err);
      expect(Object.keys(res.json)).toEqual(['Err']);
    }
    const get = await post(join(dir, 'wdnet.sock'), '/NetworkDriver.GetCapabilities', '', 'GET');
    expect(get.status).toBe(405);
    expect(get.json.Err).toMatch(/POST/);
    expect(errors.length).toBeGreaterThan(10);
    expect((await net('/NetworkDriver.GetCapabilities', '')).status).toBe(200);
  });

  it('answers out-of-order requests with {"Err": …}', async () => {
    const E = { NetworkID: 'n2', EndpointID: 'e1' };
    const seq: [typeof net, string, unknown, RegExp | null][] = [
      [net, '/NetworkDriver.CreateEndpoint', { ...E, Interface: {} }, /network n2 not found/],
      [net, '/NetworkDriver.Join', { ...E, SandboxKey: '/x' }, /network n2 not found/],
      [net, '/NetworkDriver.DeleteNetwork', { NetworkID: 'n2' }, /network n2 not found/],
      [net, '/NetworkDriver.CreateNetwork', { NetworkID: 'n2' }, null],
      [net, '/NetworkDriver.Join', { ...E, SandboxKey: '/x' }, /endpoint e1 not found/],
      [net, '/NetworkDriver.Leave', E, /endpoint e1 not found/],
      [net, '/NetworkDriver.EndpointOperInfo', E, /endpoint e1 not found/],
      [net, '/NetworkDriver.DeleteEndpoint', E, /endpoint e1 not found/],
      [net, '/NetworkDriver.CreateEndpoint', E, /Not supported/],
      [net, '/NetworkDriver.CreateEndpoint', { ...E, Interface: { Address: '10.32.0.9/12' } }, null],
      [
        net,
        '/NetworkDriver.CreateEndpoint',
        { ...E, Interface: { Address: '10.32.0.9/12' } },
        /already exists/,
      ],
      [net, '/NetworkDriver.Leave', E, /has not joined/],
      [net, '/NetworkDriver.Join', { ...E, SandboxKey: '/x' }, null],
      [net, '/NetworkDriver.Join', { ...E, SandboxKey: '/x' }, /already joined/],
      [net, '/NetworkDriver.DeleteNetwork', { NetworkID: 'n2' }, /active endpoints/],
      [net, '/NetworkDriver.Leave', E, null],
      [net, '/NetworkDriver.DeleteEndpoint', E, null],
      [net, '/NetworkDriver.DeleteEndpoint', E, /endpoint e1 not found/],
      [net, '/NetworkDriver.DeleteNetwork', { NetworkID: 'n2' }, null],
      [net, '/NetworkDriver.DeleteNetwork', { NetworkID: 'n2' }, /not found/],
      [
        ipam,
        '/IpamDriver.ReleaseAddress',
        { PoolID: 'weave-10.2.1.0/24-10.2.1.0/24', Address: '10.2.1.1' },
        null, // releasing an address nobody holds is idempotent
      ],
    ];
    for (const [to, path, body, err] of seq) {
      const res = await to(path, body);
      if (err === null) expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(200);
      else {
        expect(res.status, path).toBe(500);
        expect(res.json.Err, `${path} ${JSON.stringify(body)}`).toMatch(err);
      }
    }
    // a veth that cannot be made leaves no endpoint behind
    await net('/NetworkDriver.CreateNetwork', { NetworkID: 'n3' });
    links.failNext = true;
    const failed = await net('/NetworkDriver.CreateEndpoint', {
      NetworkID: 'n3',
      EndpointID: 'e9',
      Interface: {},
    });
    expect(failed.json.Err).toMatch(/bridge wdbr0 does not exist/);
    expect((await net('/NetworkDriver.DeleteNetwork', { NetworkID: 'n3' })).status).toBe(200);
    // a claim of an address already held fails and is not recorded
    const P = 'weave-10.2.1.0/24-10.2.1.0/24';
    expect((await ipam('/IpamDriver.RequestAddress', { PoolID: P, Address: '10.2.1.50' })).status).toBe(200);
    const again = await ipam('/IpamDriver.RequestAddress', { PoolID: P, Address: '10.2.1.50' });
    expect(again.json.Err).toMatch(/already in use/);
    await ipam('/IpamDriver.ReleaseAddress', { PoolID: P, Address: '10.2.1.50' });
    expect(plugin.ipamDriver.addressesInUse).toEqual([]);
  });

  it('gives every network the multicast route with multicastDefault (--plugin-v2-multicast), unless opted out', async () => {
    const mc = new DockerPlugin({
      peer,
      links,
      pluginDir: dir,
      networkDriverName: 'wdm',
      ipamDriverName: 'wdmi',
      multicastDefault: true,
    });
    const call = (path: string, body: unknown) => mc.networkServer.call(path, JSON.stringify(body));
    await call('/NetworkDriver.CreateNetwork', { NetworkID: 'm1' });
    await call('/NetworkDriver.CreateNetwork', {
      NetworkID: 'm2',
      Options: { 'com.docker.network.generic': { 'works.weave.multicast': 'false' } },
    });
    for (const [n, routes] of [
      ['m1', [{ Destination: '224.0.0.0/4', RouteType: 1 }]],
      ['m2', undefined],
    ] as const) {
      await call('/NetworkDriver.CreateEndpoint', { NetworkID: n, EndpointID: `ep${n}`, Interface: {} });
      const j = await call('/NetworkDriver.Join', { NetworkID: n, EndpointID: `ep${n}`, SandboxKey: '/x' });
      expect((j.body as { StaticRoutes?: unknown }).StaticRoutes).toEqual(routes);
    }
  });

  it('removes its sockets on stop', async () => {
    const other = new DockerPlugin({
      peer,
      links,
      pluginDir: dir,
      networkDriverName: 'wdx',
      ipamDriverName: 'wdy',
    });
    await other.start();
    expect((await stat(join(dir, 'wdx.sock'))).isSocket()).toBe(true);
    await other.stop();
    await expect(stat(join(dir, 'wdx.sock'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(dir, 'wdy.sock'))).rejects.toThrow(/ENOENT/);
  });
});
