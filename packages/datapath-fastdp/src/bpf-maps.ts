/** A MAC address as a 48-bit number (core's `MacKey`). */
type MacKey = number;
import { isIPv4 } from 'node:net';

/**
 * Byte layouts of the BPF maps in `bpf/fastdp.c` (little-endian, as on x86-64 and arm64), and the
 * `bpftool` lines that write them.
 *
 * ```
 * cfg[0]         vxlan_ifindex u32 | port_ifindex u32 | miss_ifindex u32 | local_short u32 |
 *                generation u32 | reserved u32                                     (24 bytes)
 * send_flows     key: src MAC[6] | dst MAC[6]                                      (12 bytes)
 *                val: remote IPv4 u32 (host order) | tunnel id u32 | generation u32 |
 *                     claimed u32 | refresh ns u64 | expires ns u64 (CLOCK_MONOTONIC) (32 bytes)
 * deliver_flows  key: src MAC[6] | dst MAC[6] | src short ID u16 | reserved u16   (16 bytes)
 *                val: generation u32 | claimed u32 | refresh ns u64 | expires ns u64 (24 bytes)
 * local_ports    key: MAC u64 (bytes 0..5); val: bridge port ifindex u32, generation u32
 * stats          per-CPU u64 counters 0..4 (sent, delivered, miss out, miss in, errors)
 * ```
 */

/** Map names as pinned by `bpftool prog loadall … pinmaps DIR`. */
export const BpfMap = {
  /** The config array (one entry). */
  cfg: 'cfg',
  /** Send flows. */
  sendFlows: 'send_flows',
  /** Deliver flows. */
  deliverFlows: 'deliver_flows',
  /** Local MAC → bridge port, learnt by fdp_egress. */
  localPorts: 'local_ports',
  /** Per-CPU counters. */
  stats: 'stats',
} as const;

/** Program names as pinned by `bpftool prog loadall`. */
export const BpfProgram = {
  /** On the port TAP's egress. */
  egress: 'fdp_egress',
  /** On the VXLAN device's ingress. */
  ingress: 'fdp_ingress',
} as const;

/** What `cfg[0]` holds. */
export interface FastdpConfig {
  /** The VXLAN device. */
  readonly vxlanIfindex: number;
  /** The TAP the router's local port reads. */
  readonly portIfindex: number;
  /** The miss TAP. */
  readonly missIfindex: number;
  /** Our short ID. */
  readonly localShortId: number;
  /** Flows of another generation are ignored. */
  readonly generation: number;
}

function u32(view: DataView, offset: number, v: number): void {
  view.setUint32(offset, v >>> 0, true);
}

function putMac(out: Uint8Array, offset: number, mac: MacKey): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  out[offset] = (hi >>> 8) & 0xff;
  out[offset + 1] = hi & 0xff;
  out[offset + 2] = (lo >>> 24) & 0xff;
  out[offset + 3] = (lo >>> 16) & 0xff;
  out[offset + 4] = (lo >>> 8) & 0xff;
  out[offset + 5] = lo & 0xff;
}

/** An IPv4 address as the number `bpf_tunnel_key.remote_ipv4` wants (10.0.0.2 → 0x0a000002). */
export function ipv4ToNumber(ip: string): number {
  if (!isIPv4(ip)) throw new RangeError(`not an IPv4 address: ${ip}`);
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** The dotted form of an IPv4 number. */
export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

/** The 24-byte value of `cfg[0]`. */
export function encodeConfig(c: FastdpConfig): Uint8Array {
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  u32(v, 0, c.vxlanIfindex);
  u32(v, 4, c.portIfindex);
  u32(v, 8, c.missIfindex);
  u32(v, 12, c.localShortId);
  u32(v, 16, c.generation);
  return out;
}

/** The 12-byte key of a send flow. */
export function encodeSendKey(srcMac: MacKey, dstMac: MacKey): Uint8Array {
  const out = new Uint8Array(12);
  putMac(out, 0, srcMac);
  putMac(out, 6, dstMac);
  return out;
}

/** When a flow hands the router one frame (`refreshNs`) and when it stops carrying any (`expiresNs`). */
export interface FlowTimes {
  /** CLOCK_MONOTONIC ns after which one frame goes to the router. */
  readonly refreshNs: bigint;
  /** CLOCK_MONOTONIC ns after which the flow carries nothing. */
  readonly expiresNs: bigint;
}

/** The 32-byte value of a send flow (`claimed` starts at 0). */
export function encodeSendValue(
  remoteIp: string,
  tunnelId: number,
  generation: number,
  t: FlowTimes,
): Uint8Array {
  const out = new Uint8Array(32);
  const v = new DataView(out.buffer);
  u32(v, 0, ipv4ToNumber(remoteIp));
  u32(v, 4, tunnelId);
  u32(v, 8, generation);
  v.setBigUint64(16, t.refreshNs, true);
  v.setBigUint64(24, t.expiresNs, true);
  return out;
}

/** The 16-byte key of a deliver flow. */
export function encodeDeliverKey(srcShortId: number, srcMac: MacKey, dstMac: MacKey): Uint8Array {
  const out = new Uint8Array(16);
  putMac(out, 0, srcMac);
  putMac(out, 6, dstMac);
  new DataView(out.buffer).setUint16(12, srcShortId, true);
  return out;
}

/** The 24-byte value of a deliver flow (`claimed` starts at 0). */
export function encodeDeliverValue(generation: number, t: FlowTimes): Uint8Array {
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  u32(v, 0, generation);
  v.setBigUint64(8, t.refreshNs, true);
  v.setBigUint64(16, t.expiresNs, true);
  return out;
}

/** Flow times for a flow installed now with lifetime `ttlMs`: refresh after it, expiry 50 % later. */
export function flowTimes(ttlMs: number): FlowTimes {
  return { refreshNs: monotonicNsIn(ttlMs), expiresNs: monotonicNsIn(ttlMs * 1.5) };
}

/** Bytes as bpftool's `hex 0a 00 …` argument. */
export function bpftoolHex(bytes: Uint8Array): string {
  let s = 'hex';
  for (const b of bytes) s += ` ${b.toString(16).padStart(2, '0')}`;
  return s;
}

/** One `bpftool batch` line that writes `key → value` into the pinned map at `path`. */
export function mapUpdateLine(path: string, key: Uint8Array, value: Uint8Array): string {
  return `map update pinned ${path} key ${bpftoolHex(key)} value ${bpftoolHex(value)}`;
}

/** The CLOCK_MONOTONIC time in nanoseconds (what `bpf_ktime_get_ns` reads), `ms` from now. */
export function monotonicNsIn(ms: number): bigint {
  return process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
}
