import type { Router } from '@weave-ts/core';
import type { Allocator } from '@weave-ts/ipam';
import type { DnsServer, Nameserver } from '@weave-ts/dns';
import { EventEmitter } from 'eventemitter3';
import type { PeerEvents } from './peer-events.js';
import type { PeerOptions } from './peer-options.js';
import type { PeerReport, StatusTextSection } from './peer-report.js';

/** Lifecycle of a {@link WeavePeer}. */
export type PeerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Options of {@link WeavePeer.allocate}. */
export interface PeerAllocateOptions {
  /** Subnet to allocate in (`'10.32.1.0/24'`); default the default subnet. */
  readonly subnet?: string;
  /** Cancels the request while it waits. */
  readonly signal?: AbortSignal;
}

/** Options of {@link WeavePeer.claim}. */
export interface PeerClaimOptions {
  /** Succeed at once if the owner of the address is not known yet (keep trying in the background). */
  readonly noErrorOnUnknown?: boolean;
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
}

/** weaveDNS operations of a peer (`peer.dns`). */
export interface PeerDns {
  /** Adds a record (`fqdn` must be inside the peer's domain; a bare name gets the domain appended). */
  add(containerId: string, ip: string, fqdn: string): void;
  /** Removes records matching every given field (omitted = any); returns how many. */
  remove(containerId?: string, ip?: string, fqdn?: string): number;
  /** Addresses of `name` (relative names get the domain). */
  lookup(name: string): string[];
  /** The name of `ip`, if any. */
  reverse(ip: string): string | undefined;
  /** Every live record. */
  entries(): { hostname: string; ip: string; containerId: string; origin: string }[];
  /** Where the DNS server listens, once started (undefined with `listen: false` or before `start()`). */
  address(): { host: string; port: number } | undefined;
}

/**
 * A whole Weave peer: router, IPAM, weaveDNS and datapath, built by `createPeer(options)`.
 *
 * ```
 * const peer = createPeer({ port: 0, dns: { listen: '127.0.0.1:0' } });
 * await peer.start();   await peer.ready;
 * const cidr = await peer.allocate('c1');  peer.dns.add('c1', cidr.split('/')[0], 'web');
 * await peer.stop();
 * ```
 */
export class WeavePeer extends EventEmitter<PeerEvents> {
  /** Our peer name (MAC form). */
  get name(): string {
    throw notImplemented();
  }
  /** Our nickname. */
  get nickname(): string {
    throw notImplemented();
  }
  /** Lifecycle state. */
  get state(): PeerState {
    throw notImplemented();
  }
  /** The control port (the bound one once started with port 0). */
  get port(): number {
    throw notImplemented();
  }
  /** Resolves when IPAM has a ring (or is disabled) and DNS serves (or is disabled). */
  get ready(): Promise<void> {
    throw notImplemented();
  }
  /** The router (escape hatch; a new one after each `start()`). */
  get router(): Router {
    throw notImplemented();
  }
  /** The IPAM allocator, unless `ipam: false`. */
  get ipam(): Allocator | undefined {
    throw notImplemented();
  }
  /** The nameserver, unless `dns: false`. */
  get nameserver(): Nameserver | undefined {
    throw notImplemented();
  }
  /** The DNS server, unless `dns: false` or `dns.listen: false`. */
  get dnsServer(): DnsServer | undefined {
    throw notImplemented();
  }
  /** The datapath in use. */
  get datapath(): PeerDatapathInfo {
    throw notImplemented();
  }
  /** weaveDNS operations. */
  get dns(): PeerDns {
    throw notImplemented();
  }

  /** @internal use `createPeer`. */
  constructor(_options: PeerOptions) {
    super();
  }

  /** Listens and connects to the initial peers; resolves once listening. */
  async start(): Promise<void> {
    throw notImplemented();
  }
  /** Releases every socket, timer and kernel object; the process can exit by itself. */
  async stop(): Promise<void> {
    throw notImplemented();
  }
  /** Hands our IPAM ranges to another peer, deletes persisted data and stops. */
  async reset(): Promise<void> {
    throw notImplemented();
  }
  /** Resolves when the topology has `peers` peers and all our connections are established. */
  async whenConverged(_options: ConvergeOptions): Promise<void> {
    throw notImplemented();
  }
  /** Allocates an address for a container: `'10.32.0.1/12'`. */
  async allocate(_containerId: string, _options: PeerAllocateOptions = {}): Promise<string> {
    throw notImplemented();
  }
  /** Claims a specific address (`'10.32.0.5/12'`) for a container. */
  async claim(_containerId: string, _cidr: string, _options: PeerClaimOptions = {}): Promise<void> {
    throw notImplemented();
  }
  /** Frees one address of the container, or all of them. */
  release(_containerId: string, _address?: string): void {
    throw notImplemented();
  }
  /** The container's addresses as CIDR strings. */
  addressesOf(_containerId: string): string[] {
    throw notImplemented();
  }
  /** Adds direct targets (persisted); with `replace`, instead of the current ones. */
  connect(_peers: readonly string[], _options: { replace?: boolean } = {}): void {
    throw notImplemented();
  }
  /** Removes direct targets. */
  forget(_peers: readonly string[]): void {
    throw notImplemented();
  }
  /** The direct targets. */
  targets(): string[] {
    throw notImplemented();
  }
  /** Takes over the IPAM ranges of a dead peer: `'N IPs taken over from X'`. */
  rmpeer(_nameOrNickname: string): string {
    throw notImplemented();
  }
  /** Upstream's `/report` as JSON-safe data. */
  status(): PeerReport {
    throw notImplemented();
  }
  /** Upstream's `weave status [section]` text, byte for byte. */
  statusText(_section?: StatusTextSection): string {
    throw notImplemented();
  }
  /** `await using peer = createPeer(…)` stops it at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function notImplemented(): Error {
  return new Error('not implemented yet');
}

/** Builds a peer; validates every option (typed errors) and binds nothing until `start()`. */
export function createPeer(options: PeerOptions = {}): WeavePeer {
  return new WeavePeer(options);
}
