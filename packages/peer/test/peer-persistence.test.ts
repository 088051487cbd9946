import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPeer, PEER_DATA_FILE, type PeerOptions } from '@weave-ts/peer';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'wp-peer-'));
  dirs.push(d);
  return d;
}
const base = (dir: string): PeerOptions => ({
  host: '127.0.0.1',
  port: 0,
  dataDir: dir,
  ipam: { init: 'consensus=1' },
  dns: { listen: '127.0.0.1:0' },
});

describe('persistence in dataDir', () => {
  it('keeps the name, IPAM addresses, direct targets and own DNS records across peers', async () => {
    const dir = dataDir();
    const first = createPeer(base(dir));
    await first.start();
    const cidr = await first.allocate('c1');
    first.dns.add('c1', cidr.split('/')[0]!, 'kept.weave.local');
    first.connect(['127.0.0.1:1']);
    await first.stop();
    expect(existsSync(join(dir, PEER_DATA_FILE))).toBe(true);

    const second = createPeer(base(dir));
    expect(second.name).toBe(first.name);
    expect(second.targets()).toEqual(['127.0.0.1:1']);
    let ipamReady = 0;
    second.on('ipamReady', () => ipamReady++);
    await second.start();
    expect(ipamReady).toBe(1); // the persisted ring is ready at once
    expect(second.status().Ready).toBe(true);
    try {
      expect(second.addressesOf('c1')).toEqual([cidr]);
      expect(second.dns.lookup('kept')).toEqual([cidr.split('/')[0]]);
      expect(second.statusText('targets')).toBe('127.0.0.1:1\n');
      second.forget(['127.0.0.1:1']);
      second.dns.remove('c1');
    } finally {
      await second.stop();
    }
    const third = createPeer(base(dir));
    expect(third.targets()).toEqual([]);
    await third.start();
    try {
      expect(third.dns.lookup('kept')).toEqual([]);
    } finally {
      await third.stop();
    }
  });

  it('an explicit name wins over the persisted one; without dataDir every peer gets a fresh name', () => {
    const dir = dataDir();
    const named = createPeer({ ...base(dir), name: '0a:00:00:00:00:42' });
    expect(named.name).toBe('0a:00:00:00:00:42');
    expect(createPeer(base(dir)).name).toBe('0a:00:00:00:00:42');
    expect(createPeer().name).not.toBe(createPeer().name);
  });

  it('reset() hands space over, stops and deletes the persisted data', async () => {
    const dir = dataDir();
    const peer = createPeer(base(dir));
    await peer.start();
    await peer.allocate('c1');
    await peer.reset();
    expect(peer.state).toBe('stopped');
    expect(existsSync(join(dir, PEER_DATA_FILE))).toBe(false);
    await peer.start();
    try {
      expect(peer.addressesOf('c1')).toEqual([]);
      expect(JSON.parse(readFileSync(join(dir, PEER_DATA_FILE), 'utf8')).format).toBe('weave-ts-ipam');
    } finally {
      await peer.stop();
    }
  });

  it('a corrupt data file is a typed error at construction', () => {
    const dir = dataDir();
    const bad = join(dir, PEER_DATA_FILE);
    rmSync(bad, { force: true });
    writeFileSync(bad, '{not json');
    expect(() => createPeer(base(dir))).toThrow(/cannot use dataDir/);
  });
});
