/**
 * SimNetwork: an in-memory IP network on a {@link VirtualClock}, for deterministic multi-router tests
 * and benchmarks (no sockets, reproducible runs).
 *
 * Model
 * - Hosts are IP strings; a host exists once `transport(ip)` or `datagramTransport(ip)` was called.
 *   `127.0.0.1`/`localhost` means the dialling host itself.
 * - Every network event (a stream chunk, a close notice, a dial step, a datagram batch) is a timer on
 *   the clock `latencyMs` ahead. Timers due at the same instant run in scheduling order, so a run is a
 *   pure function of the code and its seeds. What one stream end sends in one instant travels as one
 *   event, so a burst costs one heap operation (O(log n), the clock's binary heap) plus O(1) a chunk.
 * - Dial: the SYN reaches the remote host after one latency; if nothing listens there the dial rejects
 *   one latency later with `connect ECONNREFUSED ip:port`, otherwise the listener's `onAccept` runs
 *   (synchronously, from the pump) and `dial()` resolves one latency later. A dial to an unknown or
 *   partitioned host rejects with `connect ETIMEDOUT ip:port` after `dialTimeoutMs`.
 * - Streams keep chunk boundaries (unless `maxSegmentSize` splits them) and copy what is written.
 *   Like a paused Node socket, a connection holds arrived chunks until it has a `data` listener, and a
 *   close notice until it has a `data` or `close` listener, so nothing is lost in the gap between
 *   `await dial()` and attaching listeners.
 * - `close()` emits `close` on this end (asynchronously) and, a latency later, on the other end:
 *   without an error the other end sees a clean close after all data written before it; with an error
 *   (an abortive close, like SetLinger(0)) it sees `read ECONNRESET`.
 * - `partition(a, b)` cuts every link between the two groups: datagrams and dials across it are lost,
 *   and every stream crossing it is broken for good: its in-flight and later data is dropped, and both
 *   ends close with `read ETIMEDOUT` after `brokenStreamTimeoutMs` (default 0: immediately). Breaking
 *   instead of stalling keeps byte streams intact: a stream never resumes with a gap in it. `heal()`
 *   restores links for new traffic; routers reconnect as they would after a real outage.
 * - `kill(ip)` is a process crash: the host's listeners and datagram sockets go away, its connections
 *   close locally with {@link SimHostKilledError} and remotely with `read ECONNRESET`. The host stays
 *   reachable, so later dials to it are refused until something listens again.
 *
 * Driving it: `await sim.runUntilQuiet()` runs timers in time order. Between two timers of the same
 * instant it yields `microtaskTurns` microtask turns; before moving time forward it drains the
 * microtask queue completely (one `setImmediate` round), so virtual time never advances while promise
 * continuations (e.g. code after `await dial()`) are still runnable. It stops once no network event is
 * pending, no timer is due within `settleMs`, and the optional horizon has passed; other timers
 * (heartbeats, retries) run only while that is not the case. Purely synchronous tests can use
 * `sim.clock.advance()`.
 */
import { WeaveError } from '../errors.js';
import type { Random } from '../random.js';
import type { DatagramTransport, StreamTransport } from '../transport.js';
import { type RunUntilOptions, type RunUntilTarget, runUntil } from './run-until.js';
import { Fabric } from './sim-fabric.js';
import { VirtualClock } from './virtual-clock.js';

/** Tuning of a {@link SimNetwork}; every field is optional. */
export interface SimNetworkOptions {
  /** The clock to schedule on (default: a new VirtualClock). */
  clock?: VirtualClock;
  /** One-way delay of every packet, in ms (default 1). */
  latencyMs?: number;
  /** How long a dial to an unknown or unreachable host takes to fail, in ms (default 10 000). */
  dialTimeoutMs?: number;
  /** Delay before both ends of a stream broken by a partition close, in ms (default 0). */
  brokenStreamTimeoutMs?: number;
  /** Split stream writes into chunks of at most this many bytes (default: no splitting). */
  maxSegmentSize?: number;
  /** Datagrams larger than this are dropped silently, like a path MTU (default 65 507). */
  maxDatagramSize?: number;
  /** Probability in [0, 1] that a datagram is lost (default 0). */
  datagramLoss?: number;
  /** Source of randomness for datagram loss (default `new SeededRandom(1)`). */
  random?: Random;
  /** Microtask turns yielded between two timers of the same instant (default 3). */
  microtaskTurns?: number;
  /** Default {@link SimRunOptions.settleMs} of every run (default 0). */
  settleMs?: number;
}

/** Options of {@link SimNetwork.runUntilQuiet}. */
export interface SimRunOptions {
  /** Keep running every timer until at least this much virtual time has passed (default 0). */
  horizonMs?: number;
  /**
   * Not quiet while any timer is due within this many ms: lets short protocol delays (route
   * recalculation, batched topology updates, accept rate limiting) play out, while long periodic
   * timers (heartbeats, gossip) do not keep the run going. Default: the network's `settleMs`.
   */
  settleMs?: number;
  /** Give up with {@link SimNetworkBusyError} if not quiet after this much virtual time (default 1 h). */
  limitMs?: number;
}

/** Counters since the network was created. */
export interface SimNetworkStats {
  /** Stream chunks delivered. */
  chunks: number;
  /** Datagrams delivered. */
  datagrams: number;
  /** Datagrams lost (partition, loss rate, size, nobody bound). */
  droppedDatagrams: number;
  /** Timers run by {@link SimNetwork.runUntilQuiet}. */
  steps: number;
}

/** The local end of a connection on a host that {@link SimNetwork.kill} took down. */
export class SimHostKilledError extends WeaveError {
  /** The error's stable name: `'SimHostKilledError'`. */
  override name = 'SimHostKilledError';
  constructor(ip: string) {
    super(`host ${ip} was killed`);
  }
}

/** {@link SimNetwork.runUntilQuiet} hit its limit with network events still pending. */
export class SimNetworkBusyError extends WeaveError {
  /** The error's stable name: `'SimNetworkBusyError'`. */
  override name = 'SimNetworkBusyError';
  constructor(limitMs: number, pending: number) {
    super(`network not quiet after ${limitMs} ms of virtual time (${pending} events pending)`);
  }
}

/** The simulated network; see the file comment for its model. */
export class SimNetwork {
  /** The clock every delivery is scheduled on; pass it to the routers under test. */
  readonly clock: VirtualClock;
  readonly #fabric: Fabric;
  readonly #turns: number;
  readonly #settle: number;

  constructor(options: SimNetworkOptions = {}) {
    this.clock = options.clock ?? new VirtualClock();
    this.#fabric = new Fabric(this.clock, options);
    this.#turns = options.microtaskTurns ?? 3;
    this.#settle = options.settleMs ?? 0;
  }

  /** The stream transport of host `ip` (created on first use). */
  transport(ip: string): StreamTransport {
    const host = this.#fabric.host(ip);
    return {
      listen: (local, onAccept) => this.#fabric.listen(host, local, onAccept),
      dial: (remote) => this.#fabric.dial(host, remote),
    };
  }

  /** The datagram transport of host `ip` (created on first use). */
  datagramTransport(ip: string): DatagramTransport {
    const host = this.#fabric.host(ip);
    return { bind: (local) => this.#fabric.bind(host, local) };
  }

  /** Cuts every link between a host in `a` and a host in `b` (see the file comment). */
  partition(a: readonly string[], b: readonly string[]): void {
    this.#fabric.partition(a, b);
  }

  /**
   * Cuts one direction only: packets from a host in `from` to a host in `to` are lost, the other way
   * they flow. Datagrams obey the direction; a stream needs both directions, so streams between them
   * break and dials fail (as TCP does when its SYN or SYN-ACK is lost).
   */
  block(from: readonly string[], to: readonly string[]): void {
    this.#fabric.block(from, to);
  }

  /** Removes every partition and one-way cut. Streams already broken stay closed. */
  heal(): void {
    this.#fabric.partitions.length = 0;
    this.#fabric.blocked.clear();
  }

  /** Whether packets currently flow between the two hosts. */
  reachable(a: string, b: string): boolean {
    return this.#fabric.reachable(a, b);
  }

  /** Crashes host `ip`'s process: closes its listeners, datagram sockets and connections. */
  kill(ip: string): void {
    const host = this.#fabric.hosts.get(ip);
    if (!host) return;
    host.listeners.clear();
    for (const socket of [...host.sockets.values()]) void socket.close();
    const killed = new SimHostKilledError(ip);
    for (const conn of [...host.connections]) conn.close(killed);
  }

  /** Network events scheduled and not yet delivered. */
  get pendingEvents(): number {
    return this.#fabric.pending;
  }

  /** Open stream connections on host `ip` (ends not yet closed). */
  connectionCount(ip: string): number {
    return this.#fabric.hosts.get(ip)?.connections.size ?? 0;
  }

  /** A snapshot of the counters. */
  get stats(): SimNetworkStats {
    return { ...this.#fabric.stats };
  }

  /**
   * Runs the simulation until no network event is pending and `horizonMs` has passed; resolves with
   * the virtual time reached. Rejects with whatever a timer callback threw.
   * @throws SimNetworkBusyError when still busy after `limitMs`
   */
  async runUntilQuiet(options: SimRunOptions = {}): Promise<number> {
    const clock = this.clock;
    const fabric = this.#fabric;
    const horizon = clock.now() + (options.horizonMs ?? 0);
    const limitMs = options.limitMs ?? 3_600_000;
    const limit = clock.now() + limitMs;
    const settle = options.settleMs ?? this.#settle;
    for (;;) {
      // Drain every runnable promise continuation before time moves.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const next = clock.nextTimerAt();
      if (next === undefined || (fabric.pending === 0 && next > Math.max(horizon, clock.now() + settle))) {
        clock.advanceTo(horizon);
        return clock.now();
      }
      if (next > limit) throw new SimNetworkBusyError(limitMs, fabric.pending);
      while (clock.nextTimerAt() === next) {
        clock.runNext();
        fabric.stats.steps++;
        for (let i = 0; i < this.#turns; i++) await Promise.resolve();
      }
    }
  }

  /**
   * Runs the simulation until `target` settles (a promise: resolves with its value) or holds (a
   * predicate), and stops there: `await sim.runUntil(peer.start())`,
   * `await sim.runUntil(() => router.hasPeer(name), { timeoutMs: 60_000 })`. See {@link runUntil}.
   * @throws SimTimeoutError when `timeoutMs` of virtual time pass first (default 1 h)
   * @throws SimStalledError when nothing is left to run and the condition still does not hold
   */
  runUntil<T>(target: PromiseLike<T>, options?: RunUntilOptions): Promise<T>;
  runUntil(target: () => boolean, options?: RunUntilOptions): Promise<void>;
  runUntil<T>(target: RunUntilTarget<T>, options: RunUntilOptions = {}): Promise<T | undefined> {
    const opts = { microtaskTurns: this.#turns, ...options };
    const step = () => {
      this.#fabric.stats.steps++;
    };
    if (typeof target === 'function') return runUntil(this.clock, target, opts, step).then(() => undefined);
    return runUntil(this.clock, target, opts, step);
  }
}
