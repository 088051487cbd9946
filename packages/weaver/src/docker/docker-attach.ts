import { attachContainer, detachContainer } from '@weave-ts/host';
import type Docker from 'dockerode';
import { containerFqdn, type DockerContainerInfo, inspectRunningContainer } from './docker-container.js';
import { type DockerPeer, dnsDomainOf } from './docker-peer.js';
import { withContainerNetns } from './container-netns.js';

/**
 * `weave attach` for a Docker container, done inside the daemon (the proxy and the event follower use
 * it): addresses from IPAM (`net:default`, `net:<subnet>`, `ip:<cidr>`), then the `@weave-ts/host`
 * plumbing (veth `vethwepl<pid>` on the bridge, `ethwe` inside with the subnet mask, gratuitous ARP,
 * multicast route), then weaveDNS entries when the container's hostname is inside the weave domain.
 */

/** One address request: `{ kind: 'net', subnet?: '10.2.1.0/24' }` or `{ kind: 'ip', cidr: '10.2.1.5/24' }`. */
export type AddressSpec = { kind: 'net'; subnet?: string } | { kind: 'ip'; cidr: string };

/** A malformed WEAVE_CIDR / address argument. */
export class InvalidAddressSpecError extends Error {
  /** The error's stable name: `'InvalidAddressSpecError'`. */
  override name = 'InvalidAddressSpecError';
  constructor(
    /** The word that did not parse. */
    readonly spec: string,
  ) {
    super(`invalid address specification '${spec}': expected net:default, net:<cidr>, ip:<cidr> or <cidr>`);
  }
}

const CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;

/**
 * Parses address words as `weave attach` and WEAVE_CIDR take them (`net:default`, `net:10.2.1.0/24`,
 * `ip:10.2.1.5/24`, `10.2.1.5/24`). Returns undefined for `none` (do not attach); [] means the default
 * subnet.
 */
export function parseAddressSpecs(text: string): AddressSpec[] | undefined {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 1 && words[0] === 'none') return undefined;
  return words.map((w) => {
    if (w === 'net:default') return { kind: 'net' } as const;
    if (w.startsWith('net:') && CIDR.test(w.slice(4))) return { kind: 'net', subnet: w.slice(4) } as const;
    if (w.startsWith('ip:') && CIDR.test(w.slice(3))) return { kind: 'ip', cidr: w.slice(3) } as const;
    if (CIDR.test(w)) return { kind: 'ip', cidr: w } as const;
    throw new InvalidAddressSpecError(w);
  });
}

/** What {@link attachDockerContainer} needs. */
export interface AttachDockerContainerOptions {
  peer: DockerPeer;
  docker: Docker;
  /** Container id or name. */
  ref: string;
  /** Addresses; default one in the default subnet. */
  addresses?: readonly AddressSpec[];
  /** Skip the DNS registration. */
  withoutDns?: boolean;
  /** Default: the peer's bridge, else `weave`. */
  bridge?: string;
  /** Named netns of the bridge (tests); default ours. */
  bridgeNetns?: string;
  /** Route 224.0.0.0/4 via ethwe; default true. */
  multicastRoute?: boolean;
}

/** What was attached. */
export interface DockerAttachment {
  container: DockerContainerInfo;
  /** Addresses ethwe carries now. */
  cidrs: string[];
  /** The DNS name registered, if any. */
  fqdn: string | undefined;
}

/** Attaches a running container; on failure newly allocated addresses are released again. */
export async function attachDockerContainer(
  options: AttachDockerContainerOptions,
): Promise<DockerAttachment> {
  const { peer } = options;
  const container = await inspectRunningContainer(options.docker, options.ref);
  const specs: readonly AddressSpec[] =
    options.addresses && options.addresses.length > 0 ? options.addresses : [{ kind: 'net' }];
  const before = new Set(peer.addressesOf(container.id));
  const cidrs: string[] = [];
  try {
    for (const spec of specs) {
      if (spec.kind === 'net') cidrs.push(await peer.allocate(container.id, { subnet: spec.subnet }));
      else {
        if (!before.has(spec.cidr)) await peer.claim(container.id, spec.cidr);
        cidrs.push(spec.cidr);
      }
    }
    const attached = await withContainerNetns(container.pid, (netns) =>
      attachContainer({
        netns,
        cidr: cidrs,
        bridge: options.bridge ?? peer.datapath.bridge ?? 'weave',
        bridgeNetns: options.bridgeNetns,
        id: container.pid,
        mtu: peer.datapath.mtu,
        multicastRoute: options.multicastRoute ?? true,
      }),
    );
    let fqdn: string | undefined;
    if (!options.withoutDns) fqdn = registerDns(peer, container, cidrs);
    return { container, cidrs: attached.cidrs, fqdn };
  } catch (err) {
    for (const cidr of cidrs) {
      if (before.has(cidr)) continue;
      try {
        peer.release(container.id, cidr.split('/')[0]);
      } catch {
        // already gone
      }
    }
    throw err;
  }
}

/** Registers the container's FQDN (when inside the weave domain) for each address; returns it. */
export function registerDns(
  peer: DockerPeer,
  container: Pick<DockerContainerInfo, 'id' | 'hostname' | 'domainname'>,
  cidrs: readonly string[],
): string | undefined {
  const fqdn = containerFqdn(container);
  const domain = dnsDomainOf(peer);
  if (fqdn === undefined || domain === undefined) return undefined;
  if (!`${fqdn.replace(/\.$/, '')}.`.toLowerCase().endsWith(`.${domain.toLowerCase()}.`)) return undefined;
  for (const cidr of cidrs) peer.dns.add(container.id, cidr.split('/')[0] ?? cidr, fqdn);
  return fqdn;
}

/** `weave detach` for a Docker container: removes ethwe's addresses, releases them, drops its DNS names. */
export async function detachDockerContainer(options: {
  peer: DockerPeer;
  docker: Docker;
  ref: string;
}): Promise<string[]> {
  const container = await inspectRunningContainer(options.docker, options.ref);
  const result = await withContainerNetns(container.pid, (netns) => detachContainer({ netns }));
  options.peer.dns.remove(container.id);
  if (options.peer.addressesOf(container.id).length > 0) options.peer.release(container.id);
  return result.removed;
}
