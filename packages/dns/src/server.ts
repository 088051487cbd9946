import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import { type Clock, type Random, systemClock, systemRandom, WeaveError } from '@weave-ts/core';
import { Forwarder } from './forwarder.js';
import type { Nameserver } from './nameserver.js';
import { type HandlerResult, QueryHandler } from './query-handler.js';
import { ResolvConfUpstream, type UpstreamSource } from './upstream.js';

/** The default answer TTL in seconds (`--dns-ttl`). */
export const DEFAULT_TTL = 1;
/** The default upstream timeout (`--dns-fallback-timeout`). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 5000;
/** A TCP client silent this long is disconnected. */
const TCP_IDLE_MS = 10_000;
/** TCP clients served at once. */
const MAX_TCP_CONNECTIONS = 256;
/** Attempts at binding UDP and TCP to one ephemeral port. */
const BIND_ATTEMPTS = 20;

/**
 * Resolves IP literals synchronously. Replies go to `rinfo.address`, always a literal, and the default
 * lookup costs a `dns.lookup` call and an extra tick for every datagram sent.
 */
function literalLookup(
  hostname: string,
  options: dns.LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = net.isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, options, callback);
}

/** The server is already running, or was asked to start twice. */
export class DnsServerStateError extends WeaveError {
  override name = 'DnsServerStateError';
}

/** How a {@link DnsServer} is built. */
export interface DnsServerOptions {
  /** The records to answer from; its domain is the server's domain. */
  nameserver: Nameserver;
  /** Listen address; default `0.0.0.0`. */
  host?: string;
  /** Listen port for both UDP and TCP; default 53. 0 picks one free port for both. */
  port?: number;
  /** Answer TTL in seconds; default 1. */
  ttl?: number;
  /** Where upstream servers come from; default the resolv.conf at {@link resolvConf}. */
  upstream?: UpstreamSource;
  /** resolv.conf path when no `upstream` is given; default `/etc/resolv.conf`. */
  resolvConf?: string;
  /** The port upstream servers listen on; default 53. */
  upstreamPort?: number;
  /** How long to wait for each upstream server; default 5 s. */
  upstreamTimeoutMs?: number;
  /** Forwarded queries in flight at once before new ones get SERVFAIL; default 1024. */
  maxForwards?: number;
  /** Whether to answer single-question A lookups without dns-packet; default true. */
  fastPath?: boolean;
  clock?: Clock;
  random?: Random;
}

/** Where a started server listens. */
export interface DnsServerAddress {
  host: string;
  udpPort: number;
  tcpPort: number;
}

/**
 * weaveDNS's server: UDP and TCP on the same address. UDP replies are limited to 512 bytes or the
 * client's EDNS0 size (see {@link QueryHandler}); TCP carries any number of length-prefixed queries
 * per connection, unlimited in size. Malformed input is answered with FORMERR or dropped; it never
 * stops the server.
 */
export class DnsServer {
  /** The upstream servers in use (for status). */
  readonly upstream: UpstreamSource;
  /** The answer TTL. */
  readonly ttl: number;
  readonly #host: string;
  readonly #port: number;
  readonly #handler: QueryHandler;
  readonly #forwarder: Forwarder;
  readonly #nameserver: Nameserver;
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  readonly #conns = new Set<net.Socket>();
  #address: DnsServerAddress | undefined;

  constructor(options: DnsServerOptions) {
    const clock = options.clock ?? systemClock;
    this.#nameserver = options.nameserver;
    this.#host = options.host ?? '0.0.0.0';
    this.#port = options.port ?? 53;
    this.ttl = options.ttl ?? DEFAULT_TTL;
    const upstreamPort = options.upstreamPort ?? 53;
    // Never forward to ourselves: leave our own IP out when upstreams share our port (as upstream).
    const selfAddress = upstreamPort === this.#port && this.#host !== '0.0.0.0' ? this.#host : undefined;
    this.upstream =
      options.upstream ??
      new ResolvConfUpstream({ path: options.resolvConf, filterAddress: selfAddress, clock });
    this.#forwarder = new Forwarder(clock);
    this.#handler = new QueryHandler({
      names: options.nameserver,
      ttl: this.ttl,
      upstream: this.upstream,
      upstreamPort,
      upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
      forwarder: this.#forwarder,
      random: options.random ?? systemRandom,
      fastPath: options.fastPath ?? true,
      maxForwards: options.maxForwards ?? 1024,
    });
  }

  /** The domain served. */
  get domain(): string {
    return this.#nameserver.domain;
  }

  /** Binds both sockets and starts answering. @throws DnsServerStateError if already started */
  async start(): Promise<DnsServerAddress> {
    if (this.#udp) throw new DnsServerStateError('DNS server already started');
    let lastError: unknown;
    for (let attempt = 0; attempt < (this.#port === 0 ? BIND_ATTEMPTS : 1); attempt++) {
      const udp = await this.#bindUdp(this.#port);
      const port = udp.address().port;
      try {
        const tcp = await this.#bindTcp(port);
        this.#udp = udp;
        this.#tcp = tcp;
        this.#address = { host: this.#host, udpPort: port, tcpPort: (tcp.address() as net.AddressInfo).port };
        return this.#address;
      } catch (err) {
        lastError = err;
        udp.close();
      }
    }
    throw lastError;
  }

  /** `host:port` as configured, with the bound port once started (the status `Address`). */
  get listenAddress(): string {
    const port = this.#address?.udpPort ?? this.#port;
    return net.isIPv6(this.#host) ? `[${this.#host}]:${port}` : `${this.#host}:${port}`;
  }

  /** Where the server listens, once started. */
  address(): DnsServerAddress | undefined {
    return this.#address;
  }

  /** Closes both sockets and every TCP connection, and cancels forwarded queries. */
  async stop(): Promise<void> {
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    this.#address = undefined;
    this.#forwarder.close();
    for (const conn of this.#conns) conn.destroy();
    this.#conns.clear();
    await Promise.all([
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
      tcp && new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  }

  #bindUdp(port: number): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket({
        type: net.isIPv6(this.#host) ? 'udp6' : 'udp4',
        lookup: literalLookup,
      });
      sock.once('error', reject);
      sock.bind(port, this.#host, () => {
        sock.off('error', reject);
        sock.on('error', () => {}); // per-packet send errors (e.g. ICMP) must not stop the server
        sock.on('message', (msg, rinfo) => {
          this.#reply(this.#handler.handle(msg, false), (out) => {
            if (this.#udp === sock) sock.send(out, rinfo.port, rinfo.address);
          });
        });
        resolve(sock);
      });
    });
  }

  #bindTcp(port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((conn) => this.#serveConnection(conn));
      server.maxConnections = MAX_TCP_CONNECTIONS;
      server.once('error', reject);
      server.listen({ port, host: this.#host, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => {});
        resolve(server);
      });
    });
  }

  #serveConnection(conn: net.Socket): void {
    this.#conns.add(conn);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on('error', () => {});
    conn.on('close', () => this.#conns.delete(conn));
    let pending: Buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const n = pending.readUInt16BE(0);
        if (pending.length < n + 2) break;
        const req = Buffer.from(pending.subarray(2, n + 2));
        pending = pending.subarray(n + 2);
        this.#reply(this.#handler.handle(req, true), (out) => {
          if (conn.destroyed || !conn.writable) return;
          const len = Buffer.allocUnsafe(2);
          len.writeUInt16BE(out.length, 0);
          conn.write(Buffer.concat([len, out]));
        });
      }
    });
  }

  #reply(result: HandlerResult, send: (out: Buffer) => void): void {
    if (result === undefined) return;
    if (Buffer.isBuffer(result)) {
      send(result);
      return;
    }
    result.then((out) => out && send(out)).catch(() => {});
  }
}
