import { type PeerName, peerNameFromNumber, Router } from '@weave-ts/core';
import {
  runUntil,
  SimNetwork,
  SimStalledError,
  SimTimeoutError,
  VirtualClock,
  simRouterOptions,
} from '@weave-ts/core/testing';
import { afterEach, describe, expect, it } from 'vitest';

const nameOf = (n: number): PeerName => peerNameFromNumber(0x0a0000000000 + n);
const ipOf = (n: number) => `10.9.0.${n}`;

describe('sim.runUntil', () => {
  const routers: Router[] = [];
  afterEach(async () => {
    for (const r of routers.splice(0)) await r.stop();
  });

  it('resolves with the value of a promise settled by a timer and stops time there', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    sim.clock.setTimeout(() => {}, 9_000); // a later timer must not run
    const value = new Promise<number>((resolve) => sim.clock.setTimeout(() => resolve(42), 5_000));
    await expect(sim.runUntil(value)).resolves.toBe(42);
    expect(sim.clock.now()).toBe(5_000);
    expect(sim.clock.pendingTimers).toBe(1);
  });

  it('waits for a promise chained through several awaits and timers', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    const sleep = (ms: number) => new Promise<void>((resolve) => sim.clock.setTimeout(resolve, ms));
    const work = (async () => {
      await sleep(100);
      await Promise.resolve();
      await sleep(250);
      return sim.clock.now();
    })();
    await expect(sim.runUntil(work)).resolves.toBe(350);
  });

  it('rejects with the promise rejection', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    const failing = new Promise((_, reject) => sim.clock.setTimeout(() => reject(new Error('boom')), 10));
    await expect(sim.runUntil(failing)).rejects.toThrow('boom');
    expect(sim.clock.now()).toBe(10);
  });

  it('stops as soon as a predicate holds, in the middle of periodic timers', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    let ticks = 0;
    const tick = () => {
      ticks++;
      sim.clock.setTimeout(tick, 1_000);
    };
    sim.clock.setTimeout(tick, 1_000);
    await sim.runUntil(() => ticks === 3);
    expect(ticks).toBe(3);
    expect(sim.clock.now()).toBe(3_000);
    await sim.runUntil(() => true); // already true: no time passes
    expect(sim.clock.now()).toBe(3_000);
  });

  it('gives up with SimTimeoutError after timeoutMs of virtual time, with timers still re-arming', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    const tick = () => sim.clock.setTimeout(tick, 1_000);
    tick();
    const never = new Promise<void>(() => {});
    const err = await sim.runUntil(never, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimTimeoutError);
    expect((err as Error).message).toBe('condition not met after 30000 ms of virtual time');
    expect(sim.clock.now()).toBe(30_000);
  });

  it('gives up with SimStalledError when nothing is left to run', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    sim.clock.setTimeout(() => {}, 500);
    const err = await sim.runUntil(() => false, { idleRealMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimStalledError);
    expect(sim.clock.now()).toBe(500);
  });

  it('waits for outside (real) work while no timer is pending', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    const real = new Promise<string>((resolve) => setTimeout(() => resolve('io'), 30));
    await expect(sim.runUntil(real, { idleRealMs: 2_000 })).resolves.toBe('io');
  });

  it('works on a bare VirtualClock and propagates timer exceptions', async () => {
    const clock = new VirtualClock(0);
    clock.setTimeout(() => {
      throw new Error('timer failed');
    }, 7);
    await expect(runUntil(clock, () => false)).rejects.toThrow('timer failed');
    expect(clock.now()).toBe(7);
  });

  it('drives two routers until they are connected', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    for (const n of [1, 2]) {
      routers.push(new Router(simRouterOptions(sim, n, nameOf(n), ipOf(n))));
    }
    const [a, b] = routers as [Router, Router];
    await sim.runUntil(Promise.all([a.start(), b.start()]));
    b.connect([ipOf(1)]);
    const before = sim.stats.steps;
    await sim.runUntil(
      () => a.routes.unicast(b.name) !== undefined && b.routes.unicast(a.name) !== undefined,
      {
        timeoutMs: 60_000,
      },
    );
    expect(a.hasPeer(b.name)).toBe(true);
    expect(sim.stats.steps).toBeGreaterThan(before);
    expect(sim.clock.now()).toBeLessThan(60_000);
  });
});
