import type { IpamReport } from '@weave-ts/ipam';
import type { DnsStatus } from '@weave-ts/dns';

/** One connection of a peer in {@link RouterReport} (upstream `mesh.PeerConnectionStatus`). */
export interface PeerConnectionReport {
  Name: string;
  NickName: string;
  Address: string;
  Outbound: boolean;
  Established: boolean;
}

/** One peer of the topology (upstream `mesh.PeerStatus`). `UID` is a decimal string: uint64 does not fit a JSON number. */
export interface PeerStatusReport {
  Name: string;
  NickName: string;
  /** The peer's 64-bit UID as decimal digits (upstream writes a bare uint64 number). */
  UID: string;
  ShortID: number;
  Version: number;
  Connections: PeerConnectionReport[];
}

/** One row of the connections list (upstream `mesh.LocalConnectionStatus`). */
export interface ConnectionReport {
  Address: string;
  Outbound: boolean;
  State: string;
  Info: string;
  Attrs: Record<string, string | number | boolean> | null;
}

/** The `Router` object of `/report` (upstream `weave.NetworkRouterStatus`, the parts we have). */
export interface RouterReport {
  Protocol: string;
  ProtocolMinVersion: number;
  ProtocolMaxVersion: number;
  Encryption: boolean;
  PeerDiscovery: boolean;
  Name: string;
  NickName: string;
  Port: number;
  Peers: PeerStatusReport[];
  UnicastRoutes: { Dest: string; Via: string }[];
  BroadcastRoutes: { Source: string; Via: string[] }[];
  Connections: ConnectionReport[] | null;
  TerminationCount: number;
  Targets: string[] | null;
  OverlayDiagnostics: Record<string, unknown>;
  TrustedSubnets: string[];
  /** The local port (`weave` bridge TAP), when the datapath has one. */
  Interface?: string;
}

/** `peer.status()`: upstream's `/report` shape, JSON-safe (no BigInt anywhere). */
export interface PeerReport {
  /** IPAM has a ring (or is disabled) and DNS serves (or is disabled). */
  Ready: boolean;
  Version: string;
  Router: RouterReport;
  /** Absent when IPAM is disabled. */
  IPAM?: IpamReport;
  /** Absent when weaveDNS is disabled. */
  DNS?: DnsStatus;
}

/** Sections of `peer.statusText(section)` (upstream `weave status [section]`). */
export type StatusTextSection = 'targets' | 'connections' | 'peers' | 'dns' | 'ipam';
