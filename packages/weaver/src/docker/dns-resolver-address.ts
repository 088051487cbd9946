import { listAddresses } from '@weave-ts/host';
import type { DockerPeer } from './docker-peer.js';

/**
 * The weaveDNS address containers are told to use (`--dns`, proxy's HostConfig.Dns, `weave dns-args`).
 * Upstream's weaveDNS listens on the docker bridge's address, reachable from every container; here the
 * DNS server's own address when it is a specific one, else (0.0.0.0 or loopback, which containers cannot
 * reach) the first IPv4 address of `docker0`, else of the weave bridge (set by `weave expose`).
 * Undefined when DNS is off, its port is not 53 (resolv.conf has no ports), or no address fits.
 */
export async function containerDnsResolver(
  peer: DockerPeer,
  options: { bridge?: string; dockerBridge?: string; netns?: string } = {},
): Promise<string | undefined> {
  const listening = peer.dns.address();
  if (listening?.port !== 53) return undefined;
  const host = listening.host;
  if (host !== '' && host !== '0.0.0.0' && host !== '::' && !host.startsWith('127.') && host !== '::1')
    return host;
  for (const dev of [options.dockerBridge ?? 'docker0', options.bridge ?? peer.datapath.bridge ?? 'weave']) {
    const addrs = await listAddresses(dev, { netns: options.netns }).catch(() => [] as string[]);
    const v4 = addrs.find((a) => /^\d+\.\d+\.\d+\.\d+\//.test(a));
    if (v4) return v4.split('/')[0];
  }
  return undefined;
}
