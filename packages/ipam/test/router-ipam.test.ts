import { SimNetwork } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { formatCIDR } from '../src/address.js';
import { parseInitMode } from '../src/init-mode.js';
import { ipOf, nameOf, settle, startPeer } from './sim-cluster.js';

describe('IPAM over real routers', () => {
  it('drops the connection of a peer with another range, with upstream text, and keeps retrying', async () => {
    const sim = new SimNetwork();
    const a = await startPeer(sim, 1);
    const b = await startPeer(sim, 2);
    b.router.connect([ipOf(1)]);
    await settle(sim, b.allocator.allocate('web2'));
    const c = await startPeer(sim, 3, { range: '172.64.65.0/24' });
    c.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 3_000 });
    expect(c.router.connectionsText()).toMatch(
      /^-> 10\.0\.0\.1:6783 +failed +Incompatible IP allocation ranges \(received: 172\.16\.16\.0\/24, ours: 172\.64\.65\.0\/24\), retry: /m,
    );
    await sim.runUntilQuiet({ horizonMs: 60_000 });
    expect(c.router.status().terminationCount).toBeGreaterThan(1);
    expect(a.allocator.ringEntries().some((e) => e.peer === nameOf(3))).toBe(false);
  });

  it('drops connections between rings seeded by different peers (split brain)', async () => {
    const sim = new SimNetwork();
    const a = await startPeer(sim, 1, { ipam: { mode: parseInitMode(`seed=${nameOf(1)}`) } });
    const c = await startPeer(sim, 3, { ipam: { mode: parseInitMode(`seed=${nameOf(3)}`) } });
    expect(a.allocator.status()).toBe('ready');
    c.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 3_000 });
    expect(c.router.connectionsText()).toContain(
      'failed      IP allocation was seeded by different peers (received: [0a:00:00:00:00:01(hostA)], ours: [0a:00:00:00:00:03(hostC)]), retry: ',
    );
  });

  it('confines dynamic allocation to the default subnet, records claims outside the range, and allocates in other subnets', async () => {
    const sim = new SimNetwork();
    const a = await startPeer(sim, 1, { range: '10.2.0.0/16', ipam: { defaultSubnet: '10.2.0.0/25' } });
    expect(a.allocator.statusSection()).toEqual({
      service: 'ipam',
      fields: [
        ['Status', 'idle'],
        ['Range', '10.2.0.0/16'],
        ['DefaultSubnet', '10.2.0.0/25'],
      ],
    });
    const got: string[] = [];
    for (let i = 0; i < 126; i++) got.push(formatCIDR(await settle(sim, a.allocator.allocate(`c${i}`))));
    expect(got[0]).toBe('10.2.0.1/25');
    expect(got[125]).toBe('10.2.0.126/25');
    // The default subnet is full now; the rest of the range is not used for it.
    const waiting = a.allocator.allocate('one-too-many');
    await sim.runUntilQuiet({ horizonMs: 6_000 });
    expect(a.allocator.status()).toBe('waiting for IP(s) to become available');
    a.allocator.free('c7', '10.2.0.8');
    await sim.runUntilQuiet({ horizonMs: 6_000 });
    expect(formatCIDR(await waiting)).toBe('10.2.0.8/25');

    expect(formatCIDR(await settle(sim, a.allocator.allocate('x', { subnet: '10.2.1.0/24' })))).toBe(
      '10.2.1.1/24',
    );
    await settle(sim, a.allocator.claim('foreign', '1.1.1.1/24'));
    expect(a.allocator.lookup('foreign').map(formatCIDR)).toEqual(['1.1.1.1/24']);
    await expect(settle(sim, a.allocator.claim('other', '1.1.1.1/24'))).rejects.toThrow(
      'address 1.1.1.1/24 is already owned by foreign',
    );
    await expect(settle(sim, a.allocator.allocate('y', { subnet: '10.3.0.0/24' }))).rejects.toThrow(
      'range 10.3.0.0/24 out of bounds: 10.2.0.0/16',
    );
    expect(a.allocator.report().ActiveIPs).toBe(127);
  });

  it('lets an observer ask electors to form the ring, without a vote of its own', async () => {
    const sim = new SimNetwork();
    const a = await startPeer(sim, 1, { ipam: { mode: parseInitMode('consensus=2') } });
    const b = await startPeer(sim, 2, { ipam: { mode: parseInitMode('consensus=2') } });
    const c = await startPeer(sim, 3, { ipam: { mode: parseInitMode('observer') } });
    b.router.connect([ipOf(1)]);
    c.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    const pending = c.allocator.allocate('obs');
    expect(c.allocator.status()).toBe('priming');
    const addr = await settle(sim, pending);
    expect(c.allocator.ringEntries().map((e) => e.peer)).toContain(nameOf(3));
    expect(a.allocator.report().Entries?.map((e) => e.Peer)).toContain(nameOf(3));
    expect(c.allocator.lookup('obs')).toEqual([addr]);
    // The ring was seeded by the two electors only.
    await settle(sim, a.allocator.prime());
    expect(
      new Set(
        a.allocator
          .ringEntries()
          .slice(0, 2)
          .map((e) => e.peer),
      ),
    ).toEqual(new Set([nameOf(1), nameOf(2)]));
  });

  it('waits for consensus while the quorum cannot be met, and shows it', async () => {
    const sim = new SimNetwork();
    const a = await startPeer(sim, 1, { ipam: { mode: parseInitMode('consensus=5') } });
    const b = await startPeer(sim, 2, { ipam: { mode: parseInitMode('consensus=5') } });
    b.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    const abort = new AbortController();
    const pending = a.allocator.allocate('stuck', { signal: abort.signal });
    await sim.runUntilQuiet({ horizonMs: 30_000 });
    expect(a.allocator.status()).toBe('awaiting consensus (quorum: 3, known: 2)');
    abort.abort();
    await expect(pending).rejects.toThrow('Allocate request for stuck cancelled');
  });

  it('marks a vanished peer unreachable and takes its ranges over with rmpeer', async () => {
    const sim = new SimNetwork();
    const a = await startPeer(sim, 1);
    const b = await startPeer(sim, 2);
    b.router.connect([ipOf(1)]);
    await settle(sim, b.allocator.allocate('web2'));
    await sim.runUntilQuiet({ horizonMs: 1_000 });
    sim.kill(ipOf(2));
    await b.router.stop();
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    expect(a.allocator.ipamText()).toContain(
      '0a:00:00:00:00:02(hostB)                   128 IPs (50.0% of total) - unreachable!',
    );
    // A alone is not a majority of the two owners: B might be alive behind a partition.
    expect(() => a.allocator.adminTakeoverRanges('hostB')).toThrow('only 1 of the 2 peers owning ranges');
    expect(a.allocator.adminTakeoverRanges('hostB', { force: true })).toBe('128 IPs taken over from hostB\n');
    expect(a.allocator.ipamText()).toBe(
      `${'0a:00:00:00:00:01(hostA)'.padEnd(37)}      256 IPs (100.0% of total) (0 active)\n`,
    );
    const entries = a.allocator.ringEntries();
    expect(entries.every((e) => e.peer === nameOf(1))).toBe(true);
    expect(entries[1]!.version).toBeGreaterThanOrEqual(100); // the transfer beats B's own edits
  });
});
