// Public surface of @weave-ts/datapath-fastdp.
export * from './constants.js';
export * from './errors.js';
export {
  tunnelIdFor,
  peersOfTunnelId,
  writeVxlanHeader,
  vxlanHeader,
  readVxlanHeader,
  type TunnelPeers,
} from './tunnel-id.js';
export {
  makeHeartbeatFrame,
  parseHeartbeat,
  isSpecialFrame,
  MIN_HEARTBEAT_SIZE,
  type ParsedHeartbeat,
  type ValidHeartbeat,
  type IgnoredHeartbeat,
} from './heartbeat.js';
export type {
  FastdpDataplane,
  TunnelFrame,
  TunnelFrameHandler,
  SendFlow,
  DeliverFlow,
  TunnelSendResult,
  DataplaneStats,
} from './dataplane.js';
export {
  type ShortIdDirectory,
  type ShortIdSource,
  type ShortIdPeer,
  type ShortIdPeers,
  shortIdsOfRouter,
} from './short-ids.js';
export {
  FastdpForwarder,
  type FastdpForwarderHost,
  type FastdpForwarderStatus,
  type HeartbeatTimings,
} from './forwarder.js';
export {
  FastdpOverlay,
  type FastdpOverlayOptions,
  type FastdpCounters,
  type FastdpDiagnostics,
} from './fastdp-overlay.js';
export {
  KernelDataplane,
  type KernelDataplaneOptions,
  type KernelObjectNames,
  kernelObjectNames,
  removeKernelObjects,
  removeStalePins,
  ensureBpffs,
  FASTDP_BPF_OBJECT,
  FALLBACK_BPFFS,
} from './kernel-dataplane.js';
export {
  BpfMap,
  BpfProgram,
  type FastdpConfig,
  encodeConfig,
  encodeSendKey,
  encodeSendValue,
  encodeDeliverKey,
  encodeDeliverValue,
  flowTimes,
  type FlowTimes,
  ipv4ToNumber,
  numberToIpv4,
} from './bpf-maps.js';
export { probeFastdp, type FastdpProbe, type ProbeFastdpOptions } from './probe.js';
export { bindFastdpOverlay, type BindFastdpOverlayOptions } from './bind.js';
