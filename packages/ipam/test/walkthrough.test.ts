import { readFileSync } from 'node:fs';
import { SimNetwork } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { formatCIDR } from '../src/address.js';
import { ipOf, nameOf, settle, startPeer } from './sim-cluster.js';

/**
 * The 2.8.1 capture's scenario (interop/weaver-2.8.1/README.md) on real routers over the simulated
 * network: A and B on 172.16.16.0/24, B dialled A (so B's quorum guess is 2), first container on B,
 * then on A; C joins later and must be given space by A or B.
 */
const capture = (file: string) =>
  readFileSync(new URL(`../../../fixtures/weaver-2.8.1/${file}`, import.meta.url), 'utf8');

async function scenario(seedC: number) {
  const sim = new SimNetwork();
  const a = await startPeer(sim, 1);
  const b = await startPeer(sim, 2);
  b.router.connect([ipOf(1)]);
  await sim.runUntilQuiet({ horizonMs: 5_000 });
  const idle = [a.allocator.status(), b.allocator.status()];

  const web2 = b.allocator.allocate('web2cid0000000000');
  const electing = b.allocator.status();
  const web2Addr = formatCIDR(await settle(sim, web2));
  const web1Addr = formatCIDR(await settle(sim, a.allocator.allocate('web1cid0000000000')));

  const c = await startPeer(sim, 3, { seed: seedC });
  c.router.connect([ipOf(1)]);
  await sim.runUntilQuiet({ horizonMs: 5_000 });
  const web3Addr = formatCIDR(await settle(sim, c.allocator.allocate('web3cid0000000000')));
  // Let periodic gossip spread everyone's latest free counts.
  await sim.runUntilQuiet({ horizonMs: 180_000 });
  return { sim, a, b, c, idle, electing, web1Addr, web2Addr, web3Addr };
}

describe('IPAM walkthrough on 172.16.16.0/24 (A < B, then C)', () => {
  it('is idle until asked, elects with quorum 2, and hands out .128 on B and .1 on A', async () => {
    const s = await scenario(3);
    expect(s.idle).toEqual(['idle', 'idle']);
    expect(s.electing).toBe('awaiting consensus (quorum: 2, known: 1)');
    expect(s.web2Addr).toBe('172.16.16.128/24');
    expect(s.web1Addr).toBe('172.16.16.1/24');
    for (const p of [s.a, s.b, s.c]) expect(p.allocator.status()).toBe('ready');
    // Everyone agrees on the ring.
    expect(s.b.allocator.ringEntries()).toEqual(s.a.allocator.ringEntries());
    expect(s.c.allocator.ringEntries()).toEqual(s.a.allocator.ringEntries());
  });

  it('gives C .224 exactly when B donated and .96 when A did, and both happen', async () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 12 && seen.size < 2; seed++) {
      const s = await scenario(seed);
      const donor =
        s.a.allocator.ownedRanges()[0]!.end - s.a.allocator.ownedRanges()[0]!.start === 128 ? 'B' : 'A';
      expect(s.web3Addr).toBe(donor === 'B' ? '172.16.16.224/24' : '172.16.16.96/24');
      seen.add(donor);
      if (donor === 'A') {
        // The capture's outcome: compare our status output with upstream's, line for line.
        expect(s.a.allocator.ipamText()).toBe(capture('hostA_status_ipam.txt'));
        expect(s.b.allocator.ipamText()).toBe(capture('hostB_status_ipam.txt'));
        expect(s.c.allocator.ipamText()).toBe(capture('hostC_status_ipam.txt'));
        const upstream = JSON.parse(capture('hostA_report.json')).IPAM;
        for (const p of [s.a, s.b, s.c]) expect(p.allocator.report()).toEqual(upstream);
        const section = s.a.router.statusText([s.a.allocator.statusSection()]);
        const ipamBlock = (text: string) => text.slice(text.indexOf('        Service: ipam'));
        expect(ipamBlock(section)).toBe(`${ipamBlock(capture('hostA_status.txt')).split('\n\n')[0]}\n`);
      } else {
        expect(s.c.allocator.ownedRanges()).toEqual([{ start: 0xac1010e0, end: 0xac101100 }]);
      }
      expect(s.a.allocator.ringEntries().some((e) => e.peer === nameOf(3))).toBe(true);
    }
    expect([...seen].sort()).toEqual(['A', 'B']);
  });
});
