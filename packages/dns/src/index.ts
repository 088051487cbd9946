export type { Entry } from './entry.js';
export { Entries, type EntryChangeListener } from './entries.js';
export { ClockSkewError, InvalidIPv4Error, InvalidNameGossipError } from './errors.js';
export { GobEntry, GobNameGossip, MAX_NAME_GOSSIP_ENTRIES, NameGossipData } from './gossip-data.js';
export { formatIPv4, parseIPv4 } from './ipv4.js';
export {
  DEFAULT_DOMAIN,
  EXTERN_CONTAINER_ID,
  GOSSIP_WINDOW_SECONDS,
  NAMESERVER_CHANNEL,
  Nameserver,
  type NameserverEvents,
  type NameserverOptions,
  TOMBSTONE_TIMEOUT_SECONDS,
} from './nameserver.js';
export {
  DEFAULT_TTL,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  DNS_TCP_PAUSE_BYTES,
  DnsServer,
  type DnsServerAddress,
  type DnsServerOptions,
  DnsServerStateError,
  defaultRecursionNetworks,
} from './server.js';
export {
  type DnsEntryStatus,
  type DnsStatus,
  dnsStatus,
  dnsStatusSection,
  formatDnsStatus,
  liveEntryCount,
} from './status.js';
export {
  parseResolvConf,
  ResolvConfUpstream,
  type ResolvConfOptions,
  type UpstreamSource,
} from './upstream.js';
