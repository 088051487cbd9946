/**
 * `@weave-ts/core`: the everyday API of a Weave mesh peer — the {@link Router}, peer names, errors, the clock,
 * randomness and transport contracts it is built on, the overlay and datapath contracts, status types and text,
 * and the logger.
 *
 * Protocol internals (gob codec, handshake, framing, topology encoding, peer and route tables, concrete
 * transports) live in the `@weave-ts/core/protocol` subpath; the deterministic simulation in
 * `@weave-ts/core/testing`.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './peer-name.js';
export { derivePeerName } from './peer-identity.js';
export type { PeerNameSources, SystemFileReader } from './peer-identity.js';
export type { Clock, TimerHandle } from './clock.js';
export { systemClock } from './clock.js';
export type { Random } from './random.js';
export { systemRandom, randomUint64 } from './random.js';
export type * from './transport.js';
export type * from './gossip.js';
export { UnknownPeerError } from './gossip-channel.js';
export type * from './overlay.js';
export { InvalidPeerAddressError } from './connection-maker.js';
export * from './connection-errors.js';
export * from './router.js';
export * from './status.js';
export * from './logger.js';
export { NullOverlay } from './null-overlay.js';
export type * from './datapath.js';
export { DATAPATH_BATCH_SIZE, isNetworkOverlay } from './datapath.js';
export {
  OverlaySwitch,
  COMPAT_OVERLAY,
  NoCommonOverlaysError,
  NoWorkingForwardersError,
  DuplicateOverlayError,
  InvalidOverlayNameError,
} from './overlay-switch.js';
export type { NamedOverlay, OverlaySwitchOptions, OverlaySwitchEvents } from './overlay-switch.js';
export { attachNetworkRouter, NotANetworkOverlayError } from './l2-forwarder.js';
export type { NetworkRouterHost, AttachNetworkRouterOptions, NetworkRouterHandle } from './l2-forwarder.js';
