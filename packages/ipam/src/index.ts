// Public surface of @weave-ts/ipam.
export * from './address.js';
export * from './errors.js';
export type { RingEntry, RingState } from './ring-entries.js';
export { ringInvariantError } from './ring-entries.js';
export { Ring, TRANSFER_VERSION_BUMP, type HasAllocations, type RangeInfo } from './ring.js';
export { Space } from './space.js';
export * from './paxos.js';
export * from './ring-wire.js';
export * from './allocator-errors.js';
export { Allocator, TICK_INTERVAL_MS, CONTAINER_DIED_TIMEOUT_MS } from './allocator.js';
export type {
  AllocatorOptions,
  AllocateOptions,
  ClaimOptions,
  AllocatorEvents,
  TakeoverOptions,
} from './allocator.js';
export { hasOwnerMajority, pickHeir } from './reclaim.js';
export { createRouterAllocator, type RouterAllocatorOptions } from './router-allocator.js';
export type { InitMode } from './init-mode.js';
export { parseInitMode, quorumForClusterSize, quorumFromTargets, normalizePeerNames } from './init-mode.js';
export { type Store, MemoryStore } from './store.js';
export { FileStore, StoreFileError, FILE_STORE_FORMAT, FILE_STORE_VERSION } from './file-store.js';
export { RecordName } from './persistence.js';
export { OwnedAddresses, type OwnedData, type OwnedRecord } from './owned.js';
export * from './ipam-status.js';
export {
  IPAM_CHANNEL,
  IpamMessageKind,
  gossipStateType,
  type GossipStateWire,
  type IpamGossipState,
  encodeGossipState,
  decodeGossipState,
  encodeRangeMessage,
  decodeRangeMessage,
  IpamGossipData,
} from './ipam-gossip.js';
export { MAX_CLAIM_TRY_COUNT } from './operations.js';
