/**
 * `@weave-ts/core/protocol`: the mesh protocol's internals, for tools that speak Weave's wire formats directly
 * (codecs, captures, interop tests) and for packages that implement gossip channels or datapaths.
 *
 * Everyday embedding needs only the main entry `@weave-ts/core` (or `@weave-ts/peer`). Everything here follows
 * Weave 2.8.1's wire protocol: the gob codec, the protocol header and handshake, NaCl session crypto, TCP message
 * framing, topology gossip encoding, the peer and route tables, the connection maker, the concrete TCP/UDP
 * transports, MAC learning and Ethernet helpers. These exports are stable only as far as the protocol is.
 *
 * @packageDocumentation
 */
export * from '../gob/index.js';
export * from '../protocol-errors.js';
export * from '../protocol-header.js';
export * from '../protocol-crypto.js';
export { MAX_TCP_MSG_SIZE, LENGTH_PREFIX_SIZE, frameMessage, FrameDecoder } from '../message-framing.js';
export { macFromUUID, randomMAC, readSystemFile } from '../peer-identity.js';
export {
  Peer,
  PEER_SHORT_ID_BITS,
  PEER_SHORT_ID_COUNT,
  LocalConnectionsReadOnlyError,
  isRestartedPeer,
  randomPeerUid,
  randomShortId,
  walkRoutes,
  forEachConnectedPeer,
} from '../peer.js';
export type { ConnectionSummary, PeerSummary, PeerLookup, RouteWalk } from '../peer.js';
export { LocalPeer } from '../local-peer.js';
export type { LocalConnection } from '../local-peer.js';
export { ShortIdIndex, noShortIdEffects } from '../short-id.js';
export type { ShortIdEffects } from '../short-id.js';
export { Peers, GC_DELAY_MS } from '../peers.js';
export type { PeersEvents, TopologyUpdateResult } from '../peers.js';
export {
  encodeTopology,
  decodeTopology,
  TopologyDecodeError,
  peerSummaryType,
  connectionSummaryType,
  connectionSummariesType,
  MAX_TOPOLOGY_PEERS,
  MAX_TOPOLOGY_CONNECTIONS,
} from '../topology-wire.js';
export type { TopologyEntry } from '../topology-wire.js';
export { Routes, ROUTES_RECALC_DELAY_MS } from '../routes.js';
export type { RoutesEvents } from '../routes.js';
export { TokenBucket, ACCEPT_MAX_TOKENS, ACCEPT_TOKEN_INTERVAL_MS } from '../token-bucket.js';
export * from '../features.js';
export type { MessageChannel } from '../message-channel.js';
export * from '../handshake.js';
export {
  parsePeerAddress,
  formatGoTime,
  INITIAL_RETRY_INTERVAL_MS,
  MAX_RETRY_INTERVAL_MS,
  RETRY_RESET_AFTER_MS,
  ConnectionMaker,
} from '../connection-maker.js';
export type {
  TargetState,
  MakerConnection,
  KnownPeer,
  ConnectionMakerOptions,
  ConnectionMakerEvents,
  TargetStatus,
  TargetSnapshot,
} from '../connection-maker.js';
export { TcpTransport, TcpConnection } from '../tcp-transport.js';
export type { TcpTransportOptions } from '../tcp-transport.js';
export { UdpTransport, UDP_SOCKET_BUFFER_BYTES } from '../udp-transport.js';
export type { UdpTransportOptions } from '../udp-transport.js';
export { MeshConnection, TCP_HEARTBEAT_MS, TCP_READ_TIMEOUT_MS } from '../connection.js';
export type { ConnectionHost, MeshConnectionEvents } from '../connection.js';
export { OpaqueGossipData } from '../surrogate-gossip.js';
export { TOPOLOGY_CHANNEL, UnexpectedTopologyUnicastError } from '../topology-gossip.js';
export { ProtocolTag } from '../protocol-tags.js';
export * from '../ethernet.js';
export { MacCache, MAC_MAX_AGE_MS } from '../mac-cache.js';
export type { MacAddResult, MacCacheOptions } from '../mac-cache.js';
export { L2Forwarder } from '../l2-forwarder.js';
export type {
  L2Routes,
  L2ForwarderEvents,
  L2ForwarderOptions,
  L2ForwarderStats,
  MacMove,
} from '../l2-forwarder.js';
export { concatBytes } from '../bytes.js';
