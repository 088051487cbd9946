// Public surface of @weave-ts/datapath-sleeve.
export * from './constants.js';
export {
  HeartbeatTimeoutError,
  PacketDecodingError,
  SleeveStoppedError,
  AddressInUseError,
} from './errors.js';
export { SleeveOverlay, type SleeveOverlayOptions } from './sleeve-overlay.js';
export { SleeveForwarder, endpointString } from './forwarder.js';
export type { SleeveLogger } from './sleeve-logger.js';
export type { SleeveCounters, SleeveDiagnostics, SleeveForwarderStatus } from './sleeve-diagnostics.js';
export { bindSleeveOverlay, type BindSleeveOverlayOptions } from './bind.js';
export {
  type SleeveSocket,
  type SleeveSendOptions,
  type MessageTooBig,
  type ReceivedDatagram,
  type DatagramSleeveSocketOptions,
  sleeveSocketOverDatagram,
} from './sleeve-socket.js';
export { bindNodeDgramSocket, nodeDgramTransport, type NodeDgramSocketOptions } from './node-dgram-socket.js';
export {
  SimulatedUnderlay,
  type SimulatedUnderlayOptions,
  type UnderlayPath,
  type UnderlayDatagram,
  type UnderlayStats,
} from './simulated-underlay.js';
export {
  type FrameEncoder,
  type FrameRecordVisitor,
  PlainFrameEncoder,
  iterateFrameRecords,
  writeFrameRecord,
} from './sleeve-packet.js';
export {
  type FrameDecryptor,
  type SleeveCrypto,
  NaClFrameEncoder,
  NaClDecryptor,
  PlainDecryptor,
  createSleeveCrypto,
} from './frame-crypto.js';
export { ReplayWindow, REPLAY_WINDOW_BITS } from './replay-window.js';
export * from './special-frames.js';
export { makeIcmpFragNeeded } from './icmp.js';
export { fragmentIpv4 } from './fragment.js';
export {
  ETHERTYPE_IPV4,
  IP_PROTOCOL_ICMP,
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  internetChecksum,
  ipv4HeaderLength,
  ipv4TotalLength,
  ipv4FlagsAndOffset,
  ipv4DontFragment,
} from './ipv4.js';
export {
  bindNativeSleeveSocket,
  sleeveSocketOverNative,
  type NativeSleeveSocketOptions,
} from './native-udp-socket.js';
export { defaultSecretbox, type SecretboxChoice } from './frame-crypto.js';
export type { SleeveOffload, OffloadConnection } from './sleeve-offload.js';
export type { SharedNaClState } from './frame-crypto.js';
