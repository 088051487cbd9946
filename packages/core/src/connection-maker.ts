/**
 * ConnectionMaker (mesh `connection_maker.go`): decides which addresses to dial and when.
 *
 * ```
 *  connect()/forget() ─┐                         ┌─▶ attemptConnection(address) ── router dials
 *  refresh() ──────────┼─▶ check (on the clock) ─┤
 *  connectionCreated/  │   targets + back-off    └─▶ timer for the next due target
 *  Terminated() ───────┘
 * ```
 *
 * It owns no sockets. The router supplies `attemptConnection(address, acceptNewPeer)`; a rejected
 * promise means the attempt failed before a connection existed (dial error). Once a connection object
 * exists, the router reports it with {@link ConnectionMaker.connectionCreated} and, when it ends (also
 * when the handshake fails), {@link ConnectionMaker.connectionTerminated}. For an outbound connection
 * `remoteTcpAddr` must be exactly the address given to `attemptConnection`.
 *
 * Targets are direct (given by the user, `host[:port]`, port defaulting to ours) or discovered from the
 * topology: for each connection P→Q some peer P reports, where we are not connected to Q, the target
 * is P's remote address if P dialled, else that address's IP with our port. Discovered targets vanish
 * when no longer valid; direct ones are suspended. A port-less direct target is skipped while we have
 * an inbound connection from its IP; no address we already have a connection with is dialled.
 *
 * Back-off per target: first attempt at once; after a failure wait a uniform random time in
 * [i/2, 3i/2) where i starts at 2 s and grows ×1.5 up to 6 min. A connection that lived more than
 * 1 min past its attempt resets the target to "try now". Errors flagged `permanent` (peer-name
 * collision, connecting to ourselves) stop retries for good.
 *
 * All work runs from timers on the injected clock (actions schedule a check 0 ms ahead), so many
 * refreshes in one turn cost one check, and no callback re-enters the maker.
 */
import { EventEmitter } from 'eventemitter3';
import type { Clock, TimerHandle } from './clock.js';
import { ConnectToSelfError } from './connection-errors.js';
import { WeaveError } from './errors.js';
import type { PeerName } from './peer-name.js';
import type { Random } from './random.js';

/** First retry interval (mesh `initialInterval`). */
export const INITIAL_RETRY_INTERVAL_MS = 2_000;
/** Longest retry interval (mesh `maxInterval`). */
export const MAX_RETRY_INTERVAL_MS = 6 * 60_000;
/** A connection that outlived its attempt by this much resets the back-off (mesh `resetAfter`). */
export const RETRY_RESET_AFTER_MS = 60_000;

/** Where a target is in its life-cycle. */
export type TargetState = 'waiting' | 'attempting' | 'connected' | 'suspended';

/** One of our connections, as the maker needs to see it (the router's connection objects fit). */
export interface MakerConnection {
  /** The peer at the other end (known once the handshake is done). */
  readonly remote: {
    /** The remote peer's name. */
    readonly name: PeerName;
  };
  /** For outbound connections: the address that was dialled. */
  readonly remoteTcpAddr: string;
  /** Whether we dialled this connection. */
  readonly outbound: boolean;
}

/** A peer in the topology with the connections it reports (a `Peer` from peers.ts fits). */
export interface KnownPeer {
  /** The peer's name. */
  readonly name: PeerName;
  /** The peer's connections by remote peer name, with the address it reported for each. */
  readonly connections: ReadonlyMap<
    PeerName,
    {
      /** The connection's remote `ip:port` as the peer reported it. */
      readonly remoteTcpAddr: string;
      /** Whether the peer dialled the connection. */
      readonly outbound: boolean;
    }
  >;
}

/** Construction parameters of a {@link ConnectionMaker}. */
export interface ConnectionMakerOptions {
  /** Our own peer name (skipped when walking the topology). */
  ourName: PeerName;
  /** Our control port: completes port-less targets and inbound-discovered addresses. */
  port: number;
  /** Dial peers learnt from the topology (default true; `--no-discovery` turns it off). */
  discovery?: boolean;
  /** Schedules retries and the periodic check. */
  clock: Clock;
  /** Jitters retry intervals. */
  random: Random;
  /** Every peer we know (ourselves may be included; we are skipped). Read on each check. */
  peers: () => Iterable<KnownPeer>;
  /**
   * Starts a connection to `address` (`host:port`). `acceptNewPeer` is true for direct targets: a
   * discovered target must turn out to be a peer already in the topology. Reject if no connection
   * came to exist (the error is kept for status); afterwards report through connectionCreated/Terminated.
   */
  attemptConnection: (address: string, acceptNewPeer: boolean) => Promise<void>;
  /** Whether retrying can never help (default: the error has `permanent === true`). */
  isPermanent?: (error: Error) => boolean;
  /** Origin of the `m=+…` part of retry times in status, in clock ms (default: construction time). */
  monotonicOriginMs?: number;
  /** First retry delay after a failed attempt, in ms (default {@link INITIAL_RETRY_INTERVAL_MS}). */
  initialIntervalMs?: number;
  /** Upper bound of the doubling retry delay, in ms (default {@link MAX_RETRY_INTERVAL_MS}). */
  maxIntervalMs?: number;
  /**
   * A connection that lasted this long resets the target's retry delay, in ms (default {@link RETRY_RESET_AFTER_MS}).
   */
  resetAfterMs?: number;
}

/** Events, for logging: mesh logs `->[addr] attempting connection` and the attempt's error. */
export interface ConnectionMakerEvents {
  /** A connection attempt to `address` (`host:port`) starts. */
  attempt: [address: string];
  /** The attempt to `address` failed with `error` (its message is what status shows). */
  attemptFailed: [address: string, error: Error];
}

/** A target that is not connected, as `weave status connections` lists it (always outbound). */
export interface TargetStatus {
  /** The target as `host:port`. */
  readonly address: string;
  /** Targets are always dialled by us. */
  readonly outbound: true;
  /** `connecting` while an attempt runs, `retrying`/`failed` after one failed, `waiting` before the first. */
  readonly state: 'connecting' | 'retrying' | 'failed' | 'waiting';
  /** The last error, and when the next attempt is due (upstream's wording). */
  readonly info: string;
}

/** A read-only view of one target, for diagnostics and tests. */
export interface TargetSnapshot {
  /** Where the target's dialling stands. */
  readonly state: TargetState;
  /** The error of the last failed attempt, if any. */
  readonly lastError: Error | undefined;
  /** Clock time of the next attempt; `undefined` means never. */
  readonly tryAfter: number | undefined;
  /** The interval the next failure will draw its delay from. */
  readonly tryIntervalMs: number;
}

/** A peer given to `connect` is not `host[:port]`. */
export class InvalidPeerAddressError extends WeaveError {
  /** The error's stable name: `'InvalidPeerAddressError'`. */
  override name = 'InvalidPeerAddressError';
  constructor(peer: string) {
    super(`invalid peer name ${JSON.stringify(peer)}, should be host[:port]`);
  }
}

interface Target {
  state: TargetState;
  lastError: Error | undefined;
  tryAfter: number | null;
  tryInterval: number;
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** Splits `host[:port]`; port 0 means "not given". */
export function parsePeerAddress(peer: string): {
  /** The host part (a name or an IP address). */
  host: string;
  /** The port, 0 when none was given. */
  port: number;
} {
  const parts = peer.split(':');
  if (parts.length > 2) throw new InvalidPeerAddressError(peer);
  const [host = '', portText = ''] = parts;
  if (!HOST.test(host) || !/^[0-9]{0,5}$/.test(portText)) throw new InvalidPeerAddressError(peer);
  const port = portText === '' ? 0 : Number(portText);
  if (port > 65535) throw new InvalidPeerAddressError(peer);
  return { host, port };
}

/** Decides, times and records connection attempts; see the file comment. */
export class ConnectionMaker extends EventEmitter<ConnectionMakerEvents> {
  readonly #o: Required<Omit<ConnectionMakerOptions, 'isPermanent'>> & {
    isPermanent: (e: Error) => boolean;
  };
  readonly #targets = new Map<string, Target>();
  readonly #direct = new Map<string, { host: string; port: number }>();
  readonly #connections = new Set<MakerConnection>();
  #terminations = 0;
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;

  constructor(options: ConnectionMakerOptions) {
    super();
    this.#o = {
      ...options,
      discovery: options.discovery ?? true,
      monotonicOriginMs: options.monotonicOriginMs ?? options.clock.now(),
      initialIntervalMs: options.initialIntervalMs ?? INITIAL_RETRY_INTERVAL_MS,
      maxIntervalMs: options.maxIntervalMs ?? MAX_RETRY_INTERVAL_MS,
      resetAfterMs: options.resetAfterMs ?? RETRY_RESET_AFTER_MS,
      isPermanent: options.isPermanent ?? ((e) => (e as { permanent?: unknown }).permanent === true),
    };
  }

  /**
   * Adds direct targets (`host[:port]`); with `replace`, forgets the previous ones first. A target we
   * are already retrying is tried again at once. Returns an error for each malformed entry (the rest
   * are still added).
   */
  connect(peers: readonly string[], replace = false): Error[] {
    const errors: Error[] = [];
    const parsed = new Map<string, { host: string; port: number }>();
    for (const peer of peers) {
      try {
        parsed.set(peer, parsePeerAddress(peer));
      } catch (e) {
        errors.push(e as Error);
      }
    }
    if (replace) this.#direct.clear();
    for (const [peer, addr] of parsed) {
      this.#direct.set(peer, addr);
      const target = this.#targets.get(this.#complete(addr));
      if (target) this.#tryNow(target);
    }
    this.#wake(0);
    return errors;
  }

  /** Removes direct targets, as given to `connect`. Existing connections are left alone. */
  forget(peers: readonly string[]): void {
    for (const peer of peers) this.#direct.delete(peer);
    this.#wake(0);
  }

  /** Re-evaluates targets; the router calls it on every topology change. */
  refresh(): void {
    this.#wake(0);
  }

  /** Registers a connection that now exists; an outbound one marks its target connected. */
  connectionCreated(conn: MakerConnection): void {
    this.#connections.add(conn);
    if (conn.outbound) {
      const target = this.#targets.get(conn.remoteTcpAddr);
      if (target) target.state = 'connected';
    }
  }

  /** Unregisters a connection that ended (`error`: why); schedules its target's next attempt. */
  connectionTerminated(conn: MakerConnection, error?: Error): void {
    if (!(error instanceof ConnectToSelfError)) this.#terminations++;
    this.#connections.delete(conn);
    const target = conn.outbound ? this.#targets.get(conn.remoteTcpAddr) : undefined;
    if (target) {
      target.state = 'waiting';
      target.lastError = error;
      const now = this.#o.clock.now();
      if (error && this.#o.isPermanent(error)) this.#tryNever(target);
      else if (target.tryAfter === null || now > target.tryAfter + this.#o.resetAfterMs) this.#tryNow(target);
      else this.#tryLater(target);
    }
    this.#wake(0);
  }

  /**
   * The direct targets as given to `connect`, in the order added; with `activeOnly`, without those
   * that will never be retried (the IPAM quorum guess counts these).
   */
  targets(activeOnly = false): string[] {
    const out: string[] = [];
    for (const [peer, addr] of this.#direct) {
      if (activeOnly && this.#targets.get(this.#complete(addr))?.tryAfter === null) continue;
      out.push(peer);
    }
    return out;
  }

  /** Status rows for targets that are not connected (connected and suspended ones are not listed). */
  connectionStatus(): TargetStatus[] {
    const rows: TargetStatus[] = [];
    for (const [address, t] of this.#targets) {
      const row = (state: TargetStatus['state'], info: string) =>
        rows.push({ address, outbound: true, state, info });
      if (t.state === 'waiting') {
        const until = t.tryAfter === null ? 'never' : formatGoTime(t.tryAfter, this.#o.monotonicOriginMs);
        if (t.lastError) row('failed', `${t.lastError.message}, retry: ${until}`);
        else row('waiting', `until: ${until}`);
      } else if (t.state === 'attempting') {
        if (t.lastError) row('retrying', t.lastError.message);
        else row('connecting', '');
      }
    }
    return rows;
  }

  /** The target for `address` (`host:port`), if there is one. */
  target(address: string): TargetSnapshot | undefined {
    const t = this.#targets.get(address);
    if (!t) return undefined;
    return {
      state: t.state,
      lastError: t.lastError,
      tryAfter: t.tryAfter ?? undefined,
      tryIntervalMs: t.tryInterval,
    };
  }

  /** Connections that ended, except attempts that reached ourselves (`TerminationCount` in reports). */
  get terminationCount(): number {
    return this.#terminations;
  }

  /** Resumes after {@link stop} (a restarted router): due targets are tried again. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#wake(0);
  }

  /** Cancels the timer; no further attempts are made (until {@link start}). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #complete(addr: { host: string; port: number }): string {
    return `${addr.host}:${addr.port === 0 ? this.#o.port : addr.port}`;
  }

  /** Makes sure a check runs within `delay` ms. */
  #wake(delay: number): void {
    if (this.#stopped) return;
    const clock = this.#o.clock;
    const at = clock.now() + delay;
    if (this.#timer !== undefined) {
      if (this.#timerAt <= at) return;
      clock.clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#check();
    }, delay);
  }

  #check(): void {
    if (this.#stopped) return;
    const valid = new Set<string>();
    const direct = new Set<string>();
    const connectedPeers = new Set<PeerName>();
    const connectedAddrs = new Set<string>();
    const inboundIps = new Set<string>();
    for (const c of this.#connections) {
      connectedPeers.add(c.remote.name);
      connectedAddrs.add(c.remoteTcpAddr);
      if (!c.outbound) inboundIps.add(hostOf(c.remoteTcpAddr));
    }
    const addTarget = (address: string) => {
      if (connectedAddrs.has(address)) return;
      valid.add(address);
      if (this.#targets.has(address)) return;
      const t: Target = { state: 'waiting', lastError: undefined, tryAfter: null, tryInterval: 0 };
      this.#tryNow(t);
      this.#targets.set(address, t);
    };
    for (const addr of this.#direct.values()) {
      const address = this.#complete(addr);
      direct.add(address);
      if (addr.port === 0 && inboundIps.has(addr.host)) continue;
      addTarget(address);
    }
    if (this.#o.discovery) {
      for (const peer of this.#o.peers()) {
        if (peer.name === this.#o.ourName) continue;
        for (const [other, conn] of peer.connections) {
          if (other === this.#o.ourName || connectedPeers.has(other)) continue;
          addTarget(conn.outbound ? conn.remoteTcpAddr : `${hostOf(conn.remoteTcpAddr)}:${this.#o.port}`);
        }
      }
    }

    const now = this.#o.clock.now();
    let after = Number.POSITIVE_INFINITY;
    const due: [string, boolean][] = [];
    for (const [address, t] of this.#targets) {
      if (t.state !== 'waiting' && t.state !== 'suspended') continue;
      if (!valid.has(address)) {
        if (direct.has(address)) t.state = 'suspended';
        else this.#targets.delete(address);
        continue;
      }
      if (t.tryAfter === null) continue;
      t.state = 'waiting';
      const wait = t.tryAfter - now;
      if (wait <= 0) {
        t.state = 'attempting';
        due.push([address, direct.has(address)]);
      } else if (wait < after) after = wait;
    }
    if (after !== Number.POSITIVE_INFINITY) this.#wake(after);
    for (const [address, acceptNewPeer] of due) this.#attempt(address, acceptNewPeer);
  }

  #attempt(address: string, acceptNewPeer: boolean): void {
    this.emit('attempt', address);
    let attempt: Promise<void>;
    try {
      attempt = this.#o.attemptConnection(address, acceptNewPeer);
    } catch (e) {
      attempt = Promise.reject(e);
    }
    attempt.then(undefined, (e: unknown) =>
      this.#aborted(address, e instanceof Error ? e : new Error(String(e))),
    );
  }

  /** The attempt failed before a connection existed. */
  #aborted(address: string, error: Error): void {
    if (this.#stopped) return;
    this.emit('attemptFailed', address, error);
    const target = this.#targets.get(address);
    if (!target) return;
    target.state = 'waiting';
    target.lastError = error;
    // Upstream always backs off here; a permanent error cannot get better by retrying either.
    if (this.#o.isPermanent(error)) this.#tryNever(target);
    else this.#tryLater(target);
    this.#wake(0);
  }

  #tryNow(t: Target): void {
    t.tryAfter = this.#o.clock.now();
    t.tryInterval = this.#o.initialIntervalMs;
  }

  #tryNever(t: Target): void {
    t.tryAfter = null;
    t.tryInterval = this.#o.maxIntervalMs;
  }

  /** Next try after a uniform random delay in [i/2, 3i/2); the interval then grows ×1.5 up to the cap. */
  #tryLater(t: Target): void {
    const i = t.tryInterval;
    t.tryAfter = this.#o.clock.now() + i / 2 + this.#o.random.float() * i;
    t.tryInterval = Math.min((i * 3) / 2, this.#o.maxIntervalMs);
  }
}

/** The host part of `host:port`. */
function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * Formats a clock time (ms since the epoch) as Go's `time.Time.String()` prints it, in UTC:
 * `2026-11-22 19:21:49.345706443 +0000 UTC m=+10.795623126`. Fractional seconds lose trailing zeros
 * like Go's `.999999999` layout. The `m=±s.nnnnnnnnn` monotonic part (Go's seconds since process
 * start) is printed when `monotonicOriginMs` is given, as the time elapsed since that origin.
 */
export function formatGoTime(ms: number, monotonicOriginMs?: number): string {
  const whole = Math.floor(ms);
  const subMsNs = Math.min(999_999, Math.round((ms - whole) * 1e6));
  const d = new Date(whole);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const frac = pad(d.getUTCMilliseconds() * 1e6 + subMsNs, 9).replace(/0+$/, '');
  let out = `${date} ${time}${frac ? `.${frac}` : ''} +0000 UTC`;
  if (monotonicOriginMs !== undefined) {
    const elapsed = ms - monotonicOriginMs;
    const ns = Math.round(Math.abs(elapsed) * 1e6);
    out += ` m=${elapsed < 0 ? '-' : '+'}${Math.floor(ns / 1e9)}.${pad(ns % 1e9, 9)}`;
  }
  return out;
}
