import type { NetworkInterfaceInfo } from 'node:os';
import { defaultRecursionNetworks } from '@weave-ts/dns';

/** The interface the Docker proxy's containers reach the host through. */
const DOCKER_BRIDGE = 'docker0';

/**
 * The networks a peer's DNS server forwards queries upstream for when `dns.recursionFrom` is not
 * given: loopback, the IPAM range (when IPAM is on), and the DNS server's own default for the listen
 * address (the subnet of the interface holding it). On the wildcard `0.0.0.0` that default would be
 * every local subnet, so instead only the `docker0` subnet is added (when `docker0` has an IPv4
 * address), for containers the Docker proxy sends through it.
 */
export function peerRecursionNetworks(
  listenHost: string,
  ipamRange: string | undefined,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): string[] {
  const wildcard = listenHost === '0.0.0.0';
  // With no interfaces, the DNS default is loopback alone.
  const out = new Set(defaultRecursionNetworks(listenHost, wildcard ? {} : interfaces));
  if (ipamRange !== undefined) out.add(ipamRange);
  if (wildcard) {
    for (const a of interfaces[DOCKER_BRIDGE] ?? []) {
      if (a.family === 'IPv4' && a.cidr !== null) out.add(a.cidr);
    }
  }
  return [...out];
}
