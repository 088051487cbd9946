/**
 * Numbers of Weave's fast datapath (`router/fastdp.go`, `net/bridge.go`). Durations in milliseconds.
 *
 * ```
 * +----+-----+-------+----------+-----------------------+
 * | IP | UDP | VXLAN | overlay  | overlay IP packet     |
 * |    |     |       | Ethernet |                       |
 * +----+-----+-------+----------+-----------------------+
 * <-20-><-8--><--8--><--- 14 ---><-------- mtu --------->
 * ```
 * 1410 = 1460 (GCE) − 50; 1376 = 1410 − 34 (room for IPsec ESP), the default since Weave 1.9.
 */

/** The datapath (and so container) MTU fastdp uses unless told otherwise. */
export const FASTDP_DEFAULT_MTU = 1376;
/** Bytes of the VXLAN header in front of every tunnelled frame. */
export const VXLAN_HEADER_SIZE = 8;
/** Bytes of the overlay frame's Ethernet header. */
export const ETHERNET_OVERHEAD = 14;
/** Bytes around a frame on the underlay: IPv4 20 + UDP 8 + VXLAN 8. */
export const VXLAN_OVERHEAD = 20 + 8 + VXLAN_HEADER_SIZE;
/** Short IDs are 12 bits. */
export const SHORT_ID_BITS = 12;
/** The largest short ID. */
export const MAX_SHORT_ID = (1 << SHORT_ID_BITS) - 1;

/** Heartbeat interval until the remote acknowledges one. */
export const FAST_HEARTBEAT_MS = 500;
/** Heartbeat interval once acknowledged. */
export const SLOW_HEARTBEAT_MS = 10_000;
/** Silence after which the forwarder reports itself unhealthy (6 × the slow interval). */
export const HEARTBEAT_TIMEOUT_MS = 6 * SLOW_HEARTBEAT_MS;
/** How long an installed kernel flow lives before the router must see one of its frames again. */
export const FLOW_TTL_MS = 10_000;

/**
 * Fastdp control message sub-tags over the TCP control connection (framed by the overlay switch as
 * `[index][sub-tag][body]`).
 */
export const FastdpControlTag = {
  /** Empty body: "your heartbeat reached me through the tunnel". */
  HeartbeatAck: 0,
  /** IPsec SA offer (`nonce[32] ‖ SPI uint32 BE ‖ 28 zero bytes`); not implemented here. */
  CryptoInitSARemote: 1,
} as const;

/** One of {@link FastdpControlTag}'s values. */
export type FastdpControlTag = (typeof FastdpControlTag)[keyof typeof FastdpControlTag];
