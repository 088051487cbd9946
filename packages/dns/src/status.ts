import type { StatusSection } from '@weave-ts/core';
import type { Entry } from './entry.js';
import { formatIPv4 } from './ipv4.js';
import type { Nameserver } from './nameserver.js';
import type { DnsServer } from './server.js';

/** One record as `/report` shows it (upstream `EntryStatus`; Go field names, as in the JSON). */
export interface DnsEntryStatus {
  /** The fully qualified name. */
  Hostname: string;
  /** The peer that registered it. */
  Origin: string;
  /** The container it belongs to. */
  ContainerID: string;
  /** The IPv4 address. */
  Address: string;
  /** The entry's version. */
  Version: number;
  /** When it was deleted (unix seconds), 0 while live. */
  Tombstone: number;
}

/** The `DNS` section of `/report` and of `weave status` (upstream `nameserver.Status`). */
export interface DnsStatus {
  /** The domain served, with a trailing dot (e.g. `weave.local.`). */
  Domain: string;
  /** The upstream servers queries outside the domain go to. */
  Upstream: string[];
  /** The address the DNS server listens on. */
  Address: string;
  /** The TTL of answers, in seconds. */
  TTL: number;
  /** Every record, tombstones included, in storage order. */
  Entries: DnsEntryStatus[];
}

function entryStatus(e: Entry): DnsEntryStatus {
  return {
    Hostname: e.hostname,
    Origin: e.origin,
    ContainerID: e.containerId,
    Address: formatIPv4(e.addr),
    Version: e.version,
    Tombstone: e.tombstone,
  };
}

/** The DNS status of a router running `server` over `nameserver`. */
export function dnsStatus(nameserver: Nameserver, server: DnsServer): DnsStatus {
  return {
    Domain: nameserver.domain,
    Upstream: server.upstream.servers(),
    Address: server.listenAddress,
    TTL: server.ttl,
    Entries: nameserver.entries().map(entryStatus),
  };
}

/** How many records are live (the `Entries:` count of `weave status`). */
export function liveEntryCount(status: DnsStatus): number {
  return status.Entries.filter((e) => e.Tombstone === 0).length;
}

/** Go's `%-Nv` for strings: left-justified, padded to N code points. */
function padRight(s: string, width: number): string {
  const n = [...s].length;
  return n >= width ? s : s + ' '.repeat(width - n);
}

/** Go's `%N.Nv` for strings: cut to N code points, right-justified in N. */
function fixedRight(s: string, width: number): string {
  const cut = [...s].slice(0, width).join('');
  const n = [...cut].length;
  return ' '.repeat(width - n) + cut;
}

/**
 * `weave status dns`: one line per live record, `%-12v %-15v %12.12v %s` of the hostname without
 * `.<domain>`, the address, the container id (first 12 characters, right-justified) and the origin.
 */
export function formatDnsStatus(status: DnsStatus): string {
  const suffix = `.${status.Domain}`;
  let out = '';
  for (const e of status.Entries) {
    if (e.Tombstone !== 0) continue;
    const host = e.Hostname.endsWith(suffix) ? e.Hostname.slice(0, -suffix.length) : e.Hostname;
    out += `${padRight(host, 12)} ${padRight(e.Address, 15)} ${fixedRight(e.ContainerID, 12)} ${e.Origin}\n`;
  }
  return out;
}

/** The `Service: dns` block of `weave status`, for the router's status printer. */
export function dnsStatusSection(status: DnsStatus): StatusSection {
  return {
    service: 'dns',
    fields: [
      ['Domain', status.Domain],
      ['Upstream', status.Upstream.length === 0 ? 'none' : status.Upstream.join(', ')],
      ['TTL', status.TTL],
      ['Entries', liveEntryCount(status)],
    ],
  };
}
