import { SeededRandom, VirtualClock } from '@weave-ts/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('VirtualClock', () => {
  it('starts at the given epoch and only moves when advanced', () => {
    const clock = new VirtualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
    clock.advanceTo(1_100); // never backwards
    expect(clock.now()).toBe(1_250);
  });

  it('runs due timers in deadline order, FIFO for equal deadlines, with now() at the deadline', () => {
    const clock = new VirtualClock(0);
    const log: string[] = [];
    const at = (name: string) => () => log.push(`${name}@${clock.now()}`);
    clock.setTimeout(at('c'), 30);
    clock.setTimeout(at('a1'), 10);
    clock.setTimeout(at('b'), 20);
    clock.setTimeout(at('a2'), 10);
    clock.setTimeout(at('late'), 100);
    expect(clock.pendingTimers).toBe(5);
    expect(clock.advance(30)).toBe(4);
    expect(log).toEqual(['a1@10', 'a2@10', 'b@20', 'c@30']);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(100);
  });

  it('runs timers scheduled while advancing when they fall due within the same advance', () => {
    const clock = new VirtualClock(0);
    const log: number[] = [];
    const tick = () => {
      log.push(clock.now());
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    clock.setTimeout(() => clock.setTimeout(() => log.push(-clock.now()), 0), 25);
    clock.advance(45);
    expect(log).toEqual([10, 20, -25, 30, 40]);
  });

  it('treats negative and non-finite delays as zero', () => {
    const clock = new VirtualClock(5);
    const log: number[] = [];
    clock.setTimeout(() => log.push(1), -10);
    clock.setTimeout(() => log.push(2), Number.NaN);
    clock.advance(0);
    expect(log).toEqual([1, 2]);
  });

  it('clearTimeout cancels and is a no-op for timers that ran or were cleared', () => {
    const clock = new VirtualClock(0);
    const log: string[] = [];
    const a = clock.setTimeout(() => log.push('a'), 5);
    const b = clock.setTimeout(() => log.push('b'), 5);
    clock.clearTimeout(a);
    clock.clearTimeout(a);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(10);
    clock.clearTimeout(b);
    expect(log).toEqual(['b']);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('stays small when timeouts are re-armed many times', () => {
    const clock = new VirtualClock(0);
    let handle = clock.setTimeout(() => {}, 60_000);
    for (let i = 0; i < 50_000; i++) {
      clock.clearTimeout(handle);
      handle = clock.setTimeout(() => {}, 60_000);
    }
    expect(clock.pendingTimers).toBe(1);
    expect(clock.runUntilIdle(120_000)).toBe(1);
  });

  it('runUntilIdle stops at its limit when timers keep re-arming', () => {
    const clock = new VirtualClock(0);
    let runs = 0;
    const tick = () => {
      runs++;
      clock.setTimeout(tick, 1_000);
    };
    clock.setTimeout(tick, 1_000);
    expect(clock.runUntilIdle(10_500)).toBe(10);
    expect(runs).toBe(10);
    expect(clock.now()).toBe(10_500);
    expect(clock.pendingTimers).toBe(1);
  });

  it('lets an exception out of a callback without losing the clock state', () => {
    const clock = new VirtualClock(0);
    const log: number[] = [];
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 1);
    clock.setTimeout(() => log.push(clock.now()), 2);
    expect(() => clock.advance(5)).toThrow('boom');
    expect(clock.now()).toBe(1);
    clock.advance(4);
    expect(log).toEqual([2]);
  });

  it('orders any schedule by (deadline, scheduling order)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(50), fc.boolean()), { maxLength: 200 }), (specs) => {
        const clock = new VirtualClock(0);
        const ran: number[] = [];
        const handles = specs.map(([delay], i) => clock.setTimeout(() => ran.push(i), delay));
        specs.forEach(([, cancel], i) => {
          if (cancel) clock.clearTimeout(handles[i]!);
        });
        clock.runUntilIdle();
        const expected = specs
          .map(([delay, cancel], i) => ({ delay, cancel, i }))
          .filter((s) => !s.cancel)
          .sort((x, y) => x.delay - y.delay || x.i - y.i)
          .map((s) => s.i);
        expect(ran).toEqual(expected);
      }),
    );
  });
});

describe('SeededRandom', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seq = (r: SeededRandom) => Array.from({ length: 8 }, () => r.uint32());
    const sa = seq(a);
    expect(seq(b)).toEqual(sa);
    expect(seq(c)).not.toEqual(sa);
    expect(new SeededRandom(7).bytes(13)).toEqual(new SeededRandom(7).bytes(13));
  });

  it('keeps float() in [0,1) and int(n) in [0,n), roughly uniform', () => {
    const r = new SeededRandom(3);
    const counts = new Array<number>(10).fill(0);
    let bad = 0;
    for (let i = 0; i < 20_000; i++) {
      const f = r.float();
      const k = r.int(10);
      if (!(f >= 0 && f < 1) || !Number.isInteger(k) || k < 0 || k >= 10) bad++;
      else counts[k]!++;
    }
    expect(bad).toBe(0);
    for (const c of counts) expect(Math.abs(c - 2_000)).toBeLessThan(250);
    expect(r.int(1)).toBe(0);
    const big = r.int(2 ** 40);
    expect(big >= 0 && big < 2 ** 40).toBe(true);
  });

  it('rejects a non-positive or non-integer bound', () => {
    const r = new SeededRandom();
    for (const n of [0, -1, 1.5, Number.NaN]) expect(() => r.int(n)).toThrow(RangeError);
  });

  it('fills bytes(n) of any length and forks independent generators', () => {
    const r = new SeededRandom(9);
    expect(r.bytes(0)).toHaveLength(0);
    const b = r.bytes(1001);
    expect(b).toHaveLength(1001);
    expect(new Set(b).size).toBeGreaterThan(200);
    const f1 = r.fork();
    const f2 = r.fork();
    expect(f1.uint32()).not.toBe(f2.uint32());
  });
});
