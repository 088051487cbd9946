// Public surface of @weave-ts/peer.
export * from './peer-errors.js';
export type * from './peer-options.js';
export type * from './peer-events.js';
export type * from './peer-report.js';
export {
  WeavePeer,
  createPeer,
  type PeerState,
  type PeerAllocateOptions,
  type PeerClaimOptions,
  type ConvergeOptions,
  type PeerDatapathInfo,
  type PeerDns,
} from './weave-peer.js';
