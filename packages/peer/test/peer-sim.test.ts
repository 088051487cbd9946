import { SimNetwork } from '@weave-ts/core/testing';
import type { WeavePeer } from '@weave-ts/peer';
import { afterEach, describe, expect, it } from 'vitest';
import { runUntil, simIp, simName, simPeer } from './sim-helpers.js';

const peers: WeavePeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

const ringOf = (p: WeavePeer) => JSON.stringify(p.ipam?.ringEntries());

async function startMesh(sim: SimNetwork, n: number): Promise<WeavePeer[]> {
  const mesh = Array.from({ length: n }, (_, i) =>
    simPeer(sim, i + 1, {
      ipam: { range: '10.40.0.0/16', init: `consensus=${n}` },
      dns: { listen: false },
      ...(i > 0 ? { peers: [simIp(1)] } : {}),
    }),
  );
  peers.push(...mesh);
  for (const p of mesh) await p.start();
  await runUntil(sim, Promise.all(mesh.map((p) => p.whenConverged({ peers: n, timeoutMs: 60_000 }))));
  await runUntil(sim, Promise.all(mesh.map((p) => p.ready)));
  return mesh;
}

describe('createPeer in the simulated network', () => {
  it('partition one peer away: the majority keeps allocating; after healing no duplicates and equal rings', async () => {
    const sim = new SimNetwork();
    const mesh = await startMesh(sim, 5);
    const lonely = mesh[4]!;
    const majority = mesh.slice(0, 4);
    for (const [i, p] of mesh.entries()) await runUntil(sim, p.allocate(`before-${i}`));

    sim.partition([simIp(5)], [1, 2, 3, 4].map(simIp));
    await runUntil(
      sim,
      () => majority.every((p) => p.router.peers.size === 4) && lonely.router.peers.size === 1,
    );
    const during: string[] = [];
    for (let k = 0; k < 8; k++) {
      const p = majority[k % 4]!;
      during.push((await runUntil(sim, p.allocate(`during-${k}`), 60_000))!);
    }
    expect(new Set(during).size).toBe(8);
    // The lonely peer still hands out its own space.
    const alone = (await runUntil(sim, lonely.allocate('alone')))!;

    sim.heal();
    await runUntil(
      sim,
      Promise.all(mesh.map((p) => p.whenConverged({ peers: 5, timeoutMs: 300_000 }))),
      400_000,
    );
    await runUntil(sim, () => mesh.every((p) => ringOf(p) === ringOf(mesh[0]!)), 120_000);
    const all = mesh.flatMap((p) =>
      [...[0, 1, 2, 3, 4].map((i) => `before-${i}`), ...during.map((_, k) => `during-${k}`), 'alone'].flatMap(
        (c) => p.addressesOf(c),
      ),
    );
    expect(all).toContain(alone);
    expect(all).toHaveLength(5 + 8 + 1);
    expect(new Set(all.map((a) => a.split('/')[0])).size).toBe(all.length);
    for (const p of mesh) expect(p.statusText()).toContain('Status: ready');
  }, 120_000);

  it('a peer restarted in-process keeps its space and its addresses', async () => {
    const sim = new SimNetwork();
    const mesh = await startMesh(sim, 3);
    const p = mesh[1]!;
    const first = (await runUntil(sim, p.allocate('keep-me')))!;
    const ownedBefore = p.ipam!.ownedRanges();
    expect(ownedBefore.length).toBeGreaterThan(0);
    const routerBefore = p.router;

    await p.stop();
    expect(p.state).toBe('stopped');
    await runUntil(sim, () => mesh[0]!.router.peers.size === 2, 60_000);
    await p.start();
    expect(p.router).not.toBe(routerBefore);
    await runUntil(sim, Promise.all(mesh.map((q) => q.whenConverged({ peers: 3, timeoutMs: 60_000 }))));
    expect(p.addressesOf('keep-me')).toEqual([first]);
    expect(p.ipam!.ownedRanges()).toEqual(ownedBefore);
    const next = (await runUntil(sim, p.allocate('after-restart')))!;
    expect(next).not.toBe(first);
    await runUntil(sim, () => mesh.every((q) => ringOf(q) === ringOf(mesh[0]!)));
    // The same container asking again gets the same address back.
    expect(await runUntil(sim, p.allocate('keep-me'))).toBe(first);
  }, 60_000);
});

describe('datapath memory', () => {
  it('connections run over the in-process memory overlay', async () => {
    const sim = new SimNetwork();
    const chosen: string[] = [];
    const mesh = [1, 2].map((n) =>
      simPeer(sim, n, { datapath: 'memory', ipam: false, ...(n === 2 ? { peers: [simIp(1)] } : {}) }),
    );
    peers.push(...mesh);
    mesh[0]!.on('datapathChosen', (e) => chosen.push(`${e.peer} ${e.overlay}`));
    for (const p of mesh) await p.start();
    await runUntil(sim, Promise.all(mesh.map((p) => p.whenConverged({ peers: 2 }))));
    expect(chosen).toEqual([`${mesh[1]!.name} memory`]);
    expect(mesh[0]!.datapath.kind).toBe('memory');
    expect(mesh[0]!.statusText('connections')).toMatch(/ established memory /);
    expect(mesh[0]!.status().Router.OverlayDiagnostics).toHaveProperty('memory');
  });
});

describe('createMemoryDatapath', () => {
  it('runs over a private wire that a test can cut', async () => {
    const { MemoryWire } = await import('@weave-ts/core/testing');
    const { createMemoryDatapath } = await import('@weave-ts/peer');
    const sim = new SimNetwork();
    const wire = new MemoryWire();
    const mesh = [3, 4].map((n) =>
      simPeer(sim, n, {
        datapath: createMemoryDatapath(wire),
        ipam: false,
        ...(n === 4 ? { peers: [simIp(3)] } : {}),
      }),
    );
    peers.push(...mesh);
    for (const p of mesh) await p.start();
    await runUntil(sim, Promise.all(mesh.map((p) => p.whenConverged({ peers: 2 }))));
    expect(mesh[0]!.datapath.kind).toBe('memory');
    const a = simName(3);
    const b = simName(4);
    // Both datapaths sit on this wire (not the process's shared one), and a cut there separates them.
    expect(wire.reach('memory', a, b)?.localPeer).toBe(mesh[1]!.name);
    wire.partition(a, b);
    expect(wire.reach('memory', a, b)).toBeUndefined();
    wire.heal();
    await mesh[1]!.stop();
    expect(wire.reach('memory', a, b)).toBeUndefined();
  });
});

describe('explicit datapath backends', () => {
  it('open() runs on every start with the context; kind and diagnostics come from the backend', async () => {
    const { NullOverlay } = await import('@weave-ts/core');
    const sim = new SimNetwork();
    const opened: string[] = [];
    let closed = 0;
    const backend = {
      kind: 'custom',
      async open(ctx: import('@weave-ts/peer').DatapathContext) {
        opened.push(`${ctx.peerName} ${ctx.host}:${ctx.port} ${ctx.bridge.name} ${ctx.encrypted}`);
        return { overlay: new NullOverlay(), mtu: 1400, close: async () => void closed++ };
      },
    };
    const p = simPeer(sim, 7, { datapath: backend, ipam: false });
    peers.push(p);
    expect(p.datapath.kind).toBe('custom');
    await p.start();
    await p.stop();
    await p.start();
    expect(opened).toEqual([
      `${p.name} ${simIp(7)}:6783 weave false`,
      `${p.name} ${simIp(7)}:6783 weave false`,
    ]);
    expect(closed).toBe(1);
    expect(p.datapath).toMatchObject({ kind: 'custom', mtu: 1400 });
    expect(Object.keys(p.status().Router.OverlayDiagnostics)).toEqual(['custom']);
  });
});
