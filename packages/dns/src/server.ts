import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import * as os from 'node:os';
import { type Clock, type Random, systemClock, systemRandom, WeaveError } from '@weave-ts/core';
import { Forwarder } from './forwarder.js';
import type { Nameserver } from './nameserver.js';
import { type HandlerResult, QueryHandler } from './query-handler.js';
import { TcpMessageReader } from './tcp-message-reader.js';
import { ResolvConfUpstream, type UpstreamSource } from './upstream.js';

/** The default answer TTL in seconds (`--dns-ttl`). */
export const DEFAULT_TTL = 1;
/** The default upstream timeout (`--dns-fallback-timeout`). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 5000;
/** A TCP client silent this long is disconnected (also one that stopped reading: the server then stops too). */
const TCP_IDLE_MS = 10_000;
/**
 * Reply bytes queued for one TCP client above which the server stops reading its queries until the
 * client reads (the socket drains). Pipelining clients that read are never slowed below this window.
 */
export const DNS_TCP_PAUSE_BYTES = 64 * 1024;
/**
 * Most reply bytes queued for one TCP client: a connection that would exceed it is closed. With
 * reading paused at {@link DNS_TCP_PAUSE_BYTES} this is reached only if one batch of replies is huge.
 */
export const DNS_TCP_MAX_BUFFERED_BYTES = 256 * 1024;
/** Forwarded (upstream) queries of one TCP client in flight at once; reading pauses at this many. */
export const DNS_TCP_MAX_IN_FLIGHT = 32;
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
  /** The error's stable name: `'DnsServerStateError'`. */
  override name = 'DnsServerStateError';
}

/** How a {@link DnsServer} is built. */
export interface DnsServerOptions {
  /** The records to answer from; its domain is the server's domain. */
  nameserver: Nameserver;
  /**
   * Listen address; default `127.0.0.1` (an embedder's private resolver). Weave listens on the
   * weave bridge or docker bridge address and passes it here; `0.0.0.0` listens everywhere.
   */
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
  /**
   * CIDRs (IPv4 or IPv6) of the clients whose queries outside the domain are forwarded upstream;
   * others get REFUSED for those (names in the domain are answered for everyone). Default: loopback
   * plus the subnet of the interface holding the listen address (every local subnet when listening on
   * a wildcard address), see {@link defaultRecursionNetworks}. `['0.0.0.0/0', '::/0']` allows anyone.
   */
  recursionFrom?: readonly string[];
  /** The host's interfaces, for the default {@link recursionFrom}; default `os.networkInterfaces`. */
  networkInterfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** Times upstream queries out (default: the system clock). */
  clock?: Clock;
  /** Picks upstream query ids (default: the system's randomness). */
  random?: Random;
}

/** Where a started server listens. */
export interface DnsServerAddress {
  /** The address bound. */
  host: string;
  /** The UDP port bound (the real one when 0 was asked for). */
  udpPort: number;
  /** The TCP port bound (the real one when 0 was asked for). */
  tcpPort: number;
}

/** Loopback networks, always allowed recursion by default. */
const LOOPBACK_NETWORKS = ['127.0.0.0/8', '::1/128'];

/** `addr/prefix` → [address, prefix, family]; @throws TypeError when it is not a CIDR. */
function parseCidr(cidr: string): [string, number, 'ipv4' | 'ipv6'] {
  const slash = cidr.lastIndexOf('/');
  const addr = slash < 0 ? cidr : cidr.slice(0, slash);
  const family = net.isIP(addr);
  const max = family === 4 ? 32 : 128;
  const prefix = slash < 0 ? max : Number(cidr.slice(slash + 1));
  if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max || cidr.slice(slash + 1) === '')
    throw new TypeError(`invalid CIDR for recursionFrom: ${cidr}`);
  return [addr, prefix, family === 4 ? 'ipv4' : 'ipv6'];
}

/**
 * The networks a server listening on `host` forwards queries for by default: loopback, plus the
 * subnet (CIDR) of each interface address equal to `host`, or of every interface when `host` is a
 * wildcard (`0.0.0.0`, `::`).
 */
export function defaultRecursionNetworks(
  host: string,
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>,
): string[] {
  const wildcard = host === '0.0.0.0' || host === '::';
  const out = new Set(LOOPBACK_NETWORKS);
  for (const addrs of Object.values(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.cidr !== null && (wildcard || a.address === host)) out.add(a.cidr);
    }
  }
  return [...out];
}

/** A client address as the networks are matched: IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as IPv4. */
function clientAddress(address: string): [string, 'ipv4' | 'ipv6'] {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return [mapped[1]!, 'ipv4'];
  return [address, net.isIPv6(address) ? 'ipv6' : 'ipv4'];
}

/**
 * weaveDNS's server: UDP and TCP on the same address. UDP replies are limited to 512 bytes or the
 * client's EDNS0 size (see `QueryHandler`); TCP carries any number of length-prefixed queries
 * per connection, unlimited in size, answered while the client reads its replies: the server stops
 * reading a client whose replies back up past {@link DNS_TCP_PAUSE_BYTES} and closes it when idle.
 * Malformed input is answered with FORMERR or dropped; it never stops the server.
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
  readonly #recursion = new net.BlockList();
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  readonly #conns = new Set<net.Socket>();
  #address: DnsServerAddress | undefined;

  constructor(options: DnsServerOptions) {
    const clock = options.clock ?? systemClock;
    this.#nameserver = options.nameserver;
    this.#host = options.host ?? '127.0.0.1';
    const networks =
      options.recursionFrom ??
      defaultRecursionNetworks(this.#host, (options.networkInterfaces ?? os.networkInterfaces)());
    for (const cidr of networks) this.#recursion.addSubnet(...parseCidr(cidr));
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

  /** Whether queries from `address` may be forwarded upstream (see {@link DnsServerOptions.recursionFrom}). */
  recursionAllowed(address: string): boolean {
    const [addr, family] = clientAddress(address);
    return net.isIP(addr) !== 0 && this.#recursion.check(addr, family);
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

  /** Reply bytes queued for TCP clients, over all connections (bounded per connection; see {@link DNS_TCP_PAUSE_BYTES}). */
  tcpBufferedBytes(): number {
    let n = 0;
    for (const conn of this.#conns) n += conn.writableLength;
    return n;
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
          this.#reply(this.#handler.handle(msg, false, this.recursionAllowed(rinfo.address)), (out) => {
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
    const reader = new TcpMessageReader();
    const recursion = this.recursionAllowed(conn.remoteAddress ?? '');
    let inFlight = 0;
    const send = (out: Buffer): void => {
      if (conn.destroyed || !conn.writable) return;
      if (conn.writableLength + out.length + 2 > DNS_TCP_MAX_BUFFERED_BYTES) {
        conn.destroy();
        return;
      }
      const framed = Buffer.allocUnsafe(out.length + 2);
      framed.writeUInt16BE(out.length, 0);
      out.copy(framed, 2);
      conn.write(framed);
    };
    // Answers what has arrived while the client keeps up; otherwise stops reading until it does.
    const pump = (): void => {
      if (conn.destroyed) return;
      while (conn.writableLength < DNS_TCP_PAUSE_BYTES && inFlight < DNS_TCP_MAX_IN_FLIGHT) {
        const req = reader.next();
        if (req === undefined) break;
        const result = this.#handler.handle(req, true, recursion);
        if (result === undefined) continue;
        if (Buffer.isBuffer(result)) {
          send(result);
          continue;
        }
        inFlight++;
        result
          .then((out) => out && send(out))
          .catch(() => {})
          .finally(() => {
            inFlight--;
            pump();
          });
      }
      const blocked = conn.writableLength >= DNS_TCP_PAUSE_BYTES || inFlight >= DNS_TCP_MAX_IN_FLIGHT;
      if (blocked) conn.pause();
      else if (conn.isPaused()) conn.resume();
    };
    conn.on('drain', pump);
    conn.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      // At most one message (≤ 64 KiB + 2) waits for its bytes, plus what arrived while pausing.
      if (reader.buffered > DNS_TCP_MAX_BUFFERED_BYTES) {
        conn.destroy();
        return;
      }
      pump();
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
