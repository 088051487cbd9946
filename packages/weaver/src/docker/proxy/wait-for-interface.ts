/**
 * How a container created through the proxy waits for weave's interface before its own entrypoint runs.
 *
 * Upstream's proxy mounts a static helper binary (`weavewait`, from the `weavewait` volume) into the
 * container and makes it the entrypoint: `/w/w <original entrypoint> <original cmd>`; the helper blocks
 * until `ethwe` is up with its addresses and multicast route, then execs the original command.
 *
 * weave-ts ships no binary: the entrypoint becomes `/bin/sh -c <script> weave-wait <original…>`. The
 * script polls `/proc/net/route` (present in every Linux container, readable without tools) until ethwe
 * has a route — the multicast route when one is configured, which `attach` adds after the addresses,
 * else the subnet route each address brings — then `exec`s the original command with its arguments
 * untouched. Images need `/bin/sh` and `grep` (busybox, alpine, debian all have them); scratch images
 * must opt out with `WEAVE_CIDR=none` and be attached with `weave attach`.
 */

/** `$0` of the wrapper; also how a wrapped container is recognised. */
export const WAIT_MARKER = 'weave-wait';

/** The wrapper script. */
export function waitScript(multicastRoute: boolean): string {
  const pattern = multicastRoute ? '^ethwe[[:space:]]*000000E0' : '^ethwe[[:space:]]';
  return `while ! grep -q '${pattern}' /proc/net/route 2>/dev/null; do sleep 0.1; done; exec "$@"`;
}

/** The new entrypoint for a container whose command is `command` (entrypoint + cmd). */
export function wrapEntrypoint(multicastRoute: boolean): string[] {
  return ['/bin/sh', '-c', waitScript(multicastRoute), WAIT_MARKER];
}

/** Whether a container's entrypoint is our wrapper. */
export function isWrapped(entrypoint: readonly string[]): boolean {
  return entrypoint[0] === '/bin/sh' && entrypoint[1] === '-c' && entrypoint[3] === WAIT_MARKER;
}
