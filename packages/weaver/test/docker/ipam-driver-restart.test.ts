import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPeer, type PeerOptions, type WeavePeer } from '@weave-ts/peer';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WeaveIpamDriver } from '../../src/docker/ipam-driver.js';
import { PluginServer } from '../../src/docker/plugin-server.js';

// The weavemesh IPAM driver across a weaver restart: a real peer (datapath none, IPAM persisted in a
// temp dataDir) is stopped and a new peer and a fresh driver start on the same dataDir; Docker's
// ReleaseAddress for an address handed out before the restart must free it in the mesh.

const dir = mkdtempSync(join(tmpdir(), 'wr-ipamdrv-'));
const running: WeavePeer[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (dataDir: string): PeerOptions => ({
  host: '127.0.0.1',
  port: 0,
  datapath: 'none',
  dataDir,
  ipam: { range: '10.44.0.0/16', init: 'consensus=1' },
  dns: false,
});

async function startPeer(dataDir: string): Promise<WeavePeer> {
  const peer = createPeer(options(dataDir));
  running.push(peer);
  await peer.start();
  return peer;
}

function driverCall(peer: WeavePeer) {
  const driver = new WeaveIpamDriver({ peer });
  const server = new PluginServer({ socketPath: join(dir, 'unused.sock'), handlers: driver.handlers() });
  return async (method: string, body: unknown) => {
    const res = await server.call(`/IpamDriver.${method}`, JSON.stringify(body));
    return res.body as Record<string, unknown>;
  };
}

describe('weavemesh IPAM driver across a weaver restart', () => {
  it('ReleaseAddress frees an address handed out before the restart; unknown addresses release as {}', async () => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const first = await startPeer(dataDir);
    let call = driverCall(first);
    const pool = await call('RequestPool', { Pool: '10.44.1.0/24' });
    const PoolID = pool.PoolID as string;
    const a = ((await call('RequestAddress', { PoolID })).Address as string).split('/')[0] as string;
    const b = ((await call('RequestAddress', { PoolID })).Address as string).split('/')[0] as string;
    expect(a).not.toBe(b);
    const holderOfA = first.ipam?.ownerOf(a);
    expect(holderOfA).toBeDefined();
    await first.stop();
    running.splice(0);

    const second = await startPeer(dataDir);
    expect(second.ipam?.ownerOf(a)).toBe(holderOfA); // persisted across the restart
    call = driverCall(second);
    // A fresh driver's first address must not inherit a key that still holds a or b.
    const c = ((await call('RequestAddress', { PoolID })).Address as string).split('/')[0] as string;
    expect([a, b]).not.toContain(c);
    expect(second.ipam?.ownerOf(c)).not.toBe(holderOfA);

    expect(await call('ReleaseAddress', { PoolID, Address: a })).toEqual({});
    expect(second.ipam?.ownerOf(a)).toBeUndefined();
    expect(second.ipam?.ownerOf(b)).toBeDefined();
    // a is free: claiming it for a container works.
    await second.claim('c0ffee', `${a}/24`);
    expect(second.ipam?.ownerOf(a)).toBe('c0ffee');

    // Released twice, or never handed out: {} and nothing else is touched.
    expect(await call('ReleaseAddress', { PoolID, Address: '10.44.1.200' })).toEqual({});
    expect(await call('ReleaseAddress', { PoolID, Address: a })).toEqual({});
    expect(second.ipam?.ownerOf(a)).toBe('c0ffee'); // a container's address is not ours to free
    expect(await call('ReleaseAddress', { PoolID, Address: b })).toEqual({});
    expect(second.ipam?.ownerOf(b)).toBeUndefined();
  });
});
