import type { PeerName } from './peer-name.js';

/**
 * A router's state as data (what upstream's `/report` carries under `Router`), and the text forms of
 * `weave status`, `status connections`, `status peers` and `status targets`, line for line as Weave 2.8.
 */

/** Connection (or connection attempt) states in the order status counts them. */
export const CONNECTION_STATES = ['established', 'pending', 'retrying', 'failed', 'connecting'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number] | 'waiting';

/** One row of `status connections`. */
export interface ConnectionStatus {
  readonly address: string;
  readonly outbound: boolean;
  readonly state: ConnectionState;
  readonly info: string;
  readonly attrs: Readonly<Record<string, string | number | boolean>>;
}

/** One connection of a peer, as the topology knows it. */
export interface PeerConnectionStatus {
  readonly name: PeerName;
  readonly nickname: string;
  readonly address: string;
  readonly outbound: boolean;
  readonly established: boolean;
}

/** One peer of the topology. */
export interface PeerStatus {
  readonly name: PeerName;
  readonly nickname: string;
  readonly uid: bigint;
  readonly shortId: number;
  readonly version: number;
  readonly connections: readonly PeerConnectionStatus[];
}

export interface RouterStatus {
  readonly protocol: 'weave';
  readonly protocolMinVersion: number;
  readonly protocolMaxVersion: number;
  readonly encryption: boolean;
  readonly peerDiscovery: boolean;
  readonly name: PeerName;
  readonly nickname: string;
  readonly port: number;
  readonly peers: readonly PeerStatus[];
  readonly unicastRoutes: readonly { dest: PeerName; via: PeerName }[];
  readonly broadcastRoutes: readonly { source: PeerName; via: readonly PeerName[] }[];
  readonly connections: readonly ConnectionStatus[];
  readonly terminationCount: number;
  /** Direct targets (user-given peers). */
  readonly targets: readonly string[];
  readonly trustedSubnets: readonly string[];
}

/** A block of `weave status` for one service, e.g. `ipam` with `Status`, `Range`, `DefaultSubnet`. */
export interface StatusSection {
  readonly service: string;
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
