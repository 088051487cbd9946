export * from './errors.js';
export {
  Tap,
  type TapOptions,
  type FramesHandler,
  TAP_BATCH_SIZE,
  TAP_MAX_FRAME_SIZE,
  VNET_HDR_SIZE,
  TapOffload,
} from './tap.js';
export { MAX_IFNAME_LENGTH, assertIfName, assertNetnsName, netnsPath } from './names.js';
export { runCommand, runIp, type CommandOptions, type CommandOutput } from './command.js';
export { createNetns, deleteNetns, listNetns, netnsExists, execInNetns, spawnInNetns } from './netns.js';
export * from './links.js';
export * from './addresses.js';
export { setSysctls } from './sysctl.js';
export { sendGratuitousArp } from './garp.js';
export * from './container.js';
export * from './test-hosts.js';
export * from './host-process.js';
export * from './test-traffic.js';
export { TapLocalPort } from './tap-local-port.js';
export * from './udp-socket.js';
export { nativeSecretbox, type NativeSecretbox } from './secretbox.js';
export {
  SleeveFastPath,
  FastPathConnection,
  FAST_PATH_FLOW_TTL_MS,
  type SleeveFastPathOptions,
  type FastPathStats,
  type FastPathConnectionState,
  type FastPathOpenResult,
} from './fastpath.js';
export * from './expose.js';
