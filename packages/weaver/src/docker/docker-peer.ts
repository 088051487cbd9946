/**
 * What the Docker integration needs from a Weave peer: the subset of `@weave-ts/peer`'s `WeavePeer` it
 * calls. A `WeavePeer` satisfies it as is; tests pass small fakes.
 */
export interface DockerPeer {
  /** An address for `containerId` (`'10.32.0.1/12'`), in `subnet` or the default subnet. */
  allocate(containerId: string, options?: { subnet?: string }): Promise<string>;
  /** Claims `cidr` (address with its subnet's prefix length) for `containerId`. */
  claim(containerId: string, cidr: string, options?: { noErrorOnUnknown?: boolean }): Promise<void>;
  /** Frees one address of the container, or all of them. */
  release(containerId: string, address?: string): void;
  /** The container's addresses as CIDR strings. */
  addressesOf(containerId: string): string[];
  /**
   * The IPAM allocator, when the peer has one running: `ownerOf` names who holds an address in the
   * peer's persisted IPAM state (it survives restarts). Optional: fakes may leave it out.
   */
  readonly ipam?: DockerPeerIpam;
  /** weaveDNS operations. */
  readonly dns: DockerPeerDns;
  /** The bridge containers attach to and its MTU. */
  readonly datapath: {
    /** The bridge's name (undefined without a kernel datapath). */
    readonly bridge?: string;
    /** The MTU veths get (default the bridge's). */
    readonly mtu?: number;
  };
  /** Upstream's `/report` (only `IPAM.DefaultSubnet`/`IPAM.Range` and `DNS.Domain` are read). */
  status(): DockerPeerReport;
}

/** The IPAM allocator part of {@link DockerPeer} (`@weave-ts/ipam`'s `Allocator` satisfies it). */
export interface DockerPeerIpam {
  /** Who holds `address` (`'10.32.0.1'`) on this peer, or undefined when nobody does. */
  ownerOf(address: string): string | undefined;
}

/** The weaveDNS part of {@link DockerPeer}. */
export interface DockerPeerDns {
  /** Adds a record for the container. */
  add(containerId: string, ip: string, fqdn: string): void;
  /** Removes records matching every given field; returns how many. */
  remove(containerId?: string, ip?: string, fqdn?: string): number;
  /** Where the DNS server listens, if it does. */
  address(): DnsListenAddress | undefined;
}

/** Where weaveDNS listens. */
export interface DnsListenAddress {
  /** Listen host (`0.0.0.0` for all). */
  host: string;
  /** UDP port. */
  port: number;
}

/** The fields of the peer's report the Docker integration reads. */
export interface DockerPeerReport {
  /** IPAM's part; absent when IPAM is disabled. */
  readonly IPAM?: {
    /** Where allocations without a subnet go. */
    readonly DefaultSubnet?: string;
    /** The allocation range. */
    readonly Range?: string;
  } | null;
  /** weaveDNS's part; absent when DNS is disabled. */
  readonly DNS?: {
    /** The DNS domain (`weave.local.`). */
    readonly Domain?: string;
  } | null;
}

/** The peer's default subnet, or undefined when IPAM is disabled. */
export function defaultSubnetOf(peer: DockerPeer): string | undefined {
  const ipam = peer.status().IPAM;
  return ipam ? (ipam.DefaultSubnet ?? ipam.Range) : undefined;
}

/** The weaveDNS domain without its trailing dot (`weave.local`), or undefined when DNS is disabled. */
export function dnsDomainOf(peer: DockerPeer): string | undefined {
  const domain = peer.status().DNS?.Domain;
  return domain === undefined ? undefined : domain.replace(/\.$/, '');
}
