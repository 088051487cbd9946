import { collectCidrArgs, idSegment, ipamCidrs, showAddrs } from '../addr-args.js';
import { withNetnsName } from '../container-ref.js';
import type { CliContext } from '../context.js';
import { deleteDns } from '../dns-calls.js';
import { UsageError } from '../errors.js';
import { resolveContainer } from './container-common.js';

/**
 * `weave detach [<addr> ...] <container>`: looks the addresses up in IPAM (none given means
 * `net:default`), removes them from the container's ethwe (the veth goes with the last one),
 * deletes their weaveDNS names, releases the IPAM ones, and prints them.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { cidrs, rest } = collectCidrArgs(args);
  if (rest.length !== 1) throw new UsageError();
  const ref = await resolveContainer(rest[0] as string);
  const { all, ipam } = await ipamCidrs(ctx, 'lookup', ref.id, cidrs);
  const host = await import('@weave-ts/host');
  if (all.length > 0) await withNetnsName(ref, (netns) => host.detachContainer({ netns, cidr: all }));
  if (await ctx.isRunning()) await deleteDns(ctx, ref.id, all);
  for (const cidr of ipam) await ctx.call('DELETE', `/ip/${idSegment(ref.id)}/${cidr.replace(/\/.*$/, '')}`);
  ctx.out(`${showAddrs(all)}\n`);
  return 0;
}
