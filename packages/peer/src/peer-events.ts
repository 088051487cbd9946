/** Where a DNS record came from, as carried by the DNS events. */
export interface DnsEntryEvent {
  /** Fully qualified name (`web.weave.local.`). */
  readonly hostname: string;
  /** Dotted IPv4 address. */
  readonly ip: string;
  /** The container the name belongs to. */
  readonly containerId: string;
  /** The peer that added it. */
  readonly origin: string;
}

/** A connection came up. */
export interface ConnectionEstablishedEvent {
  /** The remote peer's name. */
  readonly peer: string;
  /** `host:port` of the connection. */
  readonly address: string;
  /** The overlay chosen for it (`sleeve`, `fastdp`, `memory`, `none`). */
  readonly overlay: string;
}

/** A dial failed (before any handshake). */
export interface ConnectionFailedEvent {
  /** The target `host:port`. */
  readonly address: string;
  /** Upstream's error text, e.g. `dial tcp4 10.0.0.2:6783: connect: connection refused`. */
  readonly error: string;
}

/** A connection ended. */
export interface ConnectionClosedEvent {
  /** The remote peer, unless it died during the handshake. */
  readonly peer?: string;
  /** `host:port` of the connection. */
  readonly address: string;
  /** Upstream's error text, if it ended on an error. */
  readonly error?: string;
}

/** The overlay picked for a connection to `peer`. */
export interface DatapathChosenEvent {
  /** The remote peer. */
  readonly peer: string;
  /** The overlay (`sleeve`, `fastdp`, `memory`, `none`). */
  readonly overlay: string;
}

/** Events of a `WeavePeer` (eventemitter3). Emitted after the change. */
export interface PeerEvents {
  /** A peer appeared in the topology. */
  peerAdded: [name: string, nickname: string];
  /** A peer vanished from the topology (unreachable and unreferenced). */
  peerRemoved: [name: string];
  /** A connection's overlay came up. */
  connectionEstablished: [event: ConnectionEstablishedEvent];
  /** A connection attempt failed. */
  connectionFailed: [event: ConnectionFailedEvent];
  /** A connection ended. */
  connectionClosed: [event: ConnectionClosedEvent];
  /** IPAM has a ring (allocations can be served). */
  ipamReady: [];
  /** Our copy of the IPAM ring changed. */
  ringChanged: [];
  /** A DNS record was added (by us or gossip). */
  dnsEntryAdded: [entry: DnsEntryEvent];
  /** A DNS record was removed (tombstoned). */
  dnsEntryRemoved: [entry: DnsEntryEvent];
  /** The overlay for a connection was chosen. */
  datapathChosen: [event: DatapathChosenEvent];
  /** The topology changed (peers or their connections). */
  topologyChanged: [];
  /** The peer was started and is listening. */
  started: [];
  /** The peer stopped (everything released). */
  stopped: [];
}
