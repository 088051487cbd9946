import type { PeerName } from './peer-name.js';

/**
 * A router's state as data (what upstream's `/report` carries under `Router`), and the text forms of
 * `weave status`, `status connections`, `status peers` and `status targets`, line for line as Weave 2.8.
 */

/** Connection (or connection attempt) states in the order status counts them. */
export const CONNECTION_STATES = ['established', 'pending', 'retrying', 'failed', 'connecting'] as const;
/**
 * A connection's state in `status connections`: one of {@link CONNECTION_STATES}, or `waiting` for a target not yet retried.
 */
export type ConnectionState = (typeof CONNECTION_STATES)[number] | 'waiting';

/** One row of `status connections`. */
export interface ConnectionStatus {
  /** The remote `ip:port` (the target address for outbound connections not yet established). */
  readonly address: string;
  /** Whether we dialled it (`->`) rather than accepted it (`<-`). */
  readonly outbound: boolean;
  /** Where the connection or attempt stands. */
  readonly state: ConnectionState;
  /** The free text after the state: overlay and encryption, or the error of the last attempt. */
  readonly info: string;
  /** Extra attributes of the connection (e.g. `name`, `nickname`), as upstream's `/report` carries them. */
  readonly attrs: Readonly<Record<string, string | number | boolean>>;
}

/** One connection of a peer, as the topology knows it. */
export interface PeerConnectionStatus {
  /** The peer at the other end. */
  readonly name: PeerName;
  /** That peer's nickname. */
  readonly nickname: string;
  /** The connection's remote TCP address as the peer reported it. */
  readonly address: string;
  /** Whether the peer dialled this connection. */
  readonly outbound: boolean;
  /** Whether the connection has completed its handshake and heartbeat. */
  readonly established: boolean;
}

/** One peer of the topology. */
export interface PeerStatus {
  /** The peer's name. */
  readonly name: PeerName;
  /** The peer's nickname (host name by default). */
  readonly nickname: string;
  /** The peer's random 64-bit instance id (changes when it restarts). */
  readonly uid: bigint;
  /** The peer's 12-bit short id (used by the fast datapath). */
  readonly shortId: number;
  /** Topology version: increases with each change of the peer's connections. */
  readonly version: number;
  /** The peer's connections as it last gossiped them. */
  readonly connections: readonly PeerConnectionStatus[];
}

/**
 * A router's state as data, in the shape of upstream's `/report` `Router` section (see {@link Router.status}).
 */
export interface RouterStatus {
  /** Always `weave`. */
  readonly protocol: 'weave';
  /** Lowest protocol version this router speaks. */
  readonly protocolMinVersion: number;
  /** Highest protocol version this router speaks. */
  readonly protocolMaxVersion: number;
  /** Whether a password is set (connections are encrypted). */
  readonly encryption: boolean;
  /** Whether peers learned through gossip are dialled automatically. */
  readonly peerDiscovery: boolean;
  /** This router's peer name. */
  readonly name: PeerName;
  /** This router's nickname. */
  readonly nickname: string;
  /** The TCP (and sleeve UDP) port the router listens on. */
  readonly port: number;
  /** Every peer in the topology, this router included. */
  readonly peers: readonly PeerStatus[];
  /** For each reachable peer, the neighbour to send through. */
  readonly unicastRoutes: readonly {
    /** The destination peer. */
    dest: PeerName;
    /** The neighbour packets for `dest` go through. */
    via: PeerName;
  }[];
  /** For each broadcast source, the neighbours a broadcast from it is forwarded to. */
  readonly broadcastRoutes: readonly {
    /** The peer the broadcast came from. */
    source: PeerName;
    /** The neighbours to forward it to. */
    via: readonly PeerName[];
  }[];
  /** Every connection and connection attempt, as `status connections` lists them. */
  readonly connections: readonly ConnectionStatus[];
  /** How many connections have ended since start. */
  readonly terminationCount: number;
  /** Direct targets (user-given peers). */
  readonly targets: readonly string[];
  /** Subnets whose peers get unencrypted fast-path connections even with a password set, as CIDRs. */
  readonly trustedSubnets: readonly string[];
}

/** A block of `weave status` for one service, e.g. `ipam` with `Status`, `Range`, `DefaultSubnet`. */
export interface StatusSection {
  /** The service name printed as the section header (e.g. `Service: ipam`). */
  readonly service: string;
  /** The section's label/value rows, in print order. */
  readonly fields: readonly (readonly [label: string, value: string | number])[];
}

/** `Info` of a live connection: `[encrypted|unencrypted ]overlay name(nick)`. */
export function connectionInfo(
  overlay: string,
  remote: string,
  encryption?: 'encrypted' | 'unencrypted',
): string {
  const info = `${overlay.padEnd(6)} ${remote}`;
  return encryption ? `${encryption.padEnd(11)} ${info}` : info;
}

function countsOf<K extends string>(states: readonly K[], keys: readonly K[]): string {
  const counts = new Map<K, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  return keys
    .filter((k) => counts.has(k))
    .map((k) => `${counts.get(k)} ${k}`)
    .join(', ');
}

function fieldLines(section: StatusSection): string[] {
  return [['Service', section.service] as const, ...section.fields].map(
    ([label, value]) => `${label.padStart(15)}: ${value}`,
  );
}

/** The router's section of `weave status`. */
export function routerSection(status: RouterStatus): StatusSection {
  const { protocolMinVersion: min, protocolMaxVersion: max } = status;
  const conns = countsOf(
    status.connections.map((c) => c.state),
    CONNECTION_STATES,
  );
  const peerConns = countsOf(
    status.peers.flatMap((p) => p.connections.map((c) => (c.established ? 'established' : 'pending'))),
    ['established', 'pending'],
  );
  return {
    service: 'router',
    fields: [
      ['Protocol', `${status.protocol} ${min === max ? min : `${min}..${max}`}`],
      ['Name', `${status.name}(${status.nickname})`],
      ['Encryption', status.encryption ? 'enabled' : 'disabled'],
      ['PeerDiscovery', status.peerDiscovery ? 'enabled' : 'disabled'],
      ['Targets', status.targets.length],
      ['Connections', `${status.connections.length}${conns ? ` (${conns})` : ''}`],
      ['Peers', `${status.peers.length}${peerConns ? ` (with ${peerConns} connections)` : ''}`],
      ['TrustedSubnets', status.trustedSubnets.length ? status.trustedSubnets.join(', ') : 'none'],
    ],
  };
}

/** The whole `weave status` text: a version line, then one block per service, blank lines between. */
export function formatStatus(version: string, sections: readonly StatusSection[]): string {
  const blocks = [[`${'Version'.padStart(15)}: ${version}`], ...sections.map(fieldLines)];
  return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}

function attrsText(attrs: ConnectionStatus['attrs']): string {
  return Object.keys(attrs)
    .filter((k) => k !== 'name')
    .sort()
    .map((k) => `${k}=${attrs[k]}`)
    .join('');
}

const arrow = (outbound: boolean) => (outbound ? '->' : '<-');

/** `weave status connections`. */
export function formatConnections(status: RouterStatus): string {
  return status.connections
    .map(
      (c) =>
        `${arrow(c.outbound)} ${c.address.padEnd(21)} ${c.state.padEnd(11)} ${c.info} ${attrsText(c.attrs)}\n`,
    )
    .join('');
}

/** `weave status peers`. */
export function formatPeers(status: RouterStatus): string {
  return status.peers
    .map((p) => {
      const conns = p.connections.map(
        (c) =>
          `   ${arrow(c.outbound)} ${c.address.padEnd(21)} ${`${c.name}(${c.nickname})`.padEnd(37)} ${
            c.established ? 'established' : 'pending'
          }\n`,
      );
      return `${p.name}(${p.nickname})\n${conns.join('')}`;
    })
    .join('');
}

/** `weave status targets`. */
export function formatTargets(status: RouterStatus): string {
  return status.targets.map((t) => `${t}\n`).join('');
}
