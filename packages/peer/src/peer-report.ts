import type { DnsStatus } from '@weave-ts/dns';
import type { IpamReport } from '@weave-ts/ipam';

/** One connection of a peer in {@link RouterReport} (upstream `mesh.PeerConnectionStatus`). */
export interface PeerConnectionReport {
  /** The remote peer's name. */
  Name: string;
  /** The remote peer's nickname. */
  NickName: string;
  /** `host:port` of the connection. */
  Address: string;
  /** Whether this peer dialled. */
  Outbound: boolean;
  /** Whether the connection's overlay is up. */
  Established: boolean;
}

/** One peer of the topology (upstream `mesh.PeerStatus`). */
export interface PeerStatusReport {
  /** Peer name (MAC form). */
  Name: string;
  /** Nickname. */
  NickName: string;
  /** The peer's 64-bit UID as decimal digits (upstream writes a bare uint64, which JSON numbers cannot hold). */
  UID: string;
  /** 12-bit short ID (fastdp). */
  ShortID: number;
  /** Topology version of the peer. */
  Version: number;
  /** The peer's connections as it reports them. */
  Connections: PeerConnectionReport[];
}

/** One row of the connections list (upstream `mesh.LocalConnectionStatus`). */
export interface ConnectionReport {
  /** `host:port`. */
  Address: string;
  /** Whether this peer dialled. */
  Outbound: boolean;
  /** `established`, `pending`, `retrying`, `failed`, `connecting` or `waiting`. */
  State: string;
  /** Overlay and remote peer, or the error text of a failed target. */
  Info: string;
  /** Overlay attributes (`name`, `mtu`, `encrypted`), or null. */
  Attrs: Record<string, string | number | boolean> | null;
}

/** A unicast route: to `Dest` via `Via`. */
export interface UnicastRouteReport {
  /** Destination peer. */
  Dest: string;
  /** Next hop. */
  Via: string;
}

/** A broadcast route: frames from `Source` go on to `Via`. */
export interface BroadcastRouteReport {
  /** Originating peer. */
  Source: string;
  /** Next hops. */
  Via: string[];
}

/** The `Router` object of `/report` (upstream `weave.NetworkRouterStatus`, the parts we have). */
export interface RouterReport {
  /** Always `weave`. */
  Protocol: string;
  /** Lowest protocol version offered. */
  ProtocolMinVersion: number;
  /** Highest protocol version offered. */
  ProtocolMaxVersion: number;
  /** Whether a password is set. */
  Encryption: boolean;
  /** Whether peers learnt from the topology are dialled. */
  PeerDiscovery: boolean;
  /** Our peer name. */
  Name: string;
  /** Our nickname. */
  NickName: string;
  /** The control port. */
  Port: number;
  /** Every peer of the topology, us included. */
  Peers: PeerStatusReport[];
  /** Unicast routes. */
  UnicastRoutes: UnicastRouteReport[];
  /** Broadcast routes. */
  BroadcastRoutes: BroadcastRouteReport[];
  /** Live connections and targets not connected (null when none). */
  Connections: ConnectionReport[] | null;
  /** Connections that ended. */
  TerminationCount: number;
  /** Direct targets (null when none). */
  Targets: string[] | null;
  /** The datapath's diagnostics, keyed by its kind. */
  OverlayDiagnostics: Record<string, unknown>;
  /** Trusted subnets. */
  TrustedSubnets: string[];
  /** The device the router reads containers' frames from (the TAP on the bridge), when there is one. */
  Interface?: string;
}

/** `peer.status()`: upstream's `/report` shape, JSON-safe (no BigInt anywhere). */
export interface PeerReport {
  /** IPAM has a ring (or is disabled) and DNS serves (or is disabled). */
  Ready: boolean;
  /** Our version string. */
  Version: string;
  /** The router's state. */
  Router: RouterReport;
  /** Absent when IPAM is disabled. */
  IPAM?: IpamReport;
  /** Absent when weaveDNS is disabled. */
  DNS?: DnsStatus;
}

/** Sections of `peer.statusText(section)` (upstream `weave status [section]`). */
export type StatusTextSection = 'targets' | 'connections' | 'peers' | 'dns' | 'ipam';
