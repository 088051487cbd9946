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
import { EventEmitter } from 'eventemitter3';
import { WeaveError } from '../errors.js';
import type { Random } from '../random.js';
import type {
  DatagramSocket,
  DatagramTransport,
  Endpoint,
  StreamConnection,
  StreamConnectionEvents,
  StreamListener,
  StreamTransport,
} from '../transport.js';
import { SeededRandom } from './seeded-random.js';
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
  override name = 'SimHostKilledError';
  constructor(ip: string) {
    super(`host ${ip} was killed`);
  }
}

/** {@link SimNetwork.runUntilQuiet} hit its limit with network events still pending. */
export class SimNetworkBusyError extends WeaveError {
  override name = 'SimNetworkBusyError';
  constructor(limitMs: number, pending: number) {
    super(`network not quiet after ${limitMs} ms of virtual time (${pending} events pending)`);
  }
}

const ERRNO: Record<string, number> = {
  ECONNRESET: -104,
  EADDRINUSE: -98,
  EADDRNOTAVAIL: -99,
  ETIMEDOUT: -110,
  ECONNREFUSED: -111,
};
const TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
};

/** An Error shaped like Node's system errors (`code`, `errno`, `syscall`, `address`, `port`). */
function sysError(syscall: string, code: string, at?: Endpoint): Error {
  const where = at ? ` ${at.host}:${at.port}` : '';
  const message =
    syscall === 'listen' ? `${syscall} ${code}: ${TEXT[code]}${where}` : `${syscall} ${code}${where}`;
  return Object.assign(new Error(message), {
    code,
    errno: ERRNO[code],
    syscall,
    ...(at ? { address: at.host, port: at.port } : {}),
  });
}

const ANY = new Set(['', '0.0.0.0', '::']);
const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

class Host {
  readonly listeners = new Map<number, { host: string; onAccept: (c: StreamConnection) => void }>();
  readonly sockets = new Map<number, SimDatagramSocket>();
  readonly connections = new Set<SimStreamConnection>();
  #nextPort = 32768;
  constructor(readonly ip: string) {}

  /** An unused ephemeral port, as the kernel would pick. */
  ephemeralPort(inUse: (port: number) => boolean): number {
    for (;;) {
      const port = this.#nextPort;
      this.#nextPort = port >= 60999 ? 32768 : port + 1;
      if (!inUse(port)) return port;
    }
  }

  accepts(bound: string, dialled: string): boolean {
    return ANY.has(bound) || bound === dialled;
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

  /** Removes every partition. Streams already broken stay closed. */
  heal(): void {
    this.#fabric.partitions.length = 0;
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
}

/** The network's state and rules, shared by the façade, the connections and the sockets. */
class Fabric {
  readonly latency: number;
  readonly mss: number;
  readonly #dialTimeout: number;
  readonly #brokenTimeout: number;
  readonly #maxDatagram: number;
  readonly #loss: number;
  readonly #random: Random;
  readonly hosts = new Map<string, Host>();
  readonly partitions: { a: ReadonlySet<string>; b: ReadonlySet<string> }[] = [];
  readonly links = new Set<Link>();
  pending = 0;
  readonly stats: SimNetworkStats = { chunks: 0, datagrams: 0, droppedDatagrams: 0, steps: 0 };

  constructor(
    readonly clock: VirtualClock,
    options: SimNetworkOptions,
  ) {
    this.latency = options.latencyMs ?? 1;
    this.#dialTimeout = options.dialTimeoutMs ?? 10_000;
    this.#brokenTimeout = options.brokenStreamTimeoutMs ?? 0;
    this.mss = options.maxSegmentSize ?? Number.POSITIVE_INFINITY;
    this.#maxDatagram = options.maxDatagramSize ?? 65_507;
    this.#loss = options.datagramLoss ?? 0;
    this.#random = options.random ?? new SeededRandom(1);
  }

  /** Schedules a network event `delay` ms from now. */
  schedule(delay: number, fn: () => void): void {
    this.pending++;
    this.clock.setTimeout(() => {
      this.pending--;
      fn();
    }, delay);
  }

  host(ip: string): Host {
    let host = this.hosts.get(ip);
    if (!host) {
      host = new Host(ip);
      this.hosts.set(ip, host);
    }
    return host;
  }

  reachable(a: string, b: string): boolean {
    if (a === b) return true;
    for (const { a: ga, b: gb } of this.partitions) {
      if ((ga.has(a) && gb.has(b)) || (ga.has(b) && gb.has(a))) return false;
    }
    return true;
  }

  partition(a: readonly string[], b: readonly string[]): void {
    this.partitions.push({ a: new Set(a), b: new Set(b) });
    for (const link of this.links) {
      if (!link.broken && !this.reachable(link.ends[0].hostIp, link.ends[1].hostIp)) {
        link.broken = true;
        this.schedule(this.#brokenTimeout, () => {
          for (const end of link.ends) end.fail(sysError('read', 'ETIMEDOUT'));
        });
      }
    }
  }

  #checkBindAddress(host: Host, syscall: string, local: Endpoint): Error | undefined {
    const addr = local.host;
    if (ANY.has(addr) || addr === host.ip || LOOPBACK.has(addr)) return undefined;
    return sysError(syscall, 'EADDRNOTAVAIL', local);
  }

  listen(host: Host, local: Endpoint, onAccept: (c: StreamConnection) => void): Promise<StreamListener> {
    const bad = this.#checkBindAddress(host, 'listen', local);
    if (bad) return Promise.reject(bad);
    const inUse = (p: number) => host.listeners.has(p);
    if (local.port !== 0 && inUse(local.port)) return Promise.reject(sysError('listen', 'EADDRINUSE', local));
    const port = local.port === 0 ? host.ephemeralPort(inUse) : local.port;
    const bound = local.host === '' ? '0.0.0.0' : local.host;
    const entry = { host: bound, onAccept };
    host.listeners.set(port, entry);
    return Promise.resolve({
      local: { host: bound, port },
      close: async () => {
        if (host.listeners.get(port) === entry) host.listeners.delete(port);
      },
    });
  }

  dial(src: Host, remote: Endpoint): Promise<StreamConnection> {
    return new Promise((resolve, reject) => {
      const loop = LOOPBACK.has(remote.host);
      const dstIp = loop ? src.ip : remote.host;
      const timeout = (elapsed: number): void =>
        this.schedule(Math.max(0, this.#dialTimeout - elapsed), () =>
          reject(sysError('connect', 'ETIMEDOUT', remote)),
        );
      const dst = this.hosts.get(dstIp);
      if (!dst || !this.reachable(src.ip, dstIp)) {
        timeout(0);
        return;
      }
      this.schedule(this.latency, () => {
        if (!this.reachable(src.ip, dstIp)) return timeout(this.latency);
        const listener = dst.listeners.get(remote.port);
        if (!listener || !dst.accepts(listener.host, remote.host)) {
          this.schedule(this.latency, () => reject(sysError('connect', 'ECONNREFUSED', remote)));
          return;
        }
        const clientLocal = {
          host: loop ? '127.0.0.1' : src.ip,
          port: src.ephemeralPort((p) => src.listeners.has(p)),
        };
        const link = new Link(this, src, clientLocal, dst, remote);
        this.links.add(link);
        const [client, server] = link.ends;
        listener.onAccept(server);
        this.schedule(this.latency, () => {
          if (!link.broken) return resolve(client);
          client.discard();
          timeout(2 * this.latency);
        });
      });
    });
  }

  bind(host: Host, local: Endpoint): Promise<DatagramSocket> {
    const bad = this.#checkBindAddress(host, 'bind', local);
    if (bad) return Promise.reject(bad);
    const inUse = (p: number) => host.sockets.has(p);
    if (local.port !== 0 && inUse(local.port)) return Promise.reject(sysError('bind', 'EADDRINUSE', local));
    const port = local.port === 0 ? host.ephemeralPort(inUse) : local.port;
    const socket = new SimDatagramSocket(this, host.ip, {
      host: local.host === '' ? '0.0.0.0' : local.host,
      port,
    });
    host.sockets.set(port, socket);
    return Promise.resolve(socket);
  }

  unbind(socket: SimDatagramSocket): void {
    const host = this.hosts.get(socket.hostIp);
    if (host?.sockets.get(socket.local.port) === socket) host.sockets.delete(socket.local.port);
  }

  sendDatagrams(from: SimDatagramSocket, datagrams: readonly (readonly Uint8Array[])[], to: Endpoint): void {
    const loop = LOOPBACK.has(to.host);
    const srcIp = from.hostIp;
    const dstIp = loop ? srcIp : to.host;
    const source: Endpoint = { host: loop ? '127.0.0.1' : srcIp, port: from.local.port };
    const items: { data: Uint8Array; from: Endpoint }[] = [];
    for (const parts of datagrams) {
      const data = concat(parts);
      const lost = this.#loss > 0 && this.#random.float() < this.#loss;
      if (data.length > this.#maxDatagram || lost) this.stats.droppedDatagrams++;
      else items.push({ data, from: source });
    }
    if (items.length === 0) return;
    this.schedule(this.latency, () => {
      const socket = this.hosts.get(dstIp)?.sockets.get(to.port);
      const ok = socket !== undefined && this.reachable(srcIp, dstIp) && socket.accepts(to.host);
      if (ok && socket.deliver(items)) this.stats.datagrams += items.length;
      else this.stats.droppedDatagrams += items.length;
    });
  }
}

/** A stream between two hosts: its two ends and whether a partition broke it. */
class Link {
  broken = false;
  readonly ends: readonly [SimStreamConnection, SimStreamConnection];
  constructor(fabric: Fabric, src: Host, clientLocal: Endpoint, dst: Host, serverLocal: Endpoint) {
    const client = new SimStreamConnection(fabric, this, src, clientLocal, serverLocal);
    const server = new SimStreamConnection(fabric, this, dst, serverLocal, clientLocal);
    client.peer = server;
    server.peer = client;
    this.ends = [client, server];
  }
}

type InboxItem = { data: Uint8Array } | { close: true; error: Error | undefined };

/** One end of a simulated stream. */
class SimStreamConnection extends EventEmitter<StreamConnectionEvents> implements StreamConnection {
  peer!: SimStreamConnection;
  /** No more data in or out: closed here, by the other end, or by a broken link. */
  #closed = false;
  #closedHere = false;
  #closeEmitted = false;
  #inbox: InboxItem[] = [];
  #flushQueued = false;
  #outgoing: { at: number; items: InboxItem[] } | undefined;

  constructor(
    private readonly fabric: Fabric,
    private readonly link: Link,
    private readonly host: Host,
    readonly local: Endpoint,
    readonly remote: Endpoint,
  ) {
    super();
    host.connections.add(this);
  }

  get hostIp(): string {
    return this.host.ip;
  }

  // Attaching a listener releases what the inbox held back (see the file comment).
  override on<T extends EventEmitter.EventNames<StreamConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<StreamConnectionEvents, T>,
    context?: unknown,
  ): this {
    super.on(event, fn, context);
    this.#queueFlush();
    return this;
  }

  override addListener<T extends EventEmitter.EventNames<StreamConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<StreamConnectionEvents, T>,
    context?: unknown,
  ): this {
    return this.on(event, fn, context);
  }

  override once<T extends EventEmitter.EventNames<StreamConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<StreamConnectionEvents, T>,
    context?: unknown,
  ): this {
    super.once(event, fn, context);
    this.#queueFlush();
    return this;
  }

  write(chunk: Uint8Array): void {
    if (this.#closed || this.link.broken || chunk.length === 0) return;
    const copy = chunk.slice();
    const mss = this.fabric.mss;
    if (mss >= copy.length) this.#send({ data: copy });
    else {
      for (let off = 0; off < copy.length; off += mss) {
        this.#send({ data: copy.subarray(off, Math.min(copy.length, off + mss)) });
      }
    }
  }

  /** Puts `item` on the wire; items leaving in the same instant travel as one network event. */
  #send(item: InboxItem): void {
    const at = this.fabric.clock.now() + this.fabric.latency;
    const batch = this.#outgoing;
    if (batch && batch.at === at) {
      batch.items.push(item);
      return;
    }
    const next = { at, items: [item] };
    this.#outgoing = next;
    this.fabric.schedule(this.fabric.latency, () => {
      if (this.#outgoing === next) this.#outgoing = undefined;
      if (this.link.broken) return;
      for (const it of next.items) this.peer.#arrive(it);
    });
  }

  close(error?: Error): void {
    if (this.#closedHere || this.#closeEmitted) return;
    this.#closedHere = true;
    if (this.#closed) {
      // The other end's close notice waits behind unread data: report it now, the data is dropped.
      const notice = this.#inbox.at(-1);
      this.#inbox = [
        { close: true, error: error ?? (notice && 'close' in notice ? notice.error : undefined) },
      ];
      this.#queueFlush();
      return;
    }
    this.#end({ close: true, error }, true);
    if (this.link.broken) return;
    this.#send({ close: true, error: error !== undefined ? sysError('read', 'ECONNRESET') : undefined });
  }

  /** Closes this end with `error` without telling the other end (a broken link). */
  fail(error: Error): void {
    if (!this.#closed) this.#end({ close: true, error }, true);
  }

  /** Drops this end silently (a dial that never completed). */
  discard(): void {
    this.#closed = true;
    this.#closeEmitted = true;
    this.#retire();
  }

  #arrive(item: InboxItem): void {
    if (this.#closed) return;
    if ('close' in item) {
      // A reset discards unread data, as a Node socket does on error; a clean close queues behind it.
      this.#end(item, item.error !== undefined);
      return;
    }
    this.fabric.stats.chunks++;
    this.#inbox.push(item);
    this.#flush();
  }

  #end(item: InboxItem, discardUnread: boolean): void {
    this.#closed = true;
    this.#retire();
    if (discardUnread) this.#inbox = [item];
    else this.#inbox.push(item);
    // Our own close reports asynchronously, as a Node socket's does.
    if (discardUnread) this.#queueFlush();
    else this.#flush();
  }

  #retire(): void {
    this.host.connections.delete(this);
    if (this.link.ends.every((e) => e.#closed)) this.fabric.links.delete(this.link);
  }

  #queueFlush(): void {
    if (this.#flushQueued || this.#inbox.length === 0) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#inbox.length > 0) {
      const item = this.#inbox[0]!;
      if ('data' in item) {
        if (this.listenerCount('data') === 0) return;
        this.#inbox.shift();
        this.emit('data', item.data);
      } else {
        if (this.listenerCount('data') === 0 && this.listenerCount('close') === 0) return;
        this.#inbox = [];
        this.#closeEmitted = true;
        this.emit('close', item.error);
      }
    }
  }
}

/** A datagram socket bound on a simulated host. */
class SimDatagramSocket implements DatagramSocket {
  #handler: ((batch: readonly { data: Uint8Array; from: Endpoint }[]) => void) | undefined;
  #closed = false;

  constructor(
    private readonly fabric: Fabric,
    readonly hostIp: string,
    readonly local: Endpoint,
  ) {}

  send(datagrams: readonly (readonly Uint8Array[])[], to: Endpoint): void {
    if (!this.#closed) this.fabric.sendDatagrams(this, datagrams, to);
  }

  onReceive(handler: (batch: readonly { data: Uint8Array; from: Endpoint }[]) => void): void {
    this.#handler = handler;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.fabric.unbind(this);
    }
    return Promise.resolve();
  }

  accepts(dialled: string): boolean {
    return ANY.has(this.local.host) || this.local.host === dialled || LOOPBACK.has(dialled);
  }

  /** Hands a batch to the receiver; false when there is none (the datagrams are lost). */
  deliver(batch: { data: Uint8Array; from: Endpoint }[]): boolean {
    if (this.#closed || !this.#handler) return false;
    this.#handler(batch);
    return true;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
