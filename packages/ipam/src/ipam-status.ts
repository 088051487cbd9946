import type { PeerName, StatusSection } from '@weave-ts/core';

/**
 * The allocator's state as data (upstream `ipam.Status`, the `IPAM` object of `/report`) and its text
 * forms: the `ipam` block of `weave status` and `weave status ipam`. Field names and `null`s for empty
 * lists are upstream's JSON, so a report compares with a stock router's.
 */

/** Paxos progress while the ring is being formed. */
export interface PaxosReport {
  /** Whether this peer takes part in the election (not an observer). */
  readonly Elector: boolean;
  /** How many peers' claims this peer knows. */
  readonly KnownNodes: number;
  /** How many peers must agree. */
  readonly Quorum: number;
}

/** One span of the ring. */
export interface IpamEntryReport {
  /** First address, dotted quad. */
  readonly Token: string;
  /** Addresses in the span. */
  readonly Size: number;
  /** The owning peer's name. */
  readonly Peer: string;
  /** '' when the nickname is not known. */
  readonly Nickname: string;
  /** Whether the owner is in the topology now. */
  readonly IsKnownPeer: boolean;
  /** The entry's version. */
  readonly Version: number;
}

/** A claim still waiting. */
export interface IpamClaimReport {
  /** The container id the claim is for. */
  readonly Ident: string;
  /** The address claimed, `a.b.c.d/n`. */
  readonly CIDR: string;
}

/** Upstream's `ipam.Status`. */
export interface IpamReport {
  /** Set only while awaiting consensus (or priming, for an observer). */
  readonly Paxos: PaxosReport | null;
  /** The allocation range, `a.b.c.d/n`. */
  readonly Range: string;
  /** How many addresses the range holds. */
  readonly RangeNumIPs: number;
  /** Addresses of the range held by containers here. */
  readonly ActiveIPs: number;
  /** The default subnet, `a.b.c.d/n`. */
  readonly DefaultSubnet: string;
  /** The ring's entries, or null before there is a ring. */
  readonly Entries: readonly IpamEntryReport[] | null;
  /** Claims waiting for the ring, or null when none. */
  readonly PendingClaims: readonly IpamClaimReport[] | null;
  /** `"<ident> <subnet>"` per waiting allocation. */
  readonly PendingAllocates: readonly string[] | null;
}

/** Status text of a peer with a ring whose every owner is unreachable (upstream pain point #1). */
export const STATUS_ALL_UNREACHABLE =
  "all IP ranges owned by unreachable peers - use 'rmpeer' if they are dead";
/** Status text while allocations wait for space. */
export const STATUS_WAITING = 'waiting for IP(s) to become available';

/** The `Status:` value of the `ipam` block of `weave status`. */
export function ipamStatusLine(report: IpamReport): string {
  if (report.Entries && report.Entries.length > 0) {
    if (!report.Entries.some((e) => e.Size > 0 && e.IsKnownPeer)) return STATUS_ALL_UNREACHABLE;
    if (report.PendingAllocates && report.PendingAllocates.length > 0) return STATUS_WAITING;
    return 'ready';
  }
  if (report.Paxos) {
    return report.Paxos.Elector
      ? `awaiting consensus (quorum: ${report.Paxos.Quorum}, known: ${report.Paxos.KnownNodes})`
      : 'priming';
  }
  return 'idle';
}

/** The `ipam` block of `weave status`, for `Router.statusText([…])`. */
export function ipamStatusSection(report: IpamReport): StatusSection {
  return {
    service: 'ipam',
    fields: [
      ['Status', ipamStatusLine(report)],
      ['Range', report.Range],
      ['DefaultSubnet', report.DefaultSubnet],
    ],
  };
}

/**
 * `weave status ipam`: one line per owner, `%-37v %8d IPs (%04.1f%% of total) %s`, sizes summed per
 * peer; ours first with `(N active)`, then the others with `- unreachable!` when not in the topology.
 * Upstream prints the others in Go map order (random); we print them in order of first appearance on
 * the ring, which is what the 2.8.1 captures show.
 */
export function formatIpamRanges(report: IpamReport, ourName: PeerName): string {
  const stats = new Map<string, { ips: number; nickname: string; reachable: boolean }>();
  for (const entry of report.Entries ?? []) {
    const s = stats.get(entry.Peer) ?? { ips: 0, nickname: entry.Nickname, reachable: entry.IsKnownPeer };
    s.ips += entry.Size;
    stats.set(entry.Peer, s);
  }
  const line = (peer: string, nickname: string, ips: number, info: string) =>
    `${`${peer}(${nickname})`.padEnd(37)} ${String(ips).padStart(8)} IPs (${percent(ips, report.RangeNumIPs)}% of total) ${info}\n`;
  let text = '';
  const ours = stats.get(ourName);
  if (ours) text += line(ourName, ours.nickname, ours.ips, `(${report.ActiveIPs} active)`);
  for (const [peer, s] of stats) {
    if (peer !== ourName) text += line(peer, s.nickname, s.ips, s.reachable ? '' : '- unreachable!');
  }
  return text;
}

/** Go's `%04.1f` of `float32(part) * 100 / float32(total)`. */
function percent(part: number, total: number): string {
  const value = Math.fround(Math.fround(Math.fround(part) * 100) / Math.fround(total));
  const tenths = value * 10; // exact: a float32 times 10 fits a float64
  let rounded = Math.round(tenths);
  // Go rounds an exact tie to even; Math.round rounds it up.
  if (tenths - Math.floor(tenths) === 0.5 && Math.floor(tenths) % 2 === 0) rounded = Math.floor(tenths);
  const text = `${Math.floor(rounded / 10)}.${rounded % 10}`;
  return text.padStart(4, '0');
}
