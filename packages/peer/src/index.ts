/**
 * `@weave-ts/peer`: a whole Weave peer in one object — router, IPAM, weaveDNS and datapath.
 *
 * ```ts
 * import { createPeer } from '@weave-ts/peer';
 * await using peer = createPeer({ port: 0, peers: ['10.0.0.1'], dns: { listen: '127.0.0.1:0' } });
 * await peer.start();
 * const cidr = await peer.allocate('web-1');          // '10.32.0.1/12'
 * peer.dns.add('web-1', cidr.split('/')[0]!, 'web.weave.local');
 * ```
 *
 * @packageDocumentation
 */
export * from './peer-errors.js';
export type * from './peer-options.js';
export type * from './peer-events.js';
export type * from './peer-report.js';
export {
  WeavePeer,
  createPeer,
  PEER_VERSION,
  type PeerState,
  type PeerAllocateOptions,
  type PeerClaimOptions,
  type ConvergeOptions,
  type PeerDatapathInfo,
  type PeerDns,
  type PeerDnsEntry,
  type DnsListenAddress,
} from './weave-peer.js';
export {
  noneDatapath,
  memoryDatapath,
  createMemoryDatapath,
  sleeveDatapath,
  fastdpDatapath,
  chooseAutoDatapath,
} from './datapath-select.js';
export {
  DEFAULT_IPAM_RANGE,
  DEFAULT_DNS_DOMAIN,
  DEFAULT_DNS_LISTEN,
  DEFAULT_BRIDGE,
  DEFAULT_SLEEVE_MTU,
} from './validate-options.js';
export { peerRecursionNetworks } from './dns-recursion.js';
export { PEER_DATA_FILE, type OwnDnsRecord } from './peer-store.js';
