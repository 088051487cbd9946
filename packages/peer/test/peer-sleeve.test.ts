import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  attachContainer,
  createBridge,
  createNetns,
  deleteLink,
  deleteNetns,
  findLeftovers,
  getLink,
  linkExists,
} from '@weave-ts/host';
import { createPeer, type WeavePeer } from '@weave-ts/peer';
import { afterAll, describe, expect, it } from 'vitest';

// Two peers in this process with datapath 'sleeve': each its own bridge and TAP (unique `wp…` names),
// sleeve over loopback UDP, a container namespace on each bridge; the containers ping each other.
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const run = promisify(execFile);
const prefix = `wp${Math.random().toString(36).slice(2, 6)}`;
const PORT = 20_000 + Math.floor(Math.random() * 20_000);
const peers: WeavePeer[] = [];
const namespaces: string[] = [];

afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  for (const ns of namespaces) await deleteNetns(ns, { ifExists: true });
  for (const leftover of await findLeftovers(prefix)) {
    const [kind, name] = leftover.split(' ');
    if (kind === 'link') await deleteLink(name!, { ifExists: true });
  }
  expect(await findLeftovers(prefix)).toEqual([]);
});

describe.skipIf(!isRoot)('datapath sleeve on this host (root)', () => {
  it('creates or reuses the bridge (MAC = peer name), carries container traffic, and cleans up', async () => {
    // B's bridge exists already (a restarted weave): reused, and B takes its name from its MAC.
    await createBridge(`${prefix}brB`, { mac: '0a:00:00:00:00:0b' });
    const common = {
      port: PORT,
      datapath: 'sleeve' as const,
      ipam: { range: '10.77.0.0/24', init: 'consensus=2' },
      dns: false as const,
    };
    const a = createPeer({
      ...common,
      name: '0a:00:00:00:00:0a',
      nickname: 'A',
      host: '127.0.0.1',
      bridge: { name: `${prefix}brA`, tap: `${prefix}tapA` },
    });
    const b = createPeer({
      ...common,
      nickname: 'B',
      host: '127.0.0.2',
      peers: ['127.0.0.1'],
      bridge: { name: `${prefix}brB`, tap: `${prefix}tapB` },
    });
    peers.push(a, b);
    expect(b.name).toBe('0a:00:00:00:00:0b');
    const chosen: string[] = [];
    a.on('datapathChosen', (e) => chosen.push(e.overlay));
    await a.start();
    await b.start();
    await Promise.all([
      a.whenConverged({ peers: 2, timeoutMs: 15_000 }),
      b.whenConverged({ peers: 2, timeoutMs: 15_000 }),
    ]);
    expect(chosen).toEqual(['sleeve']);
    expect(a.datapath).toMatchObject({ kind: 'sleeve', bridge: `${prefix}brA`, mtu: 65521 });
    expect(a.statusText('connections')).toMatch(/established sleeve 0a:00:00:00:00:0b\(B\) mtu=\d+/);
    expect(await getLink(`${prefix}brA`)).toMatchObject({
      kind: 'bridge',
      mac: '0a:00:00:00:00:0a',
      up: true,
      mtu: 65521,
    });
    expect(await getLink(`${prefix}tapA`)).toMatchObject({ master: `${prefix}brA`, up: true });

    const c1 = await a.allocate('c1');
    const c2 = await b.allocate('c2');
    for (const [n, cidr, bridge] of [
      [1, c1, `${prefix}brA`],
      [2, c2, `${prefix}brB`],
    ] as const) {
      const ns = `${prefix}-c${n}`;
      await createNetns(ns);
      namespaces.push(ns);
      await attachContainer({ netns: ns, cidr, bridge, hostIfName: `${prefix}v${n}`, mtu: 1400 });
    }
    const ip2 = c2.split('/')[0]!;
    const ping = await run('ip', [
      'netns',
      'exec',
      `${prefix}-c1`,
      'ping',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '2',
      ip2,
    ]);
    expect(ping.stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(JSON.stringify(a.datapath.diagnostics())).toContain('sleeve');
    expect(a.status().Router.Interface).toBe(`${prefix}tapA`);

    await a.stop();
    await b.stop();
    // A created its bridge: gone. B reused one: kept (containers stay wired).
    expect(await linkExists(`${prefix}brA`)).toBe(false);
    expect(await linkExists(`${prefix}tapA`)).toBe(false);
    expect(await linkExists(`${prefix}brB`)).toBe(true);
    expect(await linkExists(`${prefix}tapB`)).toBe(false);
  }, 60_000);
});
