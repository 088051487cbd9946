import { ACCEPT_MAX_TOKENS, ACCEPT_TOKEN_INTERVAL_MS, TokenBucket } from '@weave-ts/core/protocol';
import { VirtualClock } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';

describe('TokenBucket', () => {
  it('uses the router accept limits from mesh', () => {
    expect(ACCEPT_MAX_TOKENS).toBe(20);
    expect(ACCEPT_TOKEN_INTERVAL_MS).toBe(50);
  });

  it('allows a full bucket at once, then one token per interval', () => {
    const clock = new VirtualClock(0);
    const tb = new TokenBucket(clock, 5, 100);
    for (let i = 0; i < 5; i++) expect(tb.tryTake()).toBe(true);
    expect(tb.tryTake()).toBe(false);
    expect(tb.delayMs()).toBe(100);
    clock.advance(99);
    expect(tb.tryTake()).toBe(false);
    clock.advance(1);
    expect(tb.tryTake()).toBe(true);
    expect(tb.tryTake()).toBe(false);
  });

  it('refills to capacity and no further after a long idle period', () => {
    const clock = new VirtualClock(0);
    const tb = new TokenBucket(clock, 3, 10);
    for (let i = 0; i < 3; i++) tb.tryTake();
    clock.advance(25);
    expect([tb.tryTake(), tb.tryTake(), tb.tryTake()]).toEqual([true, true, false]);
    clock.advance(10_000);
    let taken = 0;
    while (tb.tryTake()) taken++;
    expect(taken).toBe(3);
  });

  it('wait() blocks on the clock, serving concurrent waiters in order at the token rate', async () => {
    const clock = new VirtualClock(0);
    const tb = new TokenBucket(clock, 2, 50);
    const times: number[] = [];
    const waits = Array.from({ length: 5 }, (_, i) =>
      tb.wait().then(() => times.push(i * 1000 + clock.now())),
    );
    await Promise.resolve();
    expect(clock.pendingTimers).toBe(3);
    for (let t = 0; t < 200; t += 10) {
      clock.advance(10);
      await Promise.resolve();
    }
    await Promise.all(waits);
    expect(times).toEqual([0, 1000, 2050, 3100, 4150]);
  });

  it('matches upstream: a burst of capacity accepts is immediate, the rest are paced', () => {
    const clock = new VirtualClock(0);
    const tb = new TokenBucket(clock, ACCEPT_MAX_TOKENS, ACCEPT_TOKEN_INTERVAL_MS);
    let immediate = 0;
    while (tb.tryTake()) immediate++;
    expect(immediate).toBe(20);
    let accepted = 0;
    for (let ms = 0; ms < 1000; ms++) {
      clock.advance(1);
      if (tb.tryTake()) accepted++;
    }
    expect(accepted).toBe(20); // one per 50 ms
  });

  it('rejects bad parameters', () => {
    const clock = new VirtualClock(0);
    expect(() => new TokenBucket(clock, 0, 10)).toThrow(RangeError);
    expect(() => new TokenBucket(clock, 1.5, 10)).toThrow(RangeError);
    expect(() => new TokenBucket(clock, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(clock, 1, Number.NaN)).toThrow(RangeError);
  });
});
