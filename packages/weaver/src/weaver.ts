import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { dirname } from 'node:path';
import { ExposeRules, exposeAddress, hideAddress, IptablesFlushMonitor, listAddresses } from '@weave-ts/host';
import { createPeer, type WeavePeer } from '@weave-ts/peer';
import type { ExposeApi } from './api-backend.js';
import { createHttpApi, type HttpApi } from './http-api.js';
import { createDaemonLogger, type DaemonLogger } from './log.js';
import { createWeaveMetrics, type WeaveMetrics } from './metrics.js';
import { createPeerBackend, type PeerBackend, type ServiceStatus } from './peer-backend.js';
import { formatOptionsMap, WEAVER_VERSION, type WeaverConfig } from './weaver-config.js';

/**
 * The weaver daemon: a `WeavePeer` plus Weave's HTTP API on `--http-addr`, status and metrics on
 * `--status-addr` (and `--metrics-addr`), expose/hide with iptables and the flush monitor, and
 * seams for other services (the Docker plugin/proxy/events): {@link Weaver.use} runs a
 * {@link WeaverService} at start and stop; a service adds routes ({@link Weaver.controlApi}),
 * a status block and report field ({@link Weaver.addService}), readiness gates and stop hooks.
 */

/** Something that runs inside the daemon (e.g. the Docker plugin). */
export interface WeaverService {
  /** For logs. */
  readonly name: string;
  /** Called once the peer runs and the HTTP servers listen. */
  start(weaver: Weaver): Promise<void> | void;
  /** Called before the peer stops. */
  stop?(): Promise<void> | void;
}

/** Iptables chain names of expose/hide. */
export interface WeaverChains {
  /** nat chain, default `WEAVE`. */
  nat?: string;
  /** filter chain, default `WEAVE-EXPOSE`. */
  filter?: string;
  /** canary chain, default `WEAVE-CANARY`. */
  canary?: string;
}

/** Options beyond the command line. */
export interface WeaverOptions {
  /** Where log lines go; default stderr at `--log-level`. */
  logger?: DaemonLogger;
  /** Iptables chain names (tests use their own); default WEAVE / WEAVE-EXPOSE / WEAVE-CANARY. */
  chains?: WeaverChains;
  /** Flush-monitor interval, default 10 s. */
  flushCheckIntervalMs?: number;
  /** Called after `DELETE /peer` finished (the bin exits 0). */
  onReset?: () => void;
}

/** A bound listener: its address as text (`127.0.0.1:6784`, or the socket path). */
export interface BoundServer {
  /** The node:http server. */
  readonly server: Server;
  /** `host:port` it bound, or the socket path. */
  readonly address: string;
}

/** A unix-socket listen address. */
export interface SocketAddress {
  /** The socket's path. */
  path: string;
}

/** A TCP listen address. */
export interface TcpAddress {
  /** '' = every address. */
  host: string;
  /** The port (0 = any free one). */
  port: number;
}

/** A TCP or unix-socket listen address. */
export type ListenAddress = SocketAddress | TcpAddress;

/** Parses `host:port`, `[v6]:port`, `:port` or an absolute unix-socket path. */
export function parseListenAddress(addr: string): ListenAddress {
  if (addr.startsWith('/')) return { path: addr };
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m || Number(m[3]) > 65535) throw new Error(`address ${addr}: missing port in address`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

async function listen(addr: string, handler: RequestListener): Promise<BoundServer> {
  const target = parseListenAddress(addr);
  const server = createServer(handler);
  server.keepAliveTimeout = 5_000;
  if ('path' in target) rmSync(target.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in target) server.listen(target.path, resolve);
    else server.listen(target.port, target.host === '' ? undefined : target.host, resolve);
  });
  server.on('error', () => {});
  const a = server.address();
  const address =
    typeof a === 'string' || a === null
      ? addr
      : a.family === 'IPv6'
        ? `[${a.address}]:${a.port}`
        : `${a.address}:${a.port}`;
  return { server, address };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Go's `listen tcp 127.0.0.1:6784: bind: address already in use` for a failed bind. */
function listenErrorText(addr: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const why =
    e.code === 'EADDRINUSE'
      ? 'bind: address already in use'
      : e.code === 'EACCES'
        ? 'bind: permission denied'
        : e.code === 'EADDRNOTAVAIL'
          ? 'bind: cannot assign requested address'
          : e.message;
  return `listen ${addr.startsWith('/') ? 'unix' : 'tcp'} ${addr}: ${why}`;
}

/** Addresses the daemon's HTTP servers bound, by role. */
export interface BoundAddresses {
  /** `--http-addr`. */
  http?: string;
  /** `--status-addr`. */
  status?: string;
  /** `--metrics-addr`. */
  metrics?: string;
}

/** The daemon. */
export class Weaver {
  /** The daemon's logger (also given to the peer). */
  readonly logger: DaemonLogger;
  /** The peer (router, IPAM, weaveDNS, datapath). */
  readonly peer: WeavePeer;
  /** The `/metrics` registry. */
  readonly metrics: WeaveMetrics;
  /** The full API (`--http-addr`); services add routes or mount prefixes here. */
  readonly controlApi: HttpApi;
  /** The read-only API (`--status-addr`). */
  readonly statusApi: HttpApi;
  private readonly backend: PeerBackend;
  private readonly services: WeaverService[] = [];
  private readonly stopHooks: (() => Promise<void> | void)[] = [];
  private readonly servers: BoundServer[] = [];
  private exposeRules: ExposeRules | undefined;
  private flushMonitor: IptablesFlushMonitor | undefined;
  private exposeSetup: Promise<unknown> | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  /** Addresses the HTTP servers bound (after start), by role. */
  readonly bound: BoundAddresses = {};

  constructor(
    /** The parsed command line. */
    readonly config: WeaverConfig,
    private readonly options: WeaverOptions = {},
  ) {
    this.logger = options.logger ?? createDaemonLogger({ level: config.logLevel });
    const dataDir = config.peer.dataDir;
    if (dataDir !== undefined) mkdirSync(dirname(dataDir), { recursive: true });
    this.peer = createPeer({ ...config.peer, logger: this.logger });
    const peer = this.peer;
    this.metrics = createWeaveMetrics({
      report: () => this.backend.report(),
      ipam: config.peer.ipam !== false,
      dns: config.peer.dns !== false,
      flows: () => peer.datapath.flowCount(),
    });
    const exposer: ExposeApi = {
      expose: async (cidr, { skipNAT }) => {
        const rules = await this.requireExposeRules();
        await exposeAddress(rules, cidr, { skipNAT });
        this.logger.info(`Bridge ${JSON.stringify(rules.bridge)} exposed on address ${cidr}`);
      },
      hide: async (cidr) => {
        const rules = await this.requireExposeRules();
        await hideAddress(rules, cidr);
        this.logger.info(`Bridge ${JSON.stringify(rules.bridge)} hid address ${cidr}`);
      },
    };
    this.backend = createPeerBackend({
      peer,
      metrics: this.metrics,
      exposer,
      ipam: config.peer.ipam !== false,
      dns: config.peer.dns !== false,
      onReset: () => void this.afterReset(),
    });
    const onRequest = (req: { method: string; url: string }, res: { status: number }) =>
      this.logger.debug(`${req.method} ${req.url} ${res.status}`);
    const onError = (err: unknown, req: { method: string; url: string }) =>
      this.logger.error(`${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
    this.controlApi = createHttpApi(this.backend, { role: 'control', onRequest, onError });
    this.statusApi = createHttpApi(this.backend, { role: 'status', onRequest, onError });
  }

  /** Registers a service (before {@link start}). */
  use(service: WeaverService): this {
    this.services.push(service);
    return this;
  }

  /** Adds a block to `weave status` and a field to `/report` (e.g. `Service: plugin (v2)`). */
  addService(status: ServiceStatus): void {
    this.backend.addService(status);
  }

  /** `/status` answers 503 until `gate` resolves. */
  addReadinessGate(gate: Promise<unknown>): void {
    this.backend.addReadinessGate(gate);
  }

  /** Runs `hook` when the daemon stops, before the peer stops. */
  onStop(hook: () => Promise<void> | void): void {
    this.stopHooks.push(hook);
  }

  /** `GET /proxyaddrs`. */
  setProxyAddresses(addrs: string[]): void {
    this.backend.setProxyAddresses(addrs);
  }

  /** How `check-alive=true` requests learn whether a container runs (the Docker service sets this). */
  setContainerLiveness(isRunning: ((containerId: string) => boolean | Promise<boolean>) | undefined): void {
    this.backend.setContainerLiveness(isRunning);
  }

  /** Whether `/status` says ready. */
  get ready(): boolean {
    return this.backend.isReady();
  }

  private async requireExposeRules(): Promise<ExposeRules> {
    if (this.exposeRules) return this.exposeRules;
    const bridge = this.peer.datapath.bridge;
    if (bridge === undefined) throw new Error(`no bridge: the ${this.peer.datapath.kind} datapath has none`);
    // iptables failed at start (e.g. not installed then): try again, and say why if it still fails.
    this.exposeSetup ??= this.startExposeRules(bridge).finally(() => {
      this.exposeSetup = undefined;
    });
    const err = await this.exposeSetup;
    if (err !== undefined || !this.exposeRules)
      throw new Error(`iptables: ${(err as Error | undefined)?.message}`);
    return this.exposeRules;
  }

  /** Starts the peer, the HTTP servers, the iptables flush monitor and the services. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`weaver already ${this.state}`);
    this.state = 'starting';
    const { config, logger } = this;
    logger.info(`Command line options: ${formatOptionsMap(config.given)}`);
    logger.info(`weave  ${WEAVER_VERSION}`);
    logger.info(
      config.peer.password === undefined
        ? 'Communication between peers is unencrypted.'
        : 'Communication between peers via untrusted networks is encrypted.',
    );
    try {
      await this.peer.start();
    } catch (err) {
      this.state = 'stopped';
      throw err;
    }
    logger.info(`Our name is ${this.peer.name}(${this.peer.nickname})`);
    logger.info(`Datapath is ${this.peer.datapath.kind}`);
    const dnsAddr = config.peer.dns === false ? undefined : this.peer.dns.address();
    if (dnsAddr) logger.info(`Listening for DNS queries on ${dnsAddr.host}:${dnsAddr.port}`);

    // iptables before the listeners: the first POST /expose may come right after they listen.
    const bridge = this.peer.datapath.bridge;
    if (bridge !== undefined) await this.startExposeRules(bridge);

    try {
      if (config.httpAddr !== '') {
        const s = await this.bind(config.httpAddr, this.controlApi);
        this.bound.http = s.address;
        logger.info(`Listening for HTTP control messages on ${s.address}`);
      }
      if (config.statusAddr !== '') {
        const s = await this.bind(config.statusAddr, this.statusApi);
        this.bound.status = s.address;
        logger.info(`Listening for status+metrics requests on ${s.address}`);
      }
      if (config.metricsAddr !== '') {
        const s = await this.bind(config.metricsAddr, this.statusApi, true);
        this.bound.metrics = s.address;
        logger.info(`Listening for metrics requests on ${s.address}`);
      }
    } catch (err) {
      await this.stopEverything();
      throw err;
    }

    this.backend.setStarted(true);
    this.state = 'running';
    for (const service of this.services) {
      try {
        await service.start(this);
        logger.info(`Service ${service.name} started`);
      } catch (err) {
        logger.error(`Service ${service.name} failed to start: ${(err as Error).message}`);
        await this.stop();
        throw err;
      }
    }
  }

  private async bind(addr: string, api: HttpApi, metricsOnly = false): Promise<BoundServer> {
    const listener = api.listener;
    const handler: RequestListener = metricsOnly
      ? (req, res) => {
          if ((req.url ?? '').split('?')[0] === '/metrics') listener(req, res);
          else
            res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
        }
      : listener;
    let bound: BoundServer;
    try {
      bound = await listen(addr, handler);
    } catch (err) {
      throw new Error(`Unable to create http listener socket: ${listenErrorText(addr, err)}`);
    }
    this.servers.push(bound);
    return bound;
  }

  private async startExposeRules(bridge: string): Promise<unknown> {
    const chains = this.options.chains ?? {};
    const rules = new ExposeRules({
      bridge,
      ...(chains.nat ? { natChain: chains.nat } : {}),
      ...(chains.filter ? { filterChain: chains.filter } : {}),
      ...(chains.canary ? { canaryChain: chains.canary } : {}),
    });
    try {
      await rules.ensureChains();
    } catch (err) {
      this.logger.error(`Error configuring iptables: ${(err as Error).message}`);
      return err;
    }
    this.exposeRules = rules;
    this.flushMonitor = new IptablesFlushMonitor(rules, {
      ...(this.options.flushCheckIntervalMs ? { intervalMs: this.options.flushCheckIntervalMs } : {}),
      onFlush: async () => {
        this.logger.info('Re-configuring iptables');
        await this.reexpose();
      },
      onError: (err) => this.logger.error(`Error configuring iptables: ${(err as Error).message}`),
    });
    return undefined;
  }

  /** Re-applies the expose rules of every address on the bridge (after an iptables flush). */
  async reexpose(): Promise<void> {
    const rules = this.exposeRules;
    if (!rules) return;
    for (const cidr of await listAddresses(rules.bridge)) {
      if (!cidr.includes(':')) await rules.expose(cidr);
    }
  }

  private async stopEverything(): Promise<void> {
    await this.flushMonitor?.stop();
    this.flushMonitor = undefined;
    for (const s of this.servers.splice(0)) await closeServer(s.server);
    await this.peer.stop();
  }

  /** Stops services, HTTP servers and the peer. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.backend.setStarted(false);
    for (const service of [...this.services].reverse()) {
      try {
        await service.stop?.();
      } catch (err) {
        this.logger.error(`Service ${service.name} failed to stop: ${(err as Error).message}`);
      }
    }
    for (const hook of this.stopHooks) {
      try {
        await hook();
      } catch (err) {
        this.logger.error(`Stop hook failed: ${(err as Error).message}`);
      }
    }
    await this.stopEverything();
    this.state = 'stopped';
  }

  private async afterReset(): Promise<void> {
    this.logger.info('Peer reset: IP ranges handed over, persisted data deleted');
    // Let the 204 reach the client before the listeners close.
    await new Promise((r) => setTimeout(r, 50));
    try {
      await this.exposeRules?.teardown();
    } catch (err) {
      this.logger.error(`Error removing iptables chains: ${(err as Error).message}`);
    }
    await this.stop();
    this.options.onReset?.();
  }
}
