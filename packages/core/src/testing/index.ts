// Test helpers for orchestrators and our own suites: @weave-ts/core/testing. Append-only for now.
export { createStreamPair, type StreamPairOptions } from './stream-pair.js';
export { VirtualClock } from './virtual-clock.js';
export { SeededRandom } from './seeded-random.js';
export { SimNetwork, SimHostKilledError, SimNetworkBusyError } from './sim-network.js';
export type { SimNetworkOptions, SimRunOptions, SimNetworkStats } from './sim-network.js';
export * from './memory-datapath.js';
export * from './frame-builder.js';
export * from './memory-local-port.js';
export { advanceSettled } from './advance-settled.js';
export { runUntil, SimTimeoutError, SimStalledError } from './run-until.js';
export type { RunUntilOptions, RunUntilTarget } from './run-until.js';
export { startAndConverge } from './converge-routers.js';
export { simRouterOptions } from './sim-router-options.js';
export { caught, caughtWithHeapGrowth, gobMessages, gobUint, replaceGobValue } from './hostile-input.js';
export type { CaughtWithHeapGrowth } from './hostile-input.js';
