import { readFileSync } from 'node:fs';
import { networkInterfaces, hostname as osHostname } from 'node:os';
import {
  type Clock,
  formatConnections,
  formatPeers,
  formatStatus,
  formatTargets,
  type Logger,
  type PeerName,
  parsePeerName,
  peerNameFromBytes,
  type Random,
  Router,
  type RouterEvents,
  routerSection,
  type StatusSection,
  type StreamTransport,
  silentLogger,
  systemClock,
  systemRandom,
} from '@weave-ts/core';
import {
  DnsServer,
  type DnsStatus,
  type Entry,
  dnsStatus,
  dnsStatusSection,
  formatDnsStatus,
  formatIPv4,
  Nameserver,
  ResolvConfUpstream,
} from '@weave-ts/dns';
import { type Allocator, createRouterAllocator, formatCIDR, parseCIDR } from '@weave-ts/ipam';
import { isIPv4 } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { openDatapath, type SelectedDatapath } from './datapath-select.js';
import { peerRecursionNetworks } from './dns-recursion.js';
import { pickKernelPort, removeBridge } from './kernel-datapath.js';
import {
  AddressInUseError,
  AddressNotAvailableError,
  ConvergenceTimeoutError,
  DnsNameOutsideDomainError,
  FeatureDisabledError,
  HostNotFoundError,
  InvalidAddressError,
  InvalidContainerIdError,
  PeerError,
  PeerNotStartedError,
  PeerStoppedError,
  PermissionDeniedError,
} from './peer-errors.js';
import type { DnsEntryEvent, PeerEvents } from './peer-events.js';
import type { PeerOptions } from './peer-options.js';
import type { PeerReport, StatusTextSection } from './peer-report.js';
import { routerReport, jsonSafe } from './peer-status.js';
import { type OwnDnsRecord, PeerStore } from './peer-store.js';
import {
  checkPeerAddress,
  type ResolvedDns,
  type ResolvedOptions,
  resolveOptions,
} from './validate-options.js';

/** Lifecycle of a {@link WeavePeer}. */
export type PeerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Options of {@link WeavePeer.allocate}. */
export interface PeerAllocateOptions {
  /** Subnet to allocate in (`'10.32.1.0/24'`); default the default subnet. */
  readonly subnet?: string;
  /**
   * Upstream's `?check-alive=true`: the caller vouches the container is running. The peer has no
   * container runtime, so it is accepted and not checked here (the daemon checks it).
   */
  readonly checkAlive?: boolean;
  /** Cancels the request while it waits. */
  readonly signal?: AbortSignal;
}

/** Options of {@link WeavePeer.claim}. */
export interface PeerClaimOptions {
  /** Succeed at once if the owner of the address is not known yet (keep trying in the background). */
  readonly noErrorOnUnknown?: boolean;
  /** Cancels the claim while it waits. */
  readonly signal?: AbortSignal;
}

/** Options of {@link WeavePeer.whenConverged}. */
export interface ConvergeOptions {
  /** Peers the topology must hold (us included). */
  readonly peers: number;
  /** Give up after this long (default 30 s, on the peer's clock). */
  readonly timeoutMs?: number;
}

/** The datapath a peer runs, as `peer.datapath` shows it. */
export interface PeerDatapathInfo {
  /** `fastdp`, `sleeve`, `memory`, `none` or an explicit backend's kind. */
  readonly kind: string;
  /** The bridge containers attach to, if any. */
  readonly bridge?: string;
  /** The MTU containers should use, if known. */
  readonly mtu?: number;
  /** The overlay's own diagnostics (JSON-safe). */
  diagnostics(): unknown;
  /** Installed fast-datapath flows (upstream's `weave_flows`); undefined without fastdp. */
  flowCount(): number | undefined;
}

/** One live DNS record, as `peer.dns.entries()` lists it. */
export interface PeerDnsEntry {
  /** Fully qualified name. */
  readonly hostname: string;
  /** Dotted IPv4 address. */
  readonly ip: string;
  /** The container the name belongs to. */
  readonly containerId: string;
  /** The peer that added it. */
  readonly origin: string;
}

/** Where a peer's DNS server listens (UDP and TCP on the same port). */
export interface DnsListenAddress {
  /** Listen address. */
  host: string;
  /** Port. */
  port: number;
}

/** weaveDNS operations of a peer (`peer.dns`). */
export interface PeerDns {
  /**
   * Adds a record for one of our containers. `fqdn` must be inside the peer's domain (`web.weave.local`
   * or `web.weave.local.`); anything else throws {@link DnsNameOutsideDomainError}.
   */
  add(containerId: string, ip: string, fqdn: string): void;
  /** Removes our records matching every given field (omitted = any); returns how many. */
  remove(containerId?: string, ip?: string, fqdn?: string): number;
  /** Live addresses of `name` (a name without the domain gets it appended). */
  lookup(name: string): string[];
  /** The name of `ip`, if any. */
  reverse(ip: string): string | undefined;
  /** Every live record. */
  entries(): PeerDnsEntry[];
  /** Where the DNS server listens, once started (undefined with `listen: false` or when not running). */
  address(): DnsListenAddress | undefined;
}

/** Everything one run (start → stop) of a peer owns. */
interface Run {
  readonly router: Router;
  readonly datapath: SelectedDatapath;
  readonly ipam?: Allocator;
  readonly nameserver?: Nameserver;
  readonly dnsServer?: DnsServer;
  readonly detach: (() => void)[];
  ipamReady: boolean;
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
  settled: boolean;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting: do not turn a rejection into an unhandled one.
  promise.catch(() => {});
  const d: Deferred = {
    promise,
    settled: false,
    resolve: () => {
      d.settled = true;
      resolve();
    },
    reject: (e) => {
      d.settled = true;
      reject(e);
    },
  };
  return d;
}

// Names generated in this process, so two peers never get the same one (even with equal seeds).
const generatedNames = new Set<string>();

function randomPeerName(random: Random): PeerName {
  for (;;) {
    const b = random.bytes(6);
    b[0] = ((b[0] ?? 0) & 0xfe) | 0x02; // unicast, locally administered
    const name = peerNameFromBytes(b);
    if (!generatedNames.has(name)) {
      generatedNames.add(name);
      return name;
    }
  }
}

function bridgeMac(bridge: string): PeerName | undefined {
  try {
    return parsePeerName(readFileSync(`/sys/class/net/${bridge}/address`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Upstream's version line value (no version check in an embedded peer). */
export const PEER_VERSION = 'weave-ts';

/** The typed error for a failed bind/listen. */
function listenError(what: string, address: string, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const opts = { cause: error };
  switch (code) {
    case 'EADDRINUSE':
      return new AddressInUseError(what, address, opts);
    case 'EADDRNOTAVAIL':
      return new AddressNotAvailableError(what, address, opts);
    case 'EACCES':
    case 'EPERM':
      return new PermissionDeniedError(`${what}: listen ${address}`, opts);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new HostNotFoundError(what, address.slice(0, address.lastIndexOf(':')), opts);
    default:
      return error instanceof Error ? error : new PeerError(String(error));
  }
}

function sameRecord(a: OwnDnsRecord, b: OwnDnsRecord): boolean {
  return (
    a.containerId === b.containerId && a.ip === b.ip && a.hostname.toLowerCase() === b.hostname.toLowerCase()
  );
}

/**
 * A whole Weave peer: router, IPAM, weaveDNS and datapath, built by {@link createPeer}.
 *
 * ```
 * createPeer(options)  validates everything, binds nothing
 *   start()   datapath ─▶ router (listen) ─▶ IPAM + nameserver on its gossip ─▶ DNS server ─▶ targets
 *   ready     IPAM has a ring (asks for one, like `weave prime`) and DNS serves
 *   stop()    DNS server ─▶ IPAM, nameserver ─▶ router (connections, listener) ─▶ datapath
 * ```
 *
 * Each `start()` builds a fresh router (a new UID, as a restarted weaver), allocator and nameserver
 * over the same persisted state, so a stopped peer can start again and keeps its address space.
 */
export class WeavePeer extends EventEmitter<PeerEvents> {
  readonly #o: ResolvedOptions;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: Logger;
  readonly #transport: StreamTransport | undefined;
  #store: PeerStore;
  readonly #name: PeerName;
  readonly #nickname: string;
  #state: PeerState = 'new';
  #run: Run | undefined;
  #lastRouter: Router | undefined;
  #boundPort: number;
  #targets: string[];
  #ownDns: OwnDnsRecord[];
  #ready: Deferred | undefined;
  #stopping: Promise<void> | undefined;
  #starting: Promise<void> | undefined;
  readonly #dns: PeerDns;

  /** Use {@link createPeer}. @throws InvalidPeerOptionError (a subclass per condition) */
  constructor(options: PeerOptions = {}) {
    super();
    this.#o = resolveOptions(options);
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? systemRandom;
    this.#logger = options.logger ?? silentLogger;
    this.#transport = options.transport;
    this.#store = new PeerStore(this.#o.dataDir);
    const kernel =
      this.#o.datapath === 'sleeve' || this.#o.datapath === 'fastdp' || this.#o.datapath === 'auto';
    const persisted = this.#store.name;
    this.#name =
      (this.#o.name as PeerName | undefined) ??
      (persisted !== undefined ? safePeerName(persisted) : undefined) ??
      (kernel ? bridgeMac(this.#o.bridge.name) : undefined) ??
      randomPeerName(this.#random);
    if (this.#o.dataDir !== undefined) this.#store.name = this.#name;
    this.#nickname = this.#o.nickname ?? osHostname();
    this.#boundPort = this.#o.port;
    const persistedTargets = this.#store.targets ?? [];
    this.#targets = [...new Set([...this.#o.peers, ...persistedTargets])];
    this.#ownDns = this.#store.dnsRecords;
    this.#dns = this.#makeDns();
  }

  /** Our peer name (MAC form). */
  get name(): string {
    return this.#name;
  }
  /** Our nickname. */
  get nickname(): string {
    return this.#nickname;
  }
  /** Lifecycle state. */
  get state(): PeerState {
    return this.#state;
  }
  /** The control port (the bound one once started with port 0). */
  get port(): number {
    return this.#boundPort;
  }

  /**
   * Resolves when IPAM has a ring (or is disabled) and DNS serves (or is disabled). Asking for it makes
   * IPAM form the ring now if none exists (as `weave prime`; with `init: 'consensus'` this starts the
   * election), after `start()` if the peer is not started yet. Rejects with {@link PeerStoppedError}
   * if the peer stops first.
   */
  get ready(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') {
      return Promise.reject(new PeerStoppedError('wait for ready'));
    }
    if (!this.#ready) {
      this.#ready = deferred();
      if (this.#state === 'running') this.#beginReady();
    }
    return this.#ready.promise;
  }

  /** The router (escape hatch; a new one after each `start()`). @throws PeerNotStartedError before the first start */
  get router(): Router {
    const router = this.#run?.router ?? this.#lastRouter;
    if (!router) throw new PeerNotStartedError('use the router');
    return router;
  }
  /** The IPAM allocator of the current run, unless `ipam: false` (undefined when not running). */
  get ipam(): Allocator | undefined {
    return this.#run?.ipam;
  }
  /** The nameserver of the current run, unless `dns: false` (undefined when not running). */
  get nameserver(): Nameserver | undefined {
    return this.#run?.nameserver;
  }
  /** The DNS server of the current run, unless `dns: false` or `dns.listen: false`. */
  get dnsServer(): DnsServer | undefined {
    return this.#run?.dnsServer;
  }
  /** The datapath in use (kind as configured until started). */
  get datapath(): PeerDatapathInfo {
    const run = this.#run;
    const configured = this.#o.datapath;
    const kind = run?.datapath.kind ?? (typeof configured === 'string' ? configured : configured.kind);
    return {
      kind,
      ...(run?.datapath.bridge !== undefined ? { bridge: run.datapath.bridge } : {}),
      ...(run?.datapath.mtu !== undefined ? { mtu: run.datapath.mtu } : {}),
      diagnostics: () => jsonSafe(run?.router.overlay.diagnostics()),
      flowCount: () => {
        // The kernel datapaths run an overlay switch, whose diagnostics are keyed by overlay name.
        const d = run?.router.overlay.diagnostics() as { fastdp?: { flows?: unknown } } | undefined;
        return typeof d?.fastdp?.flows === 'number' ? d.fastdp.flows : undefined;
      },
    };
  }
  /** weaveDNS operations. */
  get dns(): PeerDns {
    return this.#dns;
  }

  /**
   * Opens the datapath, listens, starts IPAM and weaveDNS and connects to the targets; resolves once
   * listening. Rejects with a typed error (e.g. {@link AddressInUseError}) and leaves nothing bound.
   */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    if (this.#starting) return this.#starting;
    this.#starting = this.#start();
    try {
      await this.#starting;
    } finally {
      this.#starting = undefined;
    }
  }

  async #start(): Promise<void> {
    if (this.#state === 'stopping') await this.#stopping?.catch(() => {});
    this.#state = 'starting';
    const cleanup: (() => Promise<void> | void)[] = [];
    try {
      await this.#startRun(cleanup);
    } catch (error) {
      for (const fn of cleanup.reverse()) {
        try {
          await fn();
        } catch {
          // keep releasing the rest
        }
      }
      this.#run = undefined;
      this.#state = this.#lastRouter ? 'stopped' : 'new';
      throw error;
    }
    this.#state = 'running';
    this.emit('started');
    // A ring loaded from dataDir (or kept over a restart) is ready at once.
    if (this.#run?.ipamReady) this.emit('ipamReady');
    if (this.#ready && !this.#ready.settled) this.#beginReady();
  }

  async #startRun(cleanup: (() => Promise<void> | void)[]): Promise<void> {
    const o = this.#o;
    let router: Router | undefined;
    if (this.#boundPort === 0 && isKernelKind(o.datapath)) this.#boundPort = await pickKernelPort(o.host);
    const datapath = await openDatapath(o.datapath, {
      peerName: this.#name,
      host: o.host,
      port: this.#boundPort,
      bridge: o.bridge,
      encrypted: o.password !== undefined,
      router: () => {
        if (!router) throw new PeerNotStartedError('use the router before it exists');
        return router;
      },
      clock: this.#clock,
      random: this.#random,
      logger: this.#logger,
    });
    cleanup.push(async () => {
      await datapath.overlay.stop();
      await datapath.localPort?.close();
      await datapath.close?.();
    });
    router = new Router({
      name: this.#name,
      nickname: this.#nickname,
      host: o.host,
      port: this.#boundPort,
      connLimit: o.connLimit,
      peerDiscovery: o.discovery,
      trustedSubnets: o.trustedSubnets,
      overlay: datapath.overlay,
      ...(datapath.localPort ? { localPort: datapath.localPort } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.gossipIntervalMs !== undefined ? { gossipIntervalMs: o.gossipIntervalMs } : {}),
      ...(this.#transport ? { transport: this.#transport } : {}),
      clock: this.#clock,
      random: this.#random,
      logger: this.#logger,
    });
    const run: Run = { router, datapath, detach: [], ipamReady: false };
    this.#wireRouter(run);
    try {
      await router.start();
    } catch (error) {
      throw listenError('router', `${o.host}:${this.#boundPort}`, error);
    }
    cleanup.push(() => router.stop());
    this.#boundPort = router.port;

    let ipam: Allocator | undefined;
    if (o.ipam) {
      ipam = createRouterAllocator(router, {
        range: o.ipam.rangeText,
        mode: o.ipam.mode,
        store: this.#store.store,
        random: this.#random,
        logger: this.#logger,
        ...(o.ipam.defaultSubnet !== undefined ? { defaultSubnet: o.ipam.defaultSubnet } : {}),
        ...(o.ipam.reclaimAfterMs !== undefined ? { reclaimAfterMs: o.ipam.reclaimAfterMs } : {}),
      });
      cleanup.push(() => ipam?.stop());
      ipam.start();
    }
    let nameserver: Nameserver | undefined;
    let dnsServer: DnsServer | undefined;
    if (o.dns) {
      nameserver = new Nameserver({
        ourName: this.#name,
        isKnownPeer: (p) => router.hasPeer(p),
        domain: o.dns.domain,
        clock: this.#clock,
      });
      nameserver.register(router);
      nameserver.start();
      cleanup.push(() => nameserver?.stop());
      if (o.dns.listen) dnsServer = await this.#startDnsServer(o.dns, nameserver);
      if (dnsServer) cleanup.push(() => dnsServer?.stop());
    }
    Object.assign(run, { ipam, nameserver, dnsServer });
    this.#wireComponents(run);
    this.#run = run;
    this.#lastRouter = router;
    if (nameserver) for (const r of this.#ownDns) nameserver.add(r.containerId, r.ip, r.hostname);
    router.connect(this.#targets);
  }

  async #startDnsServer(dns: ResolvedDns, nameserver: Nameserver): Promise<DnsServer> {
    const listen = dns.listen as { host: string; port: number };
    const servers = dns.upstream;
    const server = new DnsServer({
      nameserver,
      host: listen.host,
      port: listen.port,
      ttl: dns.ttl,
      upstreamPort: dns.upstreamPort,
      recursionFrom:
        dns.recursionFrom ??
        peerRecursionNetworks(
          listen.host,
          this.#o.ipam ? this.#o.ipam.rangeText : undefined,
          networkInterfaces(),
        ),
      upstream:
        servers === 'resolv.conf'
          ? new ResolvConfUpstream({ clock: this.#clock, filterAddress: listen.host })
          : { servers: () => [...servers] },
      clock: this.#clock,
      random: this.#random,
    });
    try {
      await server.start();
    } catch (error) {
      await server.stop().catch(() => {});
      throw listenError('dns', `${listen.host}:${listen.port}`, error);
    }
    return server;
  }

  #wireRouter(run: Run): void {
    const r = run.router;
    const on = <K extends keyof RouterEvents>(event: K, fn: (...args: RouterEvents[K]) => void) => {
      // eventemitter3's typing of a generic key needs the casts.
      (r.on as (e: K, f: (...a: RouterEvents[K]) => void) => void)(event, fn);
      run.detach.push(() => (r.off as (e: K, f: (...a: RouterEvents[K]) => void) => void)(event, fn));
    };
    on('peerAdded', (name, nickname) => this.emit('peerAdded', name, nickname));
    on('peersRemoved', (names) => {
      for (const n of names) {
        run.nameserver?.peerGone(n);
        this.emit('peerRemoved', n);
      }
    });
    on('connectionEstablished', (peer, address, overlay) => {
      this.emit('connectionEstablished', { peer, address, overlay });
      this.emit('datapathChosen', { peer, overlay });
    });
    on('connectionFailed', (address, error) =>
      this.emit('connectionFailed', { address, error: error.message }),
    );
    on('connectionClosed', (peer, address, error) =>
      this.emit('connectionClosed', {
        ...(peer !== undefined ? { peer } : {}),
        address,
        ...(error ? { error: error.message } : {}),
      }),
    );
    on('topologyChanged', () => this.emit('topologyChanged'));
  }

  #wireComponents(run: Run): void {
    const { ipam, nameserver } = run;
    if (ipam) {
      const onRing = () => {
        if (!run.ipamReady && ipam.ringEntries().length > 0) {
          run.ipamReady = true;
          this.emit('ipamReady');
        }
        this.emit('ringChanged');
      };
      ipam.on('ringUpdated', onRing);
      run.detach.push(() => ipam.off('ringUpdated', onRing));
      if (ipam.ringEntries().length > 0) run.ipamReady = true;
    }
    if (nameserver) {
      const toEvent = (e: Entry): DnsEntryEvent => ({
        hostname: e.hostname,
        ip: formatIPv4(e.addr),
        containerId: e.containerId,
        origin: e.origin,
      });
      const added = (e: Entry) => this.emit('dnsEntryAdded', toEvent(e));
      const removed = (e: Entry) => this.emit('dnsEntryRemoved', toEvent(e));
      nameserver.on('entryAdded', added);
      nameserver.on('entryRemoved', removed);
      run.detach.push(() => {
        nameserver.off('entryAdded', added);
        nameserver.off('entryRemoved', removed);
      });
    }
  }

  /** Asks IPAM for a ring (if any) and settles `ready`. */
  #beginReady(): void {
    const ready = this.#ready;
    const run = this.#run;
    if (!ready || ready.settled || !run) return;
    if (!run.ipam) {
      ready.resolve();
      return;
    }
    run.ipam.prime().then(
      () => {
        if (this.#run === run) ready.resolve();
      },
      (error: unknown) => {
        if (this.#run === run) ready.reject(error instanceof Error ? error : new PeerError(String(error)));
      },
    );
  }

  /**
   * Releases every socket, timer and kernel object (DNS server, IPAM, nameserver, connections,
   * listener, datapath); the process can exit by itself afterwards. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopping') return this.#stopping;
    // Let a start in progress finish (or fail) first, then stop what it built.
    if (this.#starting) await this.#starting.catch(() => {});
    if (this.#state !== 'running') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopping';
    this.#stopping = this.#stopRun();
    try {
      await this.#stopping;
    } finally {
      this.#state = 'stopped';
      this.#stopping = undefined;
      if (this.#ready && !this.#ready.settled) this.#ready.reject(new PeerStoppedError('wait for ready'));
      this.#ready = undefined;
      this.emit('stopped');
    }
  }

  async #stopRun(): Promise<void> {
    const run = this.#run;
    if (!run) return;
    this.#run = undefined;
    const errors: unknown[] = [];
    const attempt = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
      }
    };
    await attempt(() => run.dnsServer?.stop());
    await attempt(() => run.ipam?.stop());
    await attempt(() => run.nameserver?.stop());
    await attempt(() => run.router.stop());
    for (const d of run.detach) d();
    // The router stopped the overlay and closed the local port; the rest is the datapath's.
    await attempt(() => run.datapath.close?.());
    if (errors.length > 0) {
      throw new PeerError(`stop: ${errors.map((e) => (e as Error).message).join('; ')}`, {
        cause: errors[0],
      });
    }
  }

  /**
   * `weave reset`: hands our IPAM ranges to another peer, stops, deletes the persisted data (name,
   * ring, addresses, targets, DNS records) and, with a kernel datapath, the bridge.
   */
  async reset(): Promise<void> {
    const run = this.#requireRunning('reset');
    run.ipam?.shutdown();
    // Let the hand-over gossip leave before the connections close.
    await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, 100));
    const bridge = run.datapath.bridge;
    await this.stop();
    if (bridge !== undefined) await removeBridge(bridge);
    this.#store.clear();
    this.#store = new PeerStore(this.#o.dataDir);
    this.#targets = [...this.#o.peers];
    this.#ownDns = [];
  }

  /**
   * Resolves when the topology holds at least `peers` peers, we have a route to each, and all our
   * connections are established. Rejects with {@link ConvergenceTimeoutError} after `timeoutMs`.
   */
  whenConverged(options: ConvergeOptions): Promise<void> {
    const run = this.#requireRunning('wait for convergence');
    const timeoutMs = options.timeoutMs ?? 30_000;
    const router = run.router;
    const converged = () => {
      if (router.peers.size < options.peers) return false;
      if (!router.ourself.liveConnections().every((c) => c.established)) return false;
      router.routes.ensureRecalculated();
      return router.peers
        .all()
        .every((p) => p === router.ourself || router.routes.unicast(p.name) !== undefined);
    };
    if (converged()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.#run !== run) finish(new PeerStoppedError('wait for convergence'));
        else if (converged()) finish();
      };
      const poll = () => {
        check();
        if (!done) pollTimer = this.#clock.setTimeout(poll, 100);
      };
      let done = false;
      let pollTimer = this.#clock.setTimeout(poll, 100);
      const timer = this.#clock.setTimeout(
        () =>
          finish(
            new ConvergenceTimeoutError(
              timeoutMs,
              `${router.peers.size} of ${options.peers} peers, ${router.ourself.liveConnections().filter((c) => c.established).length}/${router.ourself.connectionCount} connections established`,
            ),
          ),
        timeoutMs,
      );
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        this.#clock.clearTimeout(timer);
        this.#clock.clearTimeout(pollTimer);
        this.off('topologyChanged', check);
        this.off('connectionEstablished', check);
        this.off('stopped', check);
        if (error) reject(error);
        else resolve();
      };
      this.on('topologyChanged', check);
      this.on('connectionEstablished', check);
      this.on('stopped', check);
    });
  }

  /**
   * Allocates an address for a container: `'10.32.0.1/12'` (the subnet's prefix length). Waits while
   * the ring is formed or space is asked for; `signal` cancels.
   */
  async allocate(containerId: string, options: PeerAllocateOptions = {}): Promise<string> {
    checkContainerId(containerId);
    const ipam = this.#requireIpam('allocate');
    if (options.subnet !== undefined) {
      try {
        parseCIDR(options.subnet);
      } catch (cause) {
        throw new InvalidAddressError('subnet', options.subnet, (cause as Error).message, { cause });
      }
    }
    await primeFirst(ipam, options.signal);
    const cidr = await ipam.allocate(containerId, {
      ...(options.subnet !== undefined ? { subnet: options.subnet } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return formatCIDR(cidr);
  }

  /** Claims a specific address (`'10.32.0.5/12'`) for a container. */
  async claim(containerId: string, cidr: string, options: PeerClaimOptions = {}): Promise<void> {
    checkContainerId(containerId);
    const ipam = this.#requireIpam('claim');
    try {
      parseCIDR(cidr);
    } catch (cause) {
      throw new InvalidAddressError('address', cidr, (cause as Error).message, { cause });
    }
    await primeFirst(ipam, options.signal);
    await ipam.claim(containerId, cidr, {
      ...(options.noErrorOnUnknown !== undefined ? { noErrorOnUnknown: options.noErrorOnUnknown } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Frees one address of the container (`'10.32.0.1'` or `'10.32.0.1/12'`), or all of them. */
  release(containerId: string, address?: string): void {
    checkContainerId(containerId);
    const ipam = this.#requireIpam('release');
    if (address === undefined) {
      ipam.freeAll(containerId);
      return;
    }
    const ip = typeof address === 'string' ? (address.split('/')[0] ?? '') : '';
    if (!isIPv4(ip))
      throw new InvalidAddressError('address', address, `${String(address)} is not an IPv4 address`);
    ipam.free(containerId, ip);
  }

  /** The container's addresses as CIDR strings. */
  addressesOf(containerId: string): string[] {
    checkContainerId(containerId);
    return this.#requireIpam('look up addresses').lookup(containerId).map(formatCIDR);
  }

  /** Adds direct targets (`host[:port]`, persisted); with `replace`, instead of the current ones. */
  connect(peers: readonly string[], options: { replace?: boolean } = {}): void {
    this.#requireNotStopped('connect');
    for (const p of peers) checkPeerAddress('peers', p);
    this.#targets = options.replace ? [...new Set(peers)] : [...new Set([...this.#targets, ...peers])];
    this.#saveTargets();
    this.#run?.router.connect(peers, options.replace ?? false);
  }

  /** Removes direct targets (existing connections stay). */
  forget(peers: readonly string[]): void {
    this.#requireNotStopped('forget');
    const gone = new Set(peers);
    this.#targets = this.#targets.filter((t) => !gone.has(t));
    this.#saveTargets();
    this.#run?.router.forget(peers);
  }

  /** The direct targets. */
  targets(): string[] {
    return [...this.#targets];
  }

  /**
   * `weave rmpeer`: takes over the IPAM ranges of a dead peer (by name or nickname) and returns
   * upstream's reply, `'N IPs taken over from X'` (without the HTTP body's newline).
   */
  rmpeer(nameOrNickname: string): string {
    if (typeof nameOrNickname !== 'string' || nameOrNickname.length === 0) {
      throw new InvalidContainerIdError('peer', nameOrNickname, 'must be a peer name or nickname');
    }
    return this.#requireIpam('rmpeer').adminTakeoverRanges(nameOrNickname).trimEnd();
  }

  /** Upstream's `/report` as JSON-safe data (UIDs as decimal strings). */
  status(): PeerReport {
    const run = this.#requireRunning('report status');
    const router = run.router;
    const report: PeerReport = {
      Ready: this.#isReady(run),
      Version: PEER_VERSION,
      Router: routerReport(
        router.status(),
        run.datapath.kind,
        router.overlay.diagnostics(),
        run.datapath.localPort?.name,
      ),
    };
    if (run.ipam) report.IPAM = jsonSafe(run.ipam.report()) as PeerReport['IPAM'];
    const dns = this.#dnsStatus(run);
    if (dns) report.DNS = dns;
    return report;
  }

  /** Upstream's `weave status [section]` text, byte for byte. */
  statusText(section?: StatusTextSection): string {
    const run = this.#requireRunning('report status');
    const status = run.router.status();
    switch (section) {
      case undefined: {
        const sections: StatusSection[] = [routerSection(status)];
        if (run.ipam) sections.push(run.ipam.statusSection());
        const dns = this.#dnsStatus(run);
        if (dns) sections.push(dnsStatusSection(dns));
        return formatStatus(`${PEER_VERSION} (version check update disabled)`, sections);
      }
      case 'targets':
        return formatTargets(status);
      case 'connections':
        return formatConnections(status);
      case 'peers':
        return formatPeers(status);
      case 'ipam':
        if (!run.ipam) throw new FeatureDisabledError('ipam');
        return run.ipam.ipamText();
      case 'dns': {
        const dns = this.#dnsStatus(run);
        if (!dns) throw new FeatureDisabledError('dns');
        return formatDnsStatus(dns);
      }
      default:
        throw new InvalidContainerIdError(
          'section',
          section,
          `unknown status section ${JSON.stringify(section)} (targets, connections, peers, dns, ipam)`,
        );
    }
  }

  /** `await using peer = createPeer(…)` stops it at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  // ---- internals ------------------------------------------------------------------------------

  #isReady(run: Run): boolean {
    const wantsServer = this.#o.dns !== false && this.#o.dns.listen !== false;
    return (!run.ipam || run.ipamReady) && (!wantsServer || run.dnsServer !== undefined);
  }

  #dnsStatus(run: Run): DnsStatus | undefined {
    if (!run.nameserver || !this.#o.dns) return undefined;
    if (run.dnsServer) return dnsStatus(run.nameserver, run.dnsServer);
    const upstream = this.#o.dns.upstream;
    return {
      Domain: run.nameserver.domain,
      Upstream: upstream === 'resolv.conf' ? [] : [...upstream],
      Address: '',
      TTL: this.#o.dns.ttl,
      Entries: run.nameserver.entries().map((e) => ({
        Hostname: e.hostname,
        Origin: e.origin,
        ContainerID: e.containerId,
        Address: formatIPv4(e.addr),
        Version: e.version,
        Tombstone: e.tombstone,
      })),
    };
  }

  #requireNotStopped(operation: string): void {
    if (this.#state === 'stopped' || this.#state === 'stopping') throw new PeerStoppedError(operation);
  }

  #requireRunning(operation: string): Run {
    this.#requireNotStopped(operation);
    if (!this.#run) throw new PeerNotStartedError(operation);
    return this.#run;
  }

  #requireIpam(operation: string): Allocator {
    if (!this.#o.ipam) throw new FeatureDisabledError('ipam');
    const run = this.#requireRunning(operation);
    return run.ipam as Allocator;
  }

  #saveTargets(): void {
    if (this.#o.dataDir !== undefined) this.#store.targets = this.#targets;
  }

  #saveDns(): void {
    if (this.#o.dataDir !== undefined) this.#store.dnsRecords = this.#ownDns;
  }

  #qualify(name: string): string {
    const dns = this.#o.dns as ResolvedDns;
    if (name.endsWith('.')) return name;
    const lower = `${name.toLowerCase()}.`;
    if (inDomain(lower, dns.domain)) return `${name}.`;
    return `${name}.${dns.domain}`;
  }

  #makeDns(): PeerDns {
    const requireDns = (operation: string): ResolvedDns => {
      if (!this.#o.dns) throw new FeatureDisabledError('dns');
      this.#requireNotStopped(operation);
      return this.#o.dns;
    };
    return {
      add: (containerId, ip, fqdn) => {
        const dns = requireDns('add a DNS record');
        checkContainerId(containerId);
        if (typeof ip !== 'string' || !isIPv4(ip)) {
          throw new InvalidAddressError('ip', ip, `${String(ip)} is not an IPv4 address`);
        }
        if (typeof fqdn !== 'string' || fqdn.length === 0) {
          throw new DnsNameOutsideDomainError(String(fqdn), dns.domain);
        }
        const hostname = fqdn.endsWith('.') ? fqdn : `${fqdn}.`;
        if (!inDomain(hostname.toLowerCase(), dns.domain))
          throw new DnsNameOutsideDomainError(fqdn, dns.domain);
        const record = { containerId, ip, hostname };
        if (!this.#ownDns.some((r) => sameRecord(r, record))) {
          this.#ownDns.push(record);
          this.#saveDns();
        }
        this.#run?.nameserver?.add(containerId, ip, hostname);
      },
      remove: (containerId, ip, fqdn) => {
        requireDns('remove a DNS record');
        if (ip !== undefined && !isIPv4(ip))
          throw new InvalidAddressError('ip', ip, `${ip} is not an IPv4 address`);
        const hostname = fqdn === undefined ? undefined : fqdn.endsWith('.') ? fqdn : `${fqdn}.`;
        const match = (r: OwnDnsRecord) =>
          (containerId === undefined || r.containerId === containerId) &&
          (ip === undefined || r.ip === ip) &&
          (hostname === undefined || r.hostname === hostname);
        const before = this.#ownDns.length;
        this.#ownDns = this.#ownDns.filter((r) => !match(r));
        if (this.#ownDns.length !== before) this.#saveDns();
        const removed = this.#run?.nameserver?.delete(containerId ?? '*', ip ?? '*', hostname ?? '*');
        return removed ? removed.length : before - this.#ownDns.length;
      },
      lookup: (name) => {
        requireDns('look up a name');
        return this.#run?.nameserver?.lookup(this.#qualify(name)) ?? [];
      },
      reverse: (ip) => {
        requireDns('look up an address');
        if (!isIPv4(ip)) throw new InvalidAddressError('ip', ip, `${ip} is not an IPv4 address`);
        return this.#run?.nameserver?.reverse(ip);
      },
      entries: () => {
        requireDns('list DNS records');
        return (this.#run?.nameserver?.entries() ?? [])
          .filter((e) => e.tombstone === 0)
          .map((e) => ({
            hostname: e.hostname,
            ip: formatIPv4(e.addr),
            containerId: e.containerId,
            origin: e.origin,
          }));
      },
      address: () => {
        const a = this.#run?.dnsServer?.address();
        return a ? { host: a.host, port: a.udpPort } : undefined;
      },
    };
  }
}

/**
 * Waits for the ring before a request that may need it. (A request that itself completes the election
 * and then has to ask for space could be dropped by the allocator; priming first avoids that path.)
 */
async function primeFirst(ipam: Allocator, signal?: AbortSignal): Promise<void> {
  if (ipam.ringEntries().length === 0) await ipam.prime(signal);
}

function inDomain(name: string, domain: string): boolean {
  return name === domain || (name.endsWith(domain) && name[name.length - domain.length - 1] === '.');
}

function isKernelKind(choice: ResolvedOptions['datapath']): boolean {
  return choice === 'sleeve' || choice === 'fastdp' || choice === 'auto';
}

function safePeerName(text: string): PeerName | undefined {
  try {
    return parsePeerName(text);
  } catch {
    return undefined;
  }
}

function checkContainerId(containerId: unknown): asserts containerId is string {
  if (typeof containerId !== 'string' || containerId.length === 0 || /[\s/]/.test(containerId)) {
    throw new InvalidContainerIdError(
      'containerId',
      containerId,
      `${JSON.stringify(containerId)} is not a container id (non-empty, no spaces or slashes)`,
    );
  }
}

/**
 * Builds a peer: validates every option (one typed {@link InvalidPeerOptionError} subclass per
 * condition, with `cause`) and binds nothing until `start()`.
 */
export function createPeer(options: PeerOptions = {}): WeavePeer {
  return new WeavePeer(options);
}
