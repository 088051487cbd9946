import { SeededRandom, SimNetwork } from '@weave-ts/core/testing';
import { createPeer } from '@weave-ts/peer';
import { expect, it } from 'vitest';

// The example of docs/guides/testing.md ("A whole peer in the simulation"), kept runnable here.
it('testing guide: three peers with IPAM and DNS in the simulated network', async () => {
  const sim = new SimNetwork();
  const peers = [1, 2, 3].map((n) =>
    createPeer({
      name: `0a:00:00:00:00:0${n}`,
      nickname: `host${n}`,
      host: `10.0.0.${n}`,
      transport: sim.transport(`10.0.0.${n}`), // simulated sockets
      clock: sim.clock, // virtual time
      random: new SeededRandom(n), // reproducible
      peers: n === 1 ? [] : ['10.0.0.1'],
      ipam: { range: '10.40.0.0/16', init: 'consensus=3' },
      dns: { listen: false }, // names gossip and resolve with dns.lookup; no real DNS socket
    }),
  );
  for (const p of peers) await sim.runUntil(p.start());
  await sim.runUntil(Promise.all(peers.map((p) => p.whenConverged({ peers: 3 }))));
  const cidr = await sim.runUntil(peers[2]!.allocate('web-1')); // e.g. '10.40.128.1/16'
  peers[2]!.dns.add('web-1', cidr.split('/')[0]!, 'web.weave.local');
  await sim.runUntil(() => peers[0]!.dns.lookup('web').length === 1);

  sim.partition(['10.0.0.3'], ['10.0.0.1', '10.0.0.2']); // cut host3 off; the others go on allocating
  const during = await sim.runUntil(peers[0]!.allocate('web-2'));
  sim.heal();
  await sim.runUntil(Promise.all(peers.map((p) => p.whenConverged({ peers: 3, timeoutMs: 600_000 }))), {
    timeoutMs: 700_000,
  });
  for (const p of peers) await p.stop();

  expect(cidr).toMatch(/^10\.40\.\d+\.\d+\/16$/);
  expect(peers[0]!.state).toBe('stopped');
  expect(during).not.toBe(cidr);
});
