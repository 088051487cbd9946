// Public surface of @weave-ts/core. Append-only while parallel work is in flight.
export * from './errors.js';
export * from './peer-name.js';
export type { Clock, TimerHandle } from './clock.js';
export { systemClock } from './clock.js';
export type { Random } from './random.js';
export { systemRandom, randomUint64 } from './random.js';
export type * from './transport.js';
export type * from './gossip.js';
export type * from './overlay.js';
export * from './gob/index.js';
export * from './protocol-errors.js';
export * from './protocol-header.js';
export * from './protocol-crypto.js';
export { MAX_TCP_MSG_SIZE, LENGTH_PREFIX_SIZE, frameMessage, FrameDecoder } from './message-framing.js';
export * from './peer-identity.js';
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
} from './peer.js';
export type { ConnectionSummary, PeerSummary, PeerLookup, RouteWalk } from './peer.js';
export { LocalPeer } from './local-peer.js';
export type { LocalConnection } from './local-peer.js';
export { ShortIdIndex, noShortIdEffects } from './short-id.js';
export type { ShortIdEffects } from './short-id.js';
export { Peers, GC_DELAY_MS } from './peers.js';
export type { PeersEvents, TopologyUpdateResult } from './peers.js';
export {
  encodeTopology,
  decodeTopology,
  TopologyDecodeError,
  peerSummaryType,
  connectionSummaryType,
  connectionSummariesType,
} from './topology-wire.js';
export type { TopologyEntry } from './topology-wire.js';
export { Routes, ROUTES_RECALC_DELAY_MS } from './routes.js';
export type { RoutesEvents } from './routes.js';
export { TokenBucket, ACCEPT_MAX_TOKENS, ACCEPT_TOKEN_INTERVAL_MS } from './token-bucket.js';
export * from './features.js';
export type { MessageChannel } from './message-channel.js';
export * from './handshake.js';
export * from './connection-maker.js';
export { TcpTransport, TcpConnection } from './tcp-transport.js';
export type { TcpTransportOptions } from './tcp-transport.js';
export { UdpTransport, UDP_SOCKET_BUFFER_BYTES } from './udp-transport.js';
export type { UdpTransportOptions } from './udp-transport.js';
export * from './connection-errors.js';
export { MeshConnection, TCP_HEARTBEAT_MS, TCP_READ_TIMEOUT_MS } from './connection.js';
export type { ConnectionHost, MeshConnectionEvents } from './connection.js';
export * from './router.js';
export * from './status.js';
export * from './logger.js';
export { NullOverlay } from './null-overlay.js';
export { UnknownPeerError } from './gossip-channel.js';
export { OpaqueGossipData } from './surrogate-gossip.js';
export { TOPOLOGY_CHANNEL, UnexpectedTopologyUnicastError } from './topology-gossip.js';
export { ProtocolTag } from './protocol-tags.js';
export * from './ethernet.js';
export type * from './datapath.js';
export { DATAPATH_BATCH_SIZE, isNetworkOverlay } from './datapath.js';
export { MacCache, MAC_MAX_AGE_MS } from './mac-cache.js';
export type { MacAddResult, MacCacheOptions } from './mac-cache.js';
export {
  OverlaySwitch,
  COMPAT_OVERLAY,
  NoCommonOverlaysError,
  NoWorkingForwardersError,
  DuplicateOverlayError,
  InvalidOverlayNameError,
} from './overlay-switch.js';
export type { NamedOverlay, OverlaySwitchOptions, OverlaySwitchEvents } from './overlay-switch.js';
export { L2Forwarder, attachNetworkRouter, NotANetworkOverlayError } from './l2-forwarder.js';
export type {
  L2Routes,
  L2ForwarderEvents,
  L2ForwarderOptions,
  L2ForwarderStats,
  MacMove,
  NetworkRouterHost,
  AttachNetworkRouterOptions,
  NetworkRouterHandle,
} from './l2-forwarder.js';
export { concatBytes } from './bytes.js';
