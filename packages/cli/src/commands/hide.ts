import { collectCidrArgs, idSegment, ipamCidrs, showAddrs } from '../addr-args.js';
import type { CliContext } from '../context.js';
import { deleteDns } from '../dns-calls.js';
import { CliExit, UsageError } from '../errors.js';
import { EXPOSE_ID } from './expose.js';

/**
 * `weave hide [<addr> ...]`: for each exposed address (looked up for `weave:expose`), asks weaver
 * to undo the expose (DELETE /expose/<ip>/<len>, which removes the address from the bridge and
 * exactly the rules expose added); with a weaver that has no such route (upstream's) the address and
 * upstream's iptables rules are removed here. Then its names and IPAM address are released.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { cidrs, rest } = collectCidrArgs(args);
  if (rest.length !== 0) throw new UsageError();
  const { all, ipam } = await ipamCidrs(ctx, 'lookup', EXPOSE_ID, cidrs);
  const host = await import('@weave-ts/host');
  const onBridge = (await host.linkExists('weave')) ? await host.listAddresses('weave') : [];
  for (const cidr of all) {
    if (!onBridge.includes(cidr)) continue;
    let done = false;
    try {
      await ctx.call('DELETE', `/expose/${cidr}`);
      done = true;
    } catch (err) {
      if (!(err instanceof CliExit && (err.exitCode === 4 || /method not allowed/i.test(err.message))))
        throw err;
    }
    if (!done) await host.hideAddress(new host.ExposeRules(), cidr);
    if (await ctx.isRunning()) await deleteDns(ctx, EXPOSE_ID, [cidr]);
  }
  for (const cidr of ipam)
    await ctx.call('DELETE', `/ip/${idSegment(EXPOSE_ID)}/${cidr.replace(/\/.*$/, '')}`);
  ctx.out(`${showAddrs(all)}\n`);
  return 0;
}
