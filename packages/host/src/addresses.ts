import { isIP } from 'node:net';
import { runIp } from './command.js';
import type { InNetns } from './links.js';
import { assertIfName } from './names.js';

/** Addresses and routes on links, through iproute2. CIDRs are `address/prefix-length` strings. */

/** A parsed CIDR such as 172.16.16.1/24 (an interface address with its subnet's prefix length). */
export interface Cidr {
  /** The address, dotted (IPv4) or colon form (IPv6). */
  address: string;
  /** The prefix length. */
  prefixLength: number;
  /** The IP version. */
  family: 4 | 6;
}

/** Parses `address/prefix`; throws RangeError for anything else. */
export function parseCidr(cidr: string): Cidr {
  const slash = cidr.indexOf('/');
  const address = slash < 0 ? cidr : cidr.slice(0, slash);
  const family = isIP(address);
  const prefixText = slash < 0 ? '' : cidr.slice(slash + 1);
  const prefixLength = Number(prefixText);
  if (family === 0 || !/^\d{1,3}$/.test(prefixText) || prefixLength > (family === 4 ? 32 : 128)) {
    throw new RangeError(`not an address with prefix length: ${JSON.stringify(cidr)}`);
  }
  return { address, prefixLength, family: family as 4 | 6 };
}

/** Adds `cidr` (address plus subnet prefix, e.g. 172.16.16.1/24) to a link. */
export async function addAddress(ifName: string, cidr: string, options: InNetns = {}): Promise<void> {
  assertIfName(ifName);
  parseCidr(cidr);
  await runIp(['address', 'add', cidr, 'dev', ifName], options.netns);
}

/** Removes `cidr` from a link. */
export async function deleteAddress(ifName: string, cidr: string, options: InNetns = {}): Promise<void> {
  assertIfName(ifName);
  parseCidr(cidr);
  await runIp(['address', 'delete', cidr, 'dev', ifName], options.netns);
}

/** The global-scope addresses of a link as CIDRs, in the kernel's order. */
export async function listAddresses(ifName: string, options: InNetns = {}): Promise<string[]> {
  assertIfName(ifName);
  const out = await runIp(['-j', 'address', 'show', 'dev', ifName], options.netns);
  const links = JSON.parse(out) as { addr_info?: { local: string; prefixlen: number; scope: string }[] }[];
  return (links[0]?.addr_info ?? [])
    .filter((a) => a.scope === 'global')
    .map((a) => `${a.local}/${a.prefixlen}`);
}

/** Adds a route to `destination` (a CIDR) out of `dev`, optionally via a gateway. */
export async function addRoute(
  destination: string,
  dev: string,
  options: InNetns & { via?: string } = {},
): Promise<void> {
  assertIfName(dev);
  parseCidr(destination);
  const via = options.via === undefined ? [] : ['via', options.via];
  await runIp(['route', 'add', destination, ...via, 'dev', dev], options.netns);
}

/** Destinations (as printed by `ip route`, e.g. `224.0.0.0/4`) of the routes out of `dev`. */
export async function listRoutes(dev: string, options: InNetns = {}): Promise<string[]> {
  assertIfName(dev);
  const routes = JSON.parse(await runIp(['-j', 'route', 'show', 'dev', dev], options.netns)) as {
    dst: string;
  }[];
  return routes.map((r) => r.dst);
}
