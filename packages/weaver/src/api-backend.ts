/**
 * What the HTTP API needs from the daemon, as a small interface: the weaver builds one from a
 * `WeavePeer` (see `peer-backend.ts`), tests and fuzzers pass a fake. Every method either returns
 * or throws an `Error` whose message is the plain-text body of a 400 (upstream's wording).
 */

/** `weave status <section>` names. */
export type StatusSectionName = 'targets' | 'connections' | 'peers' | 'dns' | 'ipam';

/** The `/report` object (upstream `WeaveStatus`): `{Ready, Version, Router, IPAM?, DNS?, …}`. */
export type WeaveReport = Record<string, unknown>;

/** Options of an allocation or claim. */
export interface IpamRequestOptions {
  /** `check-alive=true`: cancel when the container is not running (needs a container runtime). */
  checkAlive?: boolean;
  /** Aborted when the HTTP client goes away; the request then answers `cancelled`. */
  signal?: AbortSignal;
}

/** One holder of addresses in `GET /ip` (upstream's JSON field names). */
export interface OwnedEntry {
  /** The container (or other holder, e.g. `weave:expose`). */
  containerid: string;
  /** Its addresses as CIDRs. */
  addrs: string[];
}

/** Prometheus exposition text. */
export interface MetricsText {
  /** `text/plain; version=0.0.4; charset=utf-8`. */
  contentType: string;
  /** The samples. */
  body: string;
}

/** The IPAM routes' view of the allocator (absent when IPAM is disabled: those routes answer 404). */
export interface IpamApi {
  /** Default subnet as a CIDR string (`10.32.0.0/12`). */
  readonly defaultSubnet: string;
  /** Allocates in `subnet` (default subnet when undefined); resolves `a.b.c.d/len`. */
  allocate(ident: string, subnet: string | undefined, options?: IpamRequestOptions): Promise<string>;
  /** Claims `cidr` for `ident`. */
  claim(
    ident: string,
    cidr: string,
    options?: IpamRequestOptions & { noErrorOnUnknown?: boolean },
  ): Promise<void>;
  /** `ident`'s addresses (CIDR strings) inside `subnet`, or in the default subnet. */
  lookup(ident: string, subnet?: string): string[];
  /** Every container's addresses (`GET /ip`), in no particular order. */
  owned(): OwnedEntry[];
  /** Frees one address. */
  free(ident: string, ip: string): void;
  /** Frees everything `ident` holds. */
  freeAll(ident: string): void;
  /** Resolves once the ring exists (`GET /ring`). */
  prime(signal?: AbortSignal): Promise<void>;
  /** `GET /ipinfo/tracker`: the local range tracker's name, '' without one. */
  tracker(): string;
}

/** The weaveDNS routes' view (absent with `--no-dns`). */
export interface DnsApi {
  /** `weave.local.` */
  readonly domain: string;
  /** The DNS server's listen address `host:port`. */
  address(): string;
  /** Adds an entry owned by this peer; with `checkAlive`, removes it again if the container is not running. */
  add(
    containerId: string,
    ip: string,
    fqdn: string,
    options?: { checkAlive?: boolean },
  ): void | Promise<void>;
  /** Tombstones own entries matching all given fields; undefined = any (`*`). */
  remove(containerId: string | undefined, ip: string | undefined, fqdn: string | undefined): void;
  /** Raw entries for `GET /name` (Accept: application/json). */
  entries(): unknown[];
}

/** `weave expose` / `weave hide` on the bridge (absent without a kernel datapath: 404). */
export interface ExposeApi {
  /** Puts `cidr` on the bridge, gratuitous ARP, NAT and filter rules (no NAT with `skipNAT`). */
  expose(cidr: string, options: { skipNAT: boolean }): Promise<void>;
  /** Removes exactly what `expose` added. */
  hide(cidr: string): Promise<void>;
}

/** Everything the HTTP API serves. */
export interface ApiBackend {
  /** False until the peer listens and every registered service is ready: `/status*` answer 503. */
  isReady(): boolean;
  /** The `/report` object. */
  report(): WeaveReport;
  /** The text of `/status` (no section) or `/status/<section>`, upstream's bytes. */
  statusText(section?: StatusSectionName): string;
  /** Adds targets; returns one error text per peer that could not be parsed. */
  connect(peers: string[], replace: boolean): string[];
  /** Removes targets. */
  forget(peers: string[]): void;
  /** `DELETE /peer`: hand IPAM ranges to a successor and stop. */
  reset(): Promise<void>;
  /**
   * `DELETE /peer/{id}[?force=true]`: `N IPs taken over from X\n`. Without `force` the allocator
   * refuses while most range owners are unreachable (split-brain guard).
   */
  rmpeer(nameOrNickname: string, options?: { force?: boolean }): string;
  /** Prometheus exposition text and its content type. */
  metrics(): Promise<MetricsText>;
  /** `GET /proxyaddrs`: Docker proxy listen addresses ('' when no proxy). */
  proxyAddresses(): string[];
  /** IPAM, unless disabled (its routes then answer 404). */
  readonly ipam?: IpamApi | undefined;
  /** weaveDNS, unless disabled (its routes then answer 404). */
  readonly dns?: DnsApi | undefined;
  /** expose/hide, when there is a bridge. */
  readonly exposer?: ExposeApi | undefined;
}
