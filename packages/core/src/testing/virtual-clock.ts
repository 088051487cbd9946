import type { Clock, TimerHandle } from '../clock.js';

/**
 * A {@link Clock} whose time moves only when told to, for deterministic tests and simulations.
 *
 * Timers sit in a binary min-heap keyed by (deadline, sequence number), so timers due at the same
 * instant run in the order they were scheduled (FIFO) and scheduling or running one costs O(log n).
 * Cleared timers are dropped lazily; the heap is rebuilt when they outnumber the live ones, so code that
 * keeps re-arming timeouts (heartbeats, read deadlines) cannot grow it without bound.
 *
 * Callbacks run synchronously inside {@link advance}, {@link advanceTo}, {@link runNext} and
 * {@link runUntilIdle}; during a callback `now()` reads the timer's deadline. An exception thrown by a
 * callback propagates out of the call that ran it (the timer is already removed, the clock stays
 * consistent). Promise continuations are NOT run between callbacks: code mixing timers with `await` is
 * driven by `SimNetwork.runUntilQuiet`, which drains microtasks between steps.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #heap: Timer[] = [];
  #live = 0;

  /** Starts at `epochMs` (milliseconds since the Unix epoch; default 2026-01-01T00:00:00Z). */
  constructor(epochMs: number = Date.UTC(2026, 0, 1)) {
    this.#now = epochMs;
  }

  /** The current virtual time in milliseconds since the Unix epoch. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now() + ms`; a negative or non-finite delay counts as 0, as Node does. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: Timer = { at: this.#now + delay, seq: this.#seq++, fn, live: true };
    this.#push(timer);
    this.#live++;
    return timer as unknown as TimerHandle;
  }

  /** Cancels a pending timer; a no-op for one that ran, was cleared, or came from another clock. */
  clearTimeout(handle: TimerHandle): void {
    const timer = handle as unknown as Timer;
    if (!timer?.live) return;
    timer.live = false;
    this.#live--;
    if (this.#heap.length > 1024 && this.#heap.length > 3 * this.#live) this.#compact();
  }

  /** How many timers are scheduled and not yet run or cleared. */
  get pendingTimers(): number {
    return this.#live;
  }

  /** The deadline of the earliest pending timer, or `undefined` when none is pending. */
  nextTimerAt(): number | undefined {
    this.#dropDead();
    return this.#heap[0]?.at;
  }

  /**
   * Moves time forward to the earliest pending timer (never backwards) and runs that one timer.
   * Returns false when no timer is pending.
   */
  runNext(): boolean {
    this.#dropDead();
    const timer = this.#pop();
    if (!timer) return false;
    timer.live = false;
    this.#live--;
    if (timer.at > this.#now) this.#now = timer.at;
    timer.fn();
    return true;
  }

  /**
   * Runs, in deadline order, every timer due up to `time` (including ones scheduled meanwhile), then
   * sets the clock to `time` (or leaves it where it is if `time` is in the past). Returns how many ran.
   */
  advanceTo(time: number): number {
    let ran = 0;
    for (let next = this.nextTimerAt(); next !== undefined && next <= time; next = this.nextTimerAt()) {
      this.runNext();
      ran++;
    }
    if (time > this.#now) this.#now = time;
    return ran;
  }

  /** {@link advanceTo} `now() + ms`. */
  advance(ms: number): number {
    return this.advanceTo(this.#now + Math.max(0, ms));
  }

  /**
   * Runs timers in order until none is pending, but never past `now() + limitMs` (timers re-arming
   * themselves forever would otherwise never let it return). Returns how many ran; if timers remain
   * beyond the limit, time stops at the limit.
   */
  runUntilIdle(limitMs = 3_600_000): number {
    const limit = this.#now + Math.max(0, limitMs);
    let ran = 0;
    for (let next = this.nextTimerAt(); next !== undefined; next = this.nextTimerAt()) {
      if (next > limit) {
        this.#now = Math.max(this.#now, limit);
        break;
      }
      this.runNext();
      ran++;
    }
    return ran;
  }

  #dropDead(): void {
    while (this.#heap.length > 0 && !this.#heap[0]!.live) this.#pop();
  }

  #compact(): void {
    const live = this.#heap.filter((t) => t.live);
    this.#heap = [];
    for (const t of live) this.#push(t);
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): Timer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const child = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  live: boolean;
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
