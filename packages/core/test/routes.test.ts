import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PeerName, UNKNOWN_PEER_NAME } from '@weave-ts/core';
import { Routes } from '@weave-ts/core/protocol';
import {
  type Link,
  both,
  connect,
  disconnect,
  makeNode,
  n,
  seededRandom,
  viewFrom,
} from './peers-fixtures.js';

function routesFrom(viewpoint: number, links: readonly Link[], everyone: readonly number[] = []): Routes {
  const routes = new Routes(viewFrom(viewpoint, links, everyone).peers);
  routes.recalculate();
  return routes;
}

const names = (...ids: number[]) => ids.map(n);

describe('Routes on hand-built topologies', () => {
  const line = [...both(1, 2), ...both(2, 3), ...both(3, 4)];

  it('line 1-2-3-4: everything from an end goes via its only neighbour', () => {
    const r = routesFrom(1, line);
    expect([2, 3, 4].map((d) => r.unicast(n(d)))).toEqual(names(2, 2, 2));
    expect(r.unicast(n(1))).toBeUndefined();
    expect(r.unicastRoutes().get(n(1))).toBe(UNKNOWN_PEER_NAME);
    expect(r.broadcast(n(1))).toEqual(names(2));
    expect(r.broadcast(n(4))).toEqual([]); // we are a leaf of 4's tree
  });

  it('line 1-2-3-4: a middle peer relays broadcasts away from the origin', () => {
    const r = routesFrom(2, line);
    expect([1, 3, 4].map((d) => r.unicast(n(d)))).toEqual(names(1, 3, 3));
    expect(r.broadcast(n(2))).toEqual(names(1, 3));
    expect(r.broadcast(n(1))).toEqual(names(3));
    expect(r.broadcast(n(4))).toEqual(names(1));
    expect(r.broadcast(n(3))).toEqual(names(1));
  });

  it('star: the hub relays to every other leaf, leaves relay nothing', () => {
    const star = [2, 3, 4, 5].flatMap((leaf) => both(1, leaf));
    const hub = routesFrom(1, star);
    expect(hub.broadcast(n(1))).toEqual(names(2, 3, 4, 5));
    expect(hub.broadcast(n(3))).toEqual(names(2, 4, 5));
    const leaf = routesFrom(3, star);
    expect([1, 2, 4, 5].map((d) => leaf.unicast(n(d)))).toEqual(names(1, 1, 1, 1));
    expect(leaf.broadcast(n(2))).toEqual([]);
    expect(leaf.broadcast(n(3))).toEqual(names(1));
  });

  it('ring of 5: ties go to the lower-named neighbour, layer by layer', () => {
    const ring = [...both(1, 2), ...both(2, 3), ...both(3, 4), ...both(4, 5), ...both(5, 1)];
    const r = routesFrom(1, ring);
    expect([2, 3, 4, 5].map((d) => r.unicast(n(d)))).toEqual(names(2, 2, 5, 5));
    expect(r.broadcast(n(1))).toEqual(names(2, 5));
    // 3's tree: 3 → {2,4}; 2 → 1 (us, reached from 2), 4 → 5: we pass nothing on
    expect(r.broadcast(n(3))).toEqual([]);
    // 2's tree: 2 → {1,3}; from us, 5 is not yet reached
    expect(r.broadcast(n(2))).toEqual(names(5));
  });

  it('diamond: a peer reachable via two neighbours is routed via the lower-named one', () => {
    const diamond = [...both(1, 3), ...both(1, 2), ...both(3, 4), ...both(2, 4)];
    const r = routesFrom(1, diamond);
    expect([2, 3, 4].map((d) => r.unicast(n(d)))).toEqual(names(2, 3, 2));
    expect(r.broadcast(n(4))).toEqual([]); // 4 reaches 2 and 3 itself
    // 2's tree: 2 → {1, 4}; we come first in that layer, so 3 is ours to serve, not 4's
    expect(r.broadcast(n(2))).toEqual(names(3));
    const four = routesFrom(4, diamond);
    expect(four.broadcast(n(2))).toEqual([]);
    expect(four.unicast(n(1))).toBe(n(2));
  });

  it('a one-sided connection counts only for the "all" tables', () => {
    const r = routesFrom(1, [{ from: 1, to: 2 }]);
    expect(r.unicast(n(2))).toBeUndefined();
    expect(r.unicastAll(n(2))).toBe(n(2));
    expect(r.broadcast(n(1))).toEqual([]);
    expect(r.broadcastAll(n(1))).toEqual(names(2));
  });

  it('an unestablished end counts only for the "all" tables', () => {
    const links = [...both(1, 2), { from: 2, to: 3 }, { from: 3, to: 2, established: false }];
    const r = routesFrom(1, links);
    expect(r.unicast(n(2))).toBe(n(2));
    expect(r.unicast(n(3))).toBeUndefined();
    expect(r.unicastAll(n(3))).toBe(n(2));
    expect(r.broadcast(n(3))).toEqual([]);
  });

  it('knows nothing about unknown or unreachable origins', () => {
    const r = routesFrom(1, [...both(1, 2), ...both(3, 4)]);
    expect(r.unicastAll(n(3))).toBeUndefined();
    expect(r.broadcastAll(n(3))).toEqual([]);
    expect(r.broadcast(n(99))).toEqual([]);
  });

  it('starts with only ourselves, and reports changes only when tables change', () => {
    const a = makeNode(n(1));
    const routes = new Routes(a.peers);
    expect(routes.unicastRoutes()).toEqual(new Map([[n(1), UNKNOWN_PEER_NAME]]));
    let changes = 0;
    routes.on('changed', () => changes++);
    const b = makeNode(n(2));
    connect(a, b.local);
    expect(routes.recalculate()).toBe(true);
    expect(routes.unicastAll(n(2))).toBe(n(2));
    expect(routes.unicast(n(2))).toBeUndefined(); // b has not reported the connection back yet
    expect(routes.recalculate()).toBe(false);
    expect(changes).toBe(1);
    disconnect(a, n(2));
    expect(routes.recalculate()).toBe(true);
    expect(routes.unicastAll(n(2))).toBeUndefined();
    expect(changes).toBe(2);
  });

  it('keeps cached broadcast entries up to date across recalculations', () => {
    const links = [...both(1, 2), ...both(2, 3)];
    const node = viewFrom(2, links);
    const routes = new Routes(node.peers);
    routes.recalculate();
    expect(routes.broadcast(n(1))).toEqual(names(3));
    expect(routes.broadcastRoutes().has(n(1))).toBe(true);
    disconnect(node, n(3));
    expect(routes.recalculate()).toBe(true);
    expect(routes.broadcast(n(1))).toEqual([]);
  });
});

describe('Routes.randomNeighbours', () => {
  // us(1) with neighbours 2..5; 2 has a tail of 6 peers behind it (12 reachable peers in all)
  const links = [
    ...[2, 3, 4, 5].flatMap((x) => both(1, x)),
    ...[10, 11, 12, 13, 14, 15].flatMap((x) => both(2, x)),
  ];

  it('picks floor(log2(peers)) distinct neighbours, never the excluded one', () => {
    const r = routesFrom(1, links);
    const random = seededRandom(11);
    for (let i = 0; i < 50; i++) {
      const picked = r.randomNeighbours(n(3), random);
      expect(picked).toHaveLength(3); // floor(log2(11))
      expect(new Set(picked).size).toBe(3);
      expect(picked).not.toContain(n(3));
      for (const p of picked) expect(names(2, 4, 5)).toContain(p);
    }
  });

  it('favours the neighbour most destinations route through', () => {
    // 25 peers → floor(2·log2 25) = 9 picks among 16 neighbours (2..17); 9 of the 24 destinations
    // route via 2 (itself and 8 peers behind it), one via each other neighbour.
    const behind2 = Array.from({ length: 8 }, (_, i) => 20 + i);
    const r = routesFrom(1, [
      ...Array.from({ length: 16 }, (_, i) => i + 2).flatMap((x) => both(1, x)),
      ...behind2.flatMap((x) => both(2, x)),
    ]);
    const random = seededRandom(12);
    const counts = new Map<PeerName, number>();
    const runs = 600;
    for (let i = 0; i < runs; i++) {
      const picked = r.randomNeighbours(undefined, random);
      expect(picked).toHaveLength(9);
      expect(new Set(picked).size).toBe(9);
      for (const p of picked) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    // 2 is almost always in; the other eight picks spread evenly over the 15 light neighbours (≈ 8/15)
    expect(counts.get(n(2))! / runs).toBeGreaterThan(0.95);
    for (let light = 3; light <= 17; light++) {
      expect(counts.get(n(light))! / runs).toBeGreaterThan(0.4);
      expect(counts.get(n(light))! / runs).toBeLessThan(0.66);
    }
  });

  it('returns every neighbour but the excepted one when there are fewer than 2·log2(peers)', () => {
    const random = seededRandom(13);
    // 3 peers → floor(min(2·log2 3, 2)) = 2: both neighbours, every time
    const three = routesFrom(1, [...both(1, 2), ...both(1, 3)]);
    for (let i = 0; i < 100; i++)
      expect(three.randomNeighbours(undefined, random).sort()).toEqual(names(2, 3));
    // 6 peers, 2 neighbours: both, or the one left when the other is excepted
    const six = routesFrom(1, [...both(1, 2), ...both(1, 3), ...both(2, 4), ...both(2, 5), ...both(2, 6)]);
    expect(six.randomNeighbours(undefined, random).sort()).toEqual(names(2, 3));
    expect(six.randomNeighbours(n(3), random)).toEqual(names(2));
    // a single neighbour (2 peers)
    expect(routesFrom(1, both(1, 2)).randomNeighbours(undefined, random)).toEqual(names(2));
  });

  it('returns nothing without neighbours', () => {
    const r = routesFrom(1, []);
    expect(r.randomNeighbours(undefined, seededRandom(1))).toEqual([]);
  });
});

describe('Routes properties on random topologies', () => {
  const topology = fc
    .integer({ min: 2, max: 9 })
    .chain((size) =>
      fc.record({
        size: fc.constant(size),
        links: fc.uniqueArray(
          fc.record({
            from: fc.integer({ min: 1, max: size }),
            to: fc.integer({ min: 1, max: size }),
            established: fc.boolean(),
          }),
          { selector: (l) => `${l.from}-${l.to}`, maxLength: size * 3 },
        ),
      }),
    )
    .map(({ size, links }) => ({ size, links: links.filter((l) => l.from !== l.to) }));

  it('unicast next hops always lead to the destination without loops', () => {
    fc.assert(
      fc.property(topology, ({ size, links }) => {
        const ids = Array.from({ length: size }, (_, i) => i + 1);
        const views = new Map(ids.map((id) => [n(id), routesFrom(id, links, ids)]));
        for (const [kind, next] of [
          ['unicast', (r: Routes, d: PeerName) => r.unicast(d)],
          ['unicastAll', (r: Routes, d: PeerName) => r.unicastAll(d)],
        ] as const) {
          for (const src of ids) {
            for (const dst of ids) {
              if (src === dst) continue;
              let at = n(src);
              const visited = new Set([at]);
              let hop = next(views.get(at)!, n(dst));
              if (hop === undefined) continue;
              while (at !== n(dst)) {
                expect(hop, `${kind} ${src}→${dst} stuck at ${at}`).toBeDefined();
                // every hop is a reported connection of the peer using it
                expect(links.some((l) => n(l.from) === at && n(l.to) === hop)).toBe(true);
                at = hop!;
                expect(visited.has(at), `${kind} ${src}→${dst} loops at ${at}`).toBe(false);
                visited.add(at);
                if (at !== n(dst)) hop = next(views.get(at)!, n(dst));
              }
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a broadcast reaches every peer of the origin exactly once on symmetric topologies', () => {
    const symmetric = topology.map(({ size, links }) => ({
      size,
      links: links.flatMap((l) => both(l.from, l.to)),
    }));
    fc.assert(
      fc.property(symmetric, ({ size, links }) => {
        const ids = Array.from({ length: size }, (_, i) => i + 1);
        const views = new Map(ids.map((id) => [n(id), routesFrom(id, links, ids)]));
        for (const origin of ids) {
          const reachable = [...views.get(n(origin))!.unicastRoutes().keys()];
          const received = new Map<PeerName, number>([[n(origin), 1]]);
          const queue = [n(origin)];
          while (queue.length > 0) {
            const at = queue.shift()!;
            for (const next of views.get(at)!.broadcast(n(origin))) {
              received.set(next, (received.get(next) ?? 0) + 1);
              queue.push(next);
            }
          }
          expect([...received.keys()].sort()).toEqual(reachable.sort());
          expect([...received.values()].every((c) => c === 1)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});
