import { InvalidInterfaceNameError, InvalidNetnsNameError } from './errors.js';

/** Longest Linux interface name in bytes (IFNAMSIZ − 1). */
export const MAX_IFNAME_LENGTH = 15;

/** Throws InvalidInterfaceNameError unless the kernel would accept `name` as an interface name. */
export function assertIfName(name: string): void {
  const bytes = Buffer.byteLength(name);
  if (bytes < 1 || bytes > MAX_IFNAME_LENGTH || /[/:\s]/.test(name) || name === '.' || name === '..') {
    throw new InvalidInterfaceNameError(name);
  }
}

/** Throws InvalidNetnsNameError unless `name` is a plain file name `ip netns` can create under /run/netns. */
export function assertNetnsName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..') {
    throw new InvalidNetnsNameError(name);
  }
}

/** Where `ip netns add` bind-mounts a named namespace. */
export function netnsPath(name: string): string {
  assertNetnsName(name);
  return `/run/netns/${name}`;
}
