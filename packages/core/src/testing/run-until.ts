import { WeaveError } from '../errors.js';
import type { VirtualClock } from './virtual-clock.js';

/** Options of {@link runUntil} and {@link SimNetwork.runUntil}. */
export interface RunUntilOptions {
  /** Give up with {@link SimTimeoutError} after this much virtual time (default 1 h). */
  timeoutMs?: number;
  /**
   * When no timer is pending but the condition does not hold yet, how long to wait in real time for
   * outside work (file I/O, real sockets) to move things on before giving up with
   * {@link SimStalledError} (default 1000 ms).
   */
  idleRealMs?: number;
  /** Microtask turns yielded after each timer (default 3). */
  microtaskTurns?: number;
}

/** What {@link runUntil} waits for: a promise to settle, or a condition to become true. */
export type RunUntilTarget<T> = PromiseLike<T> | (() => boolean);

/** {@link runUntil} reached its `timeoutMs` of virtual time before its promise settled or condition held. */
export class SimTimeoutError extends WeaveError {
  /** The error's stable name: `'SimTimeoutError'`. */
  override name = 'SimTimeoutError';
  constructor(timeoutMs: number) {
    super(`condition not met after ${timeoutMs} ms of virtual time`);
  }
}

/** {@link runUntil} ran out of timers (nothing left that could make progress) before its condition held. */
export class SimStalledError extends WeaveError {
  /** The error's stable name: `'SimStalledError'`. */
  override name = 'SimStalledError';
  constructor(virtualMs: number) {
    super(`condition not met after ${virtualMs} ms of virtual time and no timer is pending`);
  }
}

const drain = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
const realDelay = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `clock`'s timers in time order, draining promise continuations between them, until `target`
 * settles (a promise: resolves with its value, rejects with its error) or holds (a predicate, checked
 * before time moves and after every timer). Virtual time stops where the condition was met.
 *
 * Rejects with whatever a timer callback or the predicate threw, with {@link SimTimeoutError} once
 * `timeoutMs` of virtual time has passed, and with {@link SimStalledError} when no timer is left and
 * nothing changed for `idleRealMs` of real time; it never hangs.
 *
 * @param onStep called after each timer that ran (for counters)
 */
export function runUntil<T>(
  clock: VirtualClock,
  target: PromiseLike<T>,
  options?: RunUntilOptions,
  onStep?: () => void,
): Promise<T>;
export function runUntil(
  clock: VirtualClock,
  target: () => boolean,
  options?: RunUntilOptions,
  onStep?: () => void,
): Promise<void>;
export async function runUntil<T>(
  clock: VirtualClock,
  target: RunUntilTarget<T>,
  options: RunUntilOptions = {},
  onStep?: () => void,
): Promise<T | undefined> {
  let check: () => boolean;
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  if (typeof target === 'function') {
    check = target;
  } else {
    Promise.resolve(target).then(
      (value) => {
        outcome = { ok: true, value };
      },
      (error: unknown) => {
        outcome = { ok: false, error };
      },
    );
    check = () => outcome !== undefined;
  }
  const timeoutMs = options.timeoutMs ?? 3_600_000;
  const idleRealMs = options.idleRealMs ?? 1_000;
  const turns = options.microtaskTurns ?? 3;
  const start = clock.now();
  const deadline = start + timeoutMs;
  let idleSince: number | undefined;
  for (;;) {
    await drain();
    if (check()) break;
    const next = clock.nextTimerAt();
    if (next === undefined) {
      idleSince ??= Date.now();
      if (Date.now() - idleSince >= idleRealMs) throw new SimStalledError(clock.now() - start);
      await realDelay(Math.min(10, idleRealMs));
      continue;
    }
    idleSince = undefined;
    if (next > deadline) {
      clock.advanceTo(deadline);
      await drain();
      if (check()) break;
      throw new SimTimeoutError(timeoutMs);
    }
    let met = false;
    while (!met && clock.nextTimerAt() === next) {
      clock.runNext();
      onStep?.();
      for (let i = 0; i < turns; i++) await Promise.resolve();
      met = check();
    }
    if (met) break;
  }
  if (outcome?.ok === false) throw outcome.error;
  return outcome?.value;
}
