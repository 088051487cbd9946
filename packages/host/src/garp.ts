import { isIPv4 } from 'node:net';
import { LinkNotFoundError, NetCommandError } from './errors.js';
import { errnoName, hostAddon, isNativeErrnoError } from './native.js';
import { assertIfName, netnsPath } from './names.js';
import type { InNetns } from './links.js';

/**
 * Broadcasts one gratuitous ARP request (sender = target = `address`, from the link's MAC) on
 * `ifName`, so neighbours drop stale entries for the address. Done in the native addon with a
 * packet socket, created inside `netns` when given; needs CAP_NET_RAW. Weave sends one per
 * address it puts on a container's ethwe.
 */
export function sendGratuitousArp(ifName: string, address: string, options: InNetns = {}): void {
  assertIfName(ifName);
  if (!isIPv4(address))
    throw new RangeError(`gratuitous ARP needs an IPv4 address, got ${JSON.stringify(address)}`);
  const bytes = Uint8Array.from(address.split('.').map(Number));
  try {
    hostAddon().garpSend(options.netns === undefined ? null : netnsPath(options.netns), ifName, bytes);
  } catch (err) {
    if (!isNativeErrnoError(err)) throw err;
    const command = ['gratuitous-arp', ifName, address];
    const code = errnoName(err.errno);
    if (code === 'ENODEV' || code === 'ENOENT') throw new LinkNotFoundError(command, err.message, null);
    throw new NetCommandError(command, err.message, null);
  }
}
