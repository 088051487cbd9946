import type { Clock } from './clock.js';

/** Tokens in the router's accept limiter (`acceptMaxTokens` in mesh/router.go). */
export const ACCEPT_MAX_TOKENS = 20;
/** One accept token is added every this many ms (`acceptTokenDelay` in mesh/router.go). */
export const ACCEPT_TOKEN_INTERVAL_MS = 50;

/**
 * A token-bucket rate limiter on an injected clock, as mesh's `tokenBucket`: it holds up to
 * `capacity` tokens, a full bucket allows `capacity` takes at once, and one token comes back every
 * `tokenIntervalMs`. The router takes one token per accepted connection.
 *
 * It keeps only the time at which the bucket will next be full ("theoretical arrival time"): taking a
 * token moves it one interval later, and a token is available while it lies at most
 * `(capacity - 1)` intervals ahead of now. (Upstream's version, which truncates timestamps to whole
 * intervals, lets one extra token through on a full bucket; this one allows exactly `capacity`.)
 */
export class TokenBucket {
  readonly #clock: Clock;
  readonly #capacity: number;
  readonly #interval: number;
  /** When the bucket is next full (≤ now means full). */
  #fullAt: number;

  /**
   * @param capacity tokens in a full bucket (a positive integer)
   * @param tokenIntervalMs ms to replenish one token (positive)
   * @throws RangeError on other values
   */
  constructor(clock: Clock, capacity: number, tokenIntervalMs: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`bad bucket capacity ${capacity}`);
    if (!(tokenIntervalMs > 0) || !Number.isFinite(tokenIntervalMs)) {
      throw new RangeError(`bad token interval ${tokenIntervalMs}`);
    }
    this.#clock = clock;
    this.#capacity = capacity;
    this.#interval = tokenIntervalMs;
    this.#fullAt = clock.now();
  }

  /** Milliseconds until a token can be taken (0 when one is available now). */
  delayMs(): number {
    const now = this.#clock.now();
    const fullAt = Math.max(this.#fullAt, now);
    return Math.max(0, fullAt - now - (this.#capacity - 1) * this.#interval);
  }

  /** Takes a token if one is available now; returns whether it did. */
  tryTake(): boolean {
    if (this.delayMs() > 0) return false;
    this.#take();
    return true;
  }

  /**
   * Takes a token, waiting on the clock until one is available. Concurrent waiters are served in call
   * order: each call reserves its token immediately and resolves when that token is due.
   */
  wait(): Promise<void> {
    const delay = this.delayMs();
    this.#take();
    if (delay === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#clock.setTimeout(resolve, delay);
    });
  }

  #take(): void {
    this.#fullAt = Math.max(this.#fullAt, this.#clock.now()) + this.#interval;
  }
}
