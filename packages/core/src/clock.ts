/** An opaque handle for a scheduled callback. */
export type TimerHandle = {
  /** Brand only: a handle exists at the type level and is never inspected. */
  readonly __timer: unique symbol;
};

/**
 * Time as components see it. Injected everywhere, so the same code runs on the wall clock and in a
 * deterministic simulation (`VirtualClock` in `@weave-ts/core/testing`).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds unless cleared first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a pending callback; a no-op for one that already ran or was cleared. */
  clearTimeout(handle: TimerHandle): void;
}

/** The process's real clock. Timers are unref'd so they never keep a process alive on their own. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};
