import { describe, expect, it } from 'vitest';
import { type Logger, type PeerName, Router, type RouterOptions, peerNameFromNumber } from '@weave-ts/core';
import { SeededRandom, SimNetwork, simRouterOptions } from '@weave-ts/core/testing';

const nameOf = (n: number): PeerName => peerNameFromNumber(0x0a0000000000 + n);
const ipOf = (n: number) => `10.0.${n >> 8}.${n & 0xff}`;

function makeRouter(sim: SimNetwork, n: number, extra: Partial<RouterOptions> = {}): Router {
  return new Router({ ...simRouterOptions(sim, n, nameOf(n), ipOf(n)), ...extra });
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m) };
}

async function startAll(routers: Router[]): Promise<void> {
  for (const r of routers) await r.start();
}

describe('router on the simulated network', () => {
  it('forms a full mesh from seeds: B→A, C→B, D→A', async () => {
    const sim = new SimNetwork();
    const routers = [1, 2, 3, 4].map((n) => makeRouter(sim, n));
    await startAll(routers);
    routers[1]!.connect([ipOf(1)]);
    routers[2]!.connect([ipOf(2)]);
    routers[3]!.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 20_000 });
    for (const r of routers) {
      const text = r.statusText();
      expect(text).toContain('Connections: 3 (3 established)');
      expect(text).toContain('Peers: 4 (with 12 established connections)');
    }
    // Only the user-given peer is a target; discovered ones are not listed.
    expect(routers[1]!.targetsText()).toBe(`${ipOf(1)}\n`);
    expect(routers[0]!.targetsText()).toBe('');
    for (const r of routers) await r.stop();
  });

  it('encrypts when both sides have the password', async () => {
    const sim = new SimNetwork();
    const [a, b] = [1, 2].map((n) => makeRouter(sim, n, { password: 's3cret' }));
    await startAll([a!, b!]);
    b!.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    expect(a!.statusText()).toContain('     Encryption: enabled');
    expect(a!.connectionsText()).toMatch(
      /^<- 10\.0\.0\.2:\d+ +established encrypted {3}none {3}0a:00:00:00:00:02\(host2\) encrypted=true\n$/,
    );
  });

  it('refuses a password on one side with upstream texts on both ends', async () => {
    const sim = new SimNetwork();
    const logA = recordingLogger();
    const a = makeRouter(sim, 1, { password: 's3cret', logger: logA });
    const b = makeRouter(sim, 2);
    await startAll([a, b]);
    b.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 1_000 });
    expect(b.connectionsText()).toMatch(
      /^-> 10\.0\.0\.1:6783 +failed +no password specificed, but peer requested an encrypted connection, retry: /,
    );
    expect(
      logA.lines.some((l) => l.endsWith('password specified, but peer requested an unencrypted connection')),
    ).toBe(true);
    expect(a.status().connections).toHaveLength(0);
  });

  it('drops connections with a different password and keeps retrying with back-off', async () => {
    const sim = new SimNetwork();
    const a = makeRouter(sim, 1, { password: 'one' });
    const b = makeRouter(sim, 2, { password: 'two' });
    await startAll([a, b]);
    b.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 1_000 });
    const first = b.connectionMaker.target(`${ipOf(1)}:6783`)!;
    expect(first.lastError?.message).toBe('Unable to decrypt TCP msg');
    expect(first.tryAfter).toBeDefined();
    await sim.runUntilQuiet({ horizonMs: 60_000 });
    const later = b.connectionMaker.target(`${ipOf(1)}:6783`)!;
    expect(later.tryIntervalMs).toBeGreaterThan(first.tryIntervalMs);
    expect(b.status().terminationCount).toBeGreaterThan(2);
  });

  it('never retries a peer-name collision or a connection to ourselves', async () => {
    const sim = new SimNetwork();
    const a = makeRouter(sim, 1);
    const twin = makeRouter(sim, 2, { name: nameOf(1), random: new SeededRandom(99) });
    await startAll([a, twin]);
    twin.connect([ipOf(1)]);
    a.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    const twinText = twin.connectionsText();
    expect(twinText).toMatch(
      /failed +local "0a:00:00:00:00:01\(host2\)" and remote "0a:00:00:00:00:01\(host1\)" peer names collision, retry: never/,
    );
    expect(a.connectionsText()).toContain('failed      cannot connect to ourself, retry: never');
    expect(twin.connectionMaker.target(`${ipOf(1)}:6783`)?.tryAfter).toBeUndefined();
  });

  it('forgets a killed router and recognises it when it restarts', async () => {
    const sim = new SimNetwork();
    const routers = [1, 2, 3].map((n) => makeRouter(sim, n));
    await startAll(routers);
    routers[1]!.connect([ipOf(1)]);
    routers[2]!.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    expect(routers[0]!.statusText()).toContain('Peers: 3 (with 6 established connections)');
    const oldUid = routers[2]!.ourself.uid;
    const removed: PeerName[] = [];
    routers[0]!.on('peersRemoved', (names) => removed.push(...names));
    sim.kill(ipOf(3));
    await routers[2]!.stop();
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    expect(removed).toContain(nameOf(3));
    expect(routers[0]!.hasPeer(nameOf(3))).toBe(false);
    expect(routers[1]!.hasPeer(nameOf(3))).toBe(false);

    const reborn = makeRouter(sim, 3, { random: new SeededRandom(333) });
    expect(reborn.ourself.uid).not.toBe(oldUid);
    await reborn.start();
    reborn.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 20_000 });
    for (const r of [routers[0]!, routers[1]!, reborn]) {
      expect(r.statusText()).toContain('Peers: 3 (with 6 established connections)');
    }
    expect(routers[1]!.peers.fetch(nameOf(3))?.uid).toBe(reborn.ourself.uid);
  });

  it('relays gossip of channels it does not understand', async () => {
    const sim = new SimNetwork();
    const routers = [1, 2, 3].map((n) => makeRouter(sim, n, { peerDiscovery: false }));
    await startAll(routers);
    routers[1]!.connect([ipOf(1)]);
    routers[2]!.connect([ipOf(2)]);
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    const got: string[] = [];
    const receiver = {
      onGossipUnicast: (src: PeerName, msg: Uint8Array) =>
        got.push(`unicast ${src} ${new TextDecoder().decode(msg)}`),
      onGossipBroadcast: (origin: PeerName, msg: Uint8Array) => {
        got.push(`broadcast ${origin} ${new TextDecoder().decode(msg)}`);
        return undefined;
      },
      onGossip: () => undefined,
      gossip: () => undefined,
    };
    const sender = routers[0]!.registerChannel('custom', receiver);
    routers[2]!.registerChannel('custom', receiver);
    // Router 2 (the middle) has no 'custom' receiver: it relays as a surrogate.
    sender.gossipUnicast(nameOf(3), new TextEncoder().encode('hi'));
    sender.gossipBroadcast({ encode: () => [new TextEncoder().encode('all')], merge: (o) => o });
    await sim.runUntilQuiet({ horizonMs: 1_000 });
    expect(got).toEqual([`unicast ${nameOf(1)} hi`, `broadcast ${nameOf(1)} all`]);

    // A large unicast (an IPAM ring can be) is relayed intact through the middle router too.
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    let received: Uint8Array | undefined;
    receiver.onGossipUnicast = (_src: PeerName, msg: Uint8Array) => {
      received = msg;
      return got.length;
    };
    sender.gossipUnicast(nameOf(3), big);
    await sim.runUntilQuiet({ horizonMs: 1_000 });
    expect(received).toEqual(big);
    expect(routers[1]!.status().connections.every((c) => c.state === 'established')).toBe(true);
  });
});

/** Runs the simulation in steps of virtual time until `done` holds; fails after `limitMs`. */
async function runUntil(
  sim: SimNetwork,
  done: () => boolean,
  limitMs: number,
  stepMs = 5_000,
): Promise<number> {
  const start = sim.clock.now();
  while (!done()) {
    if (sim.clock.now() - start > limitMs)
      throw new Error(`not converged after ${limitMs} ms of virtual time`);
    await sim.runUntilQuiet({ horizonMs: stepMs, limitMs: 3_600_000 });
  }
  return sim.clock.now() - start;
}

describe('convergence at scale (simulated)', () => {
  it('a sparse mesh converges from its connection updates alone, without periodic gossip', async () => {
    // A random tree without discovery: every topology change must travel several hops through relays
    // that just learnt of their new neighbours (relays recalculate routes first, as upstream does).
    const sim = new SimNetwork();
    const pick = new SeededRandom(11);
    const n = 200;
    const routers = Array.from({ length: n }, (_, i) =>
      makeRouter(sim, i + 1, { peerDiscovery: false, gossipIntervalMs: 24 * 3_600_000 }),
    );
    await startAll(routers);
    for (let i = 1; i < n; i++) routers[i]!.connect([ipOf(pick.int(i) + 1)]);
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    for (const r of routers) {
      expect(r.peers.size).toBe(n);
      for (const other of routers) {
        // Every router holds every other's current summary (no stale copies, no placeholders).
        expect(r.peers.fetch(other.name)?.version).toBe(other.ourself.version);
        if (other !== r) expect(r.routes.unicast(other.name)).toBeDefined();
      }
    }
    for (const r of routers) await r.stop();
  }, 60_000);

  // 40 peers in `pnpm test` (the simulation costs grow with the square of the mesh); the 100-peer run of
  // earlier rounds takes minutes of CPU: WEAVE_SIM_PEERS=100 pnpm vitest run packages/core/test/router-sim.test.ts
  const n = Number(process.env.WEAVE_SIM_PEERS ?? 40);
  const cut = Math.floor(n * 0.9);
  it(`${n} peers each given one random earlier peer converge to a full mesh; a partition splits and heals`, async () => {
    const sim = new SimNetwork();
    const pick = new SeededRandom(7);
    const routers = Array.from({ length: n }, (_, i) => makeRouter(sim, i + 1));
    await startAll(routers);
    for (let i = 1; i < n; i++) routers[i]!.connect([ipOf(pick.int(i) + 1)]);
    const fullMesh = () =>
      routers.every(
        (r) => r.ourself.connectionCount === n - 1 && r.ourself.liveConnections().every((c) => c.established),
      );
    await runUntil(sim, fullMesh, 120_000);
    for (const r of routers) expect(r.status().peers).toHaveLength(n);

    // Cut a tenth of the peers off: each side forgets the other, then the mesh heals when the links return.
    const left = routers.slice(0, cut).map((_, i) => ipOf(i + 1));
    const right = routers.slice(cut).map((_, i) => ipOf(i + cut + 1));
    sim.partition(left, right);
    const split = () => routers.every((r, i) => r.peers.size === (i < cut ? cut : n - cut));
    await runUntil(sim, split, 60_000);
    expect(routers[n - 1]!.status().connections.filter((c) => c.state === 'established')).toHaveLength(
      n - cut - 1,
    );

    sim.heal();
    await runUntil(sim, () => fullMesh() && routers.every((r) => r.peers.size === n), 10 * 60_000);
  }, 300_000);
});
