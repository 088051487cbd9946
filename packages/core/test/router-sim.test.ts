import { describe, expect, it } from 'vitest';
import { Router, peerNameFromNumber, type RouterOptions } from '@weave-ts/core';
import { SeededRandom, SimNetwork } from '@weave-ts/core/testing';

function makeRouter(sim: SimNetwork, n: number, extra: Partial<RouterOptions> = {}): Router {
  return new Router({
    name: peerNameFromNumber(0x0a0000000000 + n),
    nickname: `host${n}`,
    host: `10.0.0.${n}`,
    transport: sim.transport(`10.0.0.${n}`),
    clock: sim.clock,
    random: new SeededRandom(n),
    ...extra,
  });
}

describe('router on the simulated network', () => {
  it('forms a full mesh from seeds: B→A, C→B, D→A', async () => {
    const sim = new SimNetwork();
    const routers = [1, 2, 3, 4].map((n) => makeRouter(sim, n));
    for (const r of routers) await r.start();
    routers[1]!.connect(['10.0.0.1']);
    routers[2]!.connect(['10.0.0.2']);
    routers[3]!.connect(['10.0.0.1']);
    await sim.runUntilQuiet({ horizonMs: 20_000 });
    for (const r of routers) {
      const text = r.statusText();
      expect(text).toContain('Connections: 3 (3 established)');
      expect(text).toContain('Peers: 4 (with 12 established connections)');
    }
    for (const r of routers) await r.stop();
  });
});
