/**
 * Numbers of Weave's sleeve protocol (`router/sleeve.go`, `router/network_router.go`,
 * `router/frame_crypto.go`). Sizes are in bytes, durations in milliseconds.
 *
 * ```
 * +----+-----+--------+--------+----------+-----------------------+
 * | IP | UDP | packet | frame  | overlay  | overlay IP packet     |
 * |    |     | header | header | Ethernet |                       |
 * +----+-----+--------+--------+----------+-----------------------+
 * <-- 28 --><- 6/30 -><- 14 ---><-- 14 ---><------ mtu ---------->
 * ```
 */

/** Bytes of the IPv4 and UDP headers around every sleeve datagram. */
export const UDP_OVERHEAD = 28;
/** Bytes of the overlay frame's own Ethernet header (not counted in an MTU). */
export const ETHERNET_OVERHEAD = 14;
/** Bytes of a binary peer name. */
export const NAME_SIZE = 6;
/** Bytes in front of each frame in a datagram: source name, destination name, uint16 length. */
export const FRAME_OVERHEAD = NAME_SIZE + NAME_SIZE + 2;
/** Bytes in front of the frames of a plain datagram: the sender's name. */
export const PLAIN_PACKET_OVERHEAD = NAME_SIZE;
/** Bytes the NaCl layer adds: the `seqNo|DF` field and the secretbox authenticator. */
export const NACL_EXTRA_OVERHEAD = 8 + 16;
/** Bytes in front of the frames of an encrypted datagram. */
export const NACL_PACKET_OVERHEAD = PLAIN_PACKET_OVERHEAD + NACL_EXTRA_OVERHEAD;
/** Underlay PMTU minus overlay MTU without encryption (1500 ⇒ 1438). */
export const PLAIN_OVERHEAD_DF = UDP_OVERHEAD + PLAIN_PACKET_OVERHEAD + FRAME_OVERHEAD + ETHERNET_OVERHEAD;
/** Underlay PMTU minus overlay MTU with encryption (1500 ⇒ 1414). */
export const NACL_OVERHEAD_DF = UDP_OVERHEAD + NACL_PACKET_OVERHEAD + FRAME_OVERHEAD + ETHERNET_OVERHEAD;

/** The overlay MTU a forwarder starts with, before PMTU discovery. */
export const DEFAULT_MTU = 65535;
/** The largest IPv4 packet; non-DF datagrams may fill it (the kernel fragments them). */
export const MAX_UDP_PACKET_SIZE = 65535;
/** Size of the all-zero special frame that checks whether IP fragments get through. */
export const FRAG_TEST_SIZE = 60001;
/** Size of the DF special frame sent to provoke `EMSGSIZE` and so learn the local PMTU. */
export const PMTU_DISCOVERY_SIZE = 60000;
/** Most frames packed into one datagram. */
export const MAX_FRAMES_PER_DATAGRAM = 100;

/** Heartbeat interval until the remote acknowledges our heartbeats. */
export const FAST_HEARTBEAT_MS = 500;
/** Heartbeat interval once the connection is established. */
export const SLOW_HEARTBEAT_MS = 10_000;
/** Silence after which the forwarder fails (`MaxMissedHeartbeats` × slow interval). */
export const HEARTBEAT_TIMEOUT_MS = 6 * SLOW_HEARTBEAT_MS;
/** How often the fragmentation test is repeated. */
export const FRAG_TEST_INTERVAL_MS = 5 * 60_000;
/** PMTU test frames sent for one candidate before it counts as too big. */
export const MTU_VERIFY_ATTEMPTS = 8;
/** Wait for the first PMTU test acknowledgement; doubled with each attempt. */
export const MTU_VERIFY_TIMEOUT_MS = 10;
/** The lower bound of the PMTU binary search (the minimum IPv4 MTU hosts must accept, 576, less headers). */
export const MTU_SEARCH_FLOOR = 552;

/**
 * Sleeve control message sub-tags, sent over the TCP control connection (`mesh.ProtocolReserved1..3`).
 * The overlay switch carries them as `[forwarder index][sub-tag][body]`.
 */
export const SleeveControlTag = {
  /** Empty body: "your heartbeat reached me". */
  ConnectionEstablished: 1,
  /** Empty body: "your fragmentation test frame reached me". */
  FragmentationReceived: 2,
  /** uint16 BE body: "your PMTU test frame of this overlay MTU reached me". */
  PMTUVerified: 3,
} as const;

/** One of {@link SleeveControlTag}'s values. */
export type SleeveControlTag = (typeof SleeveControlTag)[keyof typeof SleeveControlTag];
