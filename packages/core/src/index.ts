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
