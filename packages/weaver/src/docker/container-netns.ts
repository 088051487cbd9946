import { randomBytes } from 'node:crypto';
import { runIp } from '@weave-ts/host';

/**
 * Gives a running container's network namespace a temporary `ip netns` name, so the iproute2-based
 * plumbing of `@weave-ts/host` (which addresses namespaces by name) can work in it:
 *
 *   ip netns attach wvc-<pid>-<rand> <pid>   …fn(name)…   ip netns delete wvc-<pid>-<rand>
 *
 * Deleting the name only unmounts /run/netns/<name>; the namespace lives on with the container.
 */
export async function withContainerNetns<T>(pid: number, fn: (netns: string) => Promise<T>): Promise<T> {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`invalid container pid ${pid}`);
  const name = `wvc-${pid}-${randomBytes(3).toString('hex')}`;
  await runIp(['netns', 'attach', name, String(pid)]);
  try {
    return await fn(name);
  } finally {
    await runIp(['netns', 'delete', name]).catch(() => {});
  }
}
