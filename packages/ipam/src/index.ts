// Public surface of @weave-ts/ipam.
export {};
export * from './address.js';
export * from './errors.js';
export type { RingEntry, RingState } from './ring-entries.js';
export { ringInvariantError } from './ring-entries.js';
export { Ring, TRANSFER_VERSION_BUMP, type HasAllocations, type RangeInfo } from './ring.js';
export { Space } from './space.js';
export * from './paxos.js';
export * from './ring-wire.js';
