import type { VirtualClock } from './virtual-clock.js';

/** One `setImmediate` round: every queued promise continuation runs before it resolves. */
const drainMicrotasks = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Moves `clock` forward by `ms`, running due timers in order and draining pending promise
 * continuations before each one and at the end, so code mixing timers with `await` (datapaths,
 * overlays) sees virtual time pass as it would in real time.
 */
export async function advanceSettled(clock: VirtualClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  for (;;) {
    await drainMicrotasks();
    const next = clock.nextTimerAt();
    if (next === undefined || next > end) break;
    clock.advanceTo(next);
  }
  clock.advanceTo(end);
  await drainMicrotasks();
}
