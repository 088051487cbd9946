import { concatBytes } from '../bytes.js';
import type { Random } from '../random.js';
import type { DatagramSocket, Endpoint, StreamConnection, StreamListener } from '../transport.js';
import { SeededRandom } from './seeded-random.js';
import { SimDatagramSocket } from './sim-datagram.js';
import type { SimNetworkOptions, SimNetworkStats } from './sim-network.js';
import { SimStreamConnection } from './sim-stream.js';
import type { VirtualClock } from './virtual-clock.js';

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
export function sysError(syscall: string, code: string, at?: Endpoint): Error {
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

export const ANY = new Set(['', '0.0.0.0', '::']);
export const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

/** A simulated host: its listeners, bound datagram sockets and open connections. */
export class Host {
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

/** The network's state and rules, shared by the façade, the connections and the sockets. */
export class Fabric {
  readonly latency: number;
  readonly mss: number;
  readonly #dialTimeout: number;
  readonly #brokenTimeout: number;
  readonly #maxDatagram: number;
  readonly #loss: number;
  readonly #random: Random;
  readonly hosts = new Map<string, Host>();
  readonly partitions: { a: ReadonlySet<string>; b: ReadonlySet<string> }[] = [];
  /** One-way cuts, as `from>to`: packets from `from` to `to` are lost (the other way they flow). */
  readonly blocked = new Set<string>();
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

  /** Whether packets flow both ways (what a stream or a dial needs). */
  reachable(a: string, b: string): boolean {
    return this.canSend(a, b) && this.canSend(b, a);
  }

  /** Whether packets from `from` reach `to` (what a datagram needs). */
  canSend(from: string, to: string): boolean {
    if (from === to) return true;
    if (this.blocked.size > 0 && this.blocked.has(`${from}>${to}`)) return false;
    for (const { a: ga, b: gb } of this.partitions) {
      if ((ga.has(from) && gb.has(to)) || (ga.has(to) && gb.has(from))) return false;
    }
    return true;
  }

  partition(a: readonly string[], b: readonly string[]): void {
    this.partitions.push({ a: new Set(a), b: new Set(b) });
    this.breakLinks();
  }

  /** Loses every packet from a host in `from` to a host in `to`; streams between them break. */
  block(from: readonly string[], to: readonly string[]): void {
    for (const f of from) for (const t of to) if (f !== t) this.blocked.add(`${f}>${t}`);
    this.breakLinks();
  }

  /** Breaks every stream whose ends can no longer exchange packets both ways. */
  breakLinks(): void {
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
      const data = concatBytes(parts);
      const lost = this.#loss > 0 && this.#random.float() < this.#loss;
      if (data.length > this.#maxDatagram || lost) this.stats.droppedDatagrams++;
      else items.push({ data, from: source });
    }
    if (items.length === 0) return;
    this.schedule(this.latency, () => {
      const socket = this.hosts.get(dstIp)?.sockets.get(to.port);
      const ok = socket !== undefined && this.canSend(srcIp, dstIp) && socket.accepts(to.host);
      if (ok && socket.deliver(items)) this.stats.datagrams += items.length;
      else this.stats.droppedDatagrams += items.length;
    });
  }
}

/** A stream between two hosts: its two ends and whether a partition broke it. */
export class Link {
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
