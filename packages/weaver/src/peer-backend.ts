import type { StatusSection } from '@weave-ts/core';
import type { Allocator } from '@weave-ts/ipam';
import { cidrRange, formatCIDR, parseSubnet } from '@weave-ts/ipam';
import type { WeavePeer } from '@weave-ts/peer';
import type {
  ApiBackend,
  DnsApi,
  ExposeApi,
  IpamApi,
  StatusSectionName,
  WeaveReport,
} from './api-backend.js';
import type { WeaveMetrics } from './metrics.js';

/**
 * The {@link ApiBackend} of a running weaver: `WeavePeer` calls plus what the daemon adds (expose,
 * extra status sections and report fields from services such as the Docker plugin, readiness).
 */

/** The slice of `WeavePeer` the backend uses (a real peer satisfies it; tests may fake it). */
export type BackendPeer = Pick<
  WeavePeer,
  | 'name'
  | 'status'
  | 'statusText'
  | 'allocate'
  | 'claim'
  | 'release'
  | 'connect'
  | 'forget'
  | 'reset'
  | 'rmpeer'
  | 'dns'
  | 'ipam'
  | 'nameserver'
>;

/** A field a service adds to `/report`. */
export interface ServiceReportField {
  /** Field name, e.g. `Plugin`. */
  field: string;
  /** Its value, computed per request. */
  value: () => unknown;
}

/** A service's block in `weave status` and its field in `/report`. */
export interface ServiceStatus {
  /** The block after the DNS one (e.g. `Service: plugin (v2)`), or undefined for none. */
  section?: () => StatusSection | undefined;
  /** `/report` field name (e.g. `Plugin`) and its value. */
  report?: ServiceReportField;
}

/** Options of {@link createPeerBackend}. */
export interface PeerBackendOptions {
  /** The peer behind the API. */
  peer: BackendPeer;
  /** What `/metrics` renders. */
  metrics: WeaveMetrics;
  /** expose/hide, when there is a bridge. */
  exposer?: ExposeApi;
  /** Called by `DELETE /peer` after the peer was reset (the daemon exits). */
  onReset?: () => void;
  /** Whether IPAM/DNS are enabled (the peer's escape hatches say so too once started). */
  ipam: boolean;
  /** Whether weaveDNS is enabled. */
  dns: boolean;
}

/** The backend plus the daemon's seams. */
export interface PeerBackend extends ApiBackend {
  /** Adds a service's status block and report field. */
  addService(status: ServiceStatus): void;
  /** Adds something `/status` waits for (503 until it resolves). */
  addReadinessGate(gate: Promise<unknown>): void;
  /** Marks the peer itself as started (listening). */
  setStarted(started: boolean): void;
  /** Docker proxy addresses for `GET /proxyaddrs`. */
  setProxyAddresses(addrs: string[]): void;
  /**
   * How `check-alive=true` learns whether a container runs (the Docker service sets it); without
   * one, every container counts as running, as upstream's weaver without a Docker client.
   */
  setContainerLiveness(isRunning: ((containerId: string) => boolean | Promise<boolean>) | undefined): void;
}

/** The error a `check-alive` request of a stopped container ends with (HTTP answers `cancelled`). */
export class ContainerNotRunningError extends Error {
  /** The error's stable name: `'OperationCancelledError'`. */
  override name = 'OperationCancelledError';
  constructor(
    /** The container that is not running. */
    readonly containerId: string,
  ) {
    super(`container ${containerId} is not running: request cancelled`);
  }
}

function sectionText(section: StatusSection): string {
  return [['Service', section.service] as const, ...section.fields]
    .map(([label, value]) => `${label.padStart(15)}: ${value}\n`)
    .join('');
}

/** Builds the backend. */
export function createPeerBackend(options: PeerBackendOptions): PeerBackend {
  const { peer } = options;
  const services: ServiceStatus[] = [];
  let pendingGates = 0;
  let started = false;
  let proxyAddrs: string[] = [];

  let liveness: ((containerId: string) => boolean | Promise<boolean>) | undefined;
  const assertAlive = async (ident: string, checkAlive: boolean | undefined) => {
    if (checkAlive && liveness && !(await liveness(ident))) throw new ContainerNotRunningError(ident);
  };

  const allocator = (): Allocator => {
    const a = peer.ipam;
    if (!a) throw new Error('IPAM is not running');
    return a;
  };

  const ipam: IpamApi = {
    get defaultSubnet() {
      const r = peer.status().IPAM;
      return r?.DefaultSubnet ?? '';
    },
    allocate: async (ident, subnet, o = {}) => {
      await assertAlive(ident, o.checkAlive);
      return peer.allocate(ident, {
        ...(subnet === undefined ? {} : { subnet }),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    },
    claim: async (ident, cidr, o = {}) => {
      await assertAlive(ident, o.checkAlive);
      return peer.claim(ident, cidr, {
        ...(o.noErrorOnUnknown ? { noErrorOnUnknown: true } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    },
    lookup: (ident, subnet) => {
      const range = cidrRange(parseSubnet(subnet ?? ipam.defaultSubnet));
      return allocator().lookup(ident, range).map(formatCIDR);
    },
    owned: () =>
      allocator()
        .ownedEntries()
        .map(({ ident, cidrs }) => ({ containerid: ident, addrs: cidrs.map(formatCIDR) })),
    free: (ident, ip) => allocator().free(ident, ip),
    freeAll: (ident) => allocator().freeAll(ident),
    prime: (signal) => allocator().prime(signal),
    tracker: () => '',
  };

  const dns: DnsApi = {
    get domain() {
      return peer.status().DNS?.Domain ?? 'weave.local.';
    },
    address: () => {
      const a = peer.dns.address();
      if (!a) return '';
      return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
    },
    add: async (cid, ip, fqdn, o = {}) => {
      peer.dns.add(cid, ip, fqdn);
      // Upstream adds first, then removes the entry again if the container is not running.
      if (o.checkAlive && liveness && !(await liveness(cid))) peer.dns.remove(cid, ip, fqdn);
    },
    remove: (cid, ip, fqdn) => {
      peer.dns.remove(cid, ip, fqdn);
    },
    entries: () =>
      (peer.nameserver?.entries() ?? []).map((e) => ({
        ContainerID: e.containerId,
        Origin: e.origin,
        Addr: e.addr,
        Hostname: e.hostname,
        Version: e.version,
        Tombstone: e.tombstone,
      })),
  };

  const backend: PeerBackend = {
    isReady: () => started && pendingGates === 0,
    report() {
      const r: WeaveReport = { ...peer.status(), Ready: backend.isReady() };
      for (const s of services) if (s.report) r[s.report.field] = s.report.value();
      return r;
    },
    statusText(section?: StatusSectionName) {
      const base = peer.statusText(section);
      if (section !== undefined) return base;
      const extra = services
        .map((s) => s.section?.())
        .filter((s): s is StatusSection => s !== undefined)
        .map((s) => `\n${sectionText(s)}`)
        .join('');
      return base + extra;
    },
    connect(peers, replace) {
      const errors: string[] = [];
      const good: string[] = [];
      for (const p of peers) {
        const err = checkPeerAddress(p);
        if (err) errors.push(err);
        else good.push(p);
      }
      if (good.length > 0 || replace) {
        try {
          peer.connect(good, { replace });
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
      return errors;
    },
    forget: (peers) => peer.forget(peers),
    async reset() {
      await peer.reset();
      started = false;
      options.onReset?.();
    },
    rmpeer: (id, o = {}) => {
      // `force` is the allocator's override of the majority rule (see TakeoverWithoutMajorityError).
      const t = o.force ? allocator().adminTakeoverRanges(id, { force: true }) : peer.rmpeer(id);
      return t.endsWith('\n') ? t : `${t}\n`;
    },
    metrics: () => options.metrics.render(),
    proxyAddresses: () => proxyAddrs,
    get ipam() {
      return options.ipam ? ipam : undefined;
    },
    get dns() {
      return options.dns ? dns : undefined;
    },
    exposer: options.exposer,
    addService: (s) => services.push(s),
    addReadinessGate(gate) {
      pendingGates++;
      void gate.then(
        () => pendingGates--,
        () => undefined, // a failed service keeps /status at 503
      );
    },
    setStarted(s) {
      started = s;
    },
    setProxyAddresses(addrs) {
      proxyAddrs = [...addrs];
    },
    setContainerLiveness(isRunning) {
      liveness = isRunning;
    },
  };
  return backend;
}

/**
 * Go's `net.SplitHostPort`-style check of a peer address (`host`, `host:port`, `[v6]:port`); returns
 * the error text, as upstream's `InitiateConnections` reports it, or undefined.
 */
export function checkPeerAddress(peer: string): string | undefined {
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(peer);
  let host: string;
  let port: string | undefined;
  if (v6) {
    host = v6[1]!;
    port = v6[2];
  } else {
    const parts = peer.split(':');
    if (parts.length > 2) return `address ${peer}: too many colons in address`;
    host = parts[0]!;
    port = parts[1];
  }
  if (host === '') return `address ${peer}: missing address`;
  if (/\s/.test(peer)) return `address ${peer}: no such host`;
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) > 65535) return `address ${peer}: invalid port`;
  }
  return undefined;
}
