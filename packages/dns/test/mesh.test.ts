// weaveDNS over real routers (core's Router on the simulated network): records spread to every
// peer, deaths and departures propagate, a late joiner gets the full state, skewed clocks are refused.
import { parsePeerName, type PeerName, Router, type TimerHandle } from '@weave-ts/core';
import { SeededRandom, SimNetwork, simRouterOptions } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { Nameserver } from '../src/nameserver.js';
import { DnsServer } from '../src/server.js';
import { udpQuery, addressesOf, decode, query } from './helpers.js';

const nameOf = (n: number): PeerName => parsePeerName(`0a:00:00:00:00:0${n}`);
const ipOf = (n: number) => `10.0.0.${n}`;

function makePeer(sim: SimNetwork, n: number, clockOffsetMs = 0) {
  const router = new Router(simRouterOptions(sim, n, nameOf(n), ipOf(n)));
  const clock =
    clockOffsetMs === 0
      ? sim.clock
      : {
          now: () => sim.clock.now() + clockOffsetMs,
          setTimeout: (fn: () => void, ms: number): TimerHandle => sim.clock.setTimeout(fn, ms),
          clearTimeout: (h: TimerHandle) => sim.clock.clearTimeout(h),
        };
  const ns = new Nameserver({ ourName: router.name, isKnownPeer: (p) => router.hasPeer(p), clock });
  ns.register(router);
  router.on('peersRemoved', (names) => {
    for (const name of names) ns.peerGone(name);
  });
  return { router, ns };
}

const sorted = (xs: string[]) => [...xs].sort();

describe('weaveDNS on a 3-router mesh', () => {
  it('spreads, updates and forgets records across the mesh', async () => {
    const sim = new SimNetwork();
    const [a, b, c] = [1, 2, 3].map((n) => makePeer(sim, n));
    for (const p of [a!, b!, c!]) await p.router.start();
    b!.router.connect([ipOf(1)]);
    c!.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 10_000 });

    a!.ns.add('web1cid', '172.16.16.1', 'web1.weave.local.');
    b!.ns.add('web2cid', '172.16.16.128', 'web2.weave.local.');
    b!.ns.add('shared-b', '172.16.16.200', 'shared.weave.local.');
    c!.ns.add('shared-c', '172.16.16.201', 'Shared.Weave.Local.');
    await sim.runUntilQuiet({ horizonMs: 1_000 });
    for (const p of [a!, b!, c!]) {
      expect(p.ns.lookup('web1.weave.local.')).toEqual(['172.16.16.1']);
      expect(p.ns.lookup('WEB2.weave.local')).toEqual(['172.16.16.128']);
      expect(sorted(p.ns.lookup('shared.weave.local.'))).toEqual(['172.16.16.200', '172.16.16.201']);
    }

    // A container dies on A: its name goes everywhere.
    a!.ns.containerDied('web1cid');
    await sim.runUntilQuiet({ horizonMs: 1_000 });
    for (const p of [a!, b!, c!]) expect(p.ns.lookup('web1.weave.local.')).toEqual([]);

    // B goes away: once the topology forgets it, its records are dropped everywhere.
    sim.kill(ipOf(2));
    await b!.router.stop();
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    for (const p of [a!, c!]) {
      expect(p.router.hasPeer(nameOf(2))).toBe(false);
      expect(p.ns.lookup('web2.weave.local.')).toEqual([]);
      expect(p.ns.lookup('shared.weave.local.')).toEqual(['172.16.16.201']);
    }

    // A DNS server over C's records answers from what the mesh gossiped.
    const server = new DnsServer({
      nameserver: c!.ns,
      host: '127.0.0.1',
      port: 0,
      upstream: { servers: () => [] },
    });
    const { udpPort } = await server.start();
    try {
      expect(addressesOf(decode(await udpQuery(udpPort, query('shared.weave.local', 'A'))))).toEqual([
        '172.16.16.201',
      ]);
    } finally {
      await server.stop();
    }
    for (const p of [a!, c!]) await p.router.stop();
  });

  it('a peer that restarts before the mesh noticed does not resurrect its stale names (#1867)', async () => {
    // Broken streams only time out after 2 minutes: B and C still hold A's old incarnation when the
    // restarted A (same name, new UID, new address) reconnects.
    const sim = new SimNetwork({ brokenStreamTimeoutMs: 120_000 });
    const [a, b, c] = [1, 2, 3].map((n) => makePeer(sim, n));
    for (const p of [a!, b!, c!]) await p.router.start();
    b!.router.connect([ipOf(1)]);
    c!.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    a!.ns.add('web1cid', '172.16.16.1', 'web1.weave.local.');
    await sim.runUntilQuiet({ horizonMs: 1_000 });
    expect(c!.ns.lookup('web1.weave.local.')).toEqual(['172.16.16.1']);

    sim.partition([ipOf(1)], [ipOf(2), ipOf(3)]);
    const reborn = new Router({
      name: nameOf(1),
      nickname: 'host1',
      host: ipOf(9),
      transport: sim.transport(ipOf(9)),
      clock: sim.clock,
      random: new SeededRandom(91),
    });
    const ns = new Nameserver({
      ourName: reborn.name,
      isKnownPeer: (p) => reborn.hasPeer(p),
      clock: sim.clock,
    });
    ns.register(reborn);
    await reborn.start();
    reborn.connect([ipOf(3)]);
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    expect(c!.router.hasPeer(nameOf(1))).toBe(true);
    for (const p of [b!.ns, c!.ns, ns]) expect(p.lookup('web1.weave.local.')).toEqual([]);
    await reborn.stop();
    for (const p of [a!, b!, c!]) await p.router.stop();
  });

  it('gives a late joiner the full state through gossip on its new connection', async () => {
    const sim = new SimNetwork();
    const [a, b] = [1, 2].map((n) => makePeer(sim, n));
    await a!.router.start();
    await b!.router.start();
    b!.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    a!.ns.add('web1cid', '172.16.16.1', 'web1.weave.local.');
    b!.ns.add('web2cid', '172.16.16.128', 'web2.weave.local.');
    await sim.runUntilQuiet({ horizonMs: 1_000 });

    const c = makePeer(sim, 3);
    await c.router.start();
    c.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 40_000 }); // past one periodic gossip interval too
    expect(c.ns.lookup('web1.weave.local.')).toEqual(['172.16.16.1']);
    expect(c.ns.lookup('web2.weave.local.')).toEqual(['172.16.16.128']);
    for (const p of [a!, b!, c]) await p.router.stop();
  });

  it('refuses name gossip from a peer whose clock is 1000 s ahead, closing the connection', async () => {
    const sim = new SimNetwork();
    const a = makePeer(sim, 1);
    const c = makePeer(sim, 3, 1_000_000);
    const closes: string[] = [];
    for (const p of [a, c])
      p.router.on('connectionClosed', (_remote, _addr, err) => err && closes.push(err.message));
    await a.router.start();
    await c.router.start();
    c.ns.add('web3cid', '172.16.16.96', 'web3.weave.local.');
    c.router.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    // Whichever side hears the other first refuses: A sees C 1000 s ahead, C sees A 1000 s behind.
    expect(closes.some((m) => /^host clock skew of (1000|-1000)s exceeds 900s limit$/.test(m))).toBe(true);
    expect(a.ns.lookup('web3.weave.local.')).toEqual([]);
    await a.router.stop();
    await c.router.stop();
  });
});
