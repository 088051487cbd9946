import { collectCidrArgs, ipamCidrs, showAddrs } from '../addr-args.js';
import type { CliContext } from '../context.js';
import { putDnsFqdn } from '../dns-calls.js';
import { UsageError } from '../errors.js';

/** IPAM identifier of the host's own addresses on the bridge. */
export const EXPOSE_ID = 'weave:expose';

/**
 * `weave expose [<addr> ...] [-h <fqdn>] [--without-masquerade]`: allocates (or claims) addresses
 * for `weave:expose`, has weaver put them on the bridge with NAT and filter rules (POST
 * /expose/<ip>/<len>, `skipNAT=true` without masquerading), registers `-h`'s name, prints them.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { cidrs, rest } = collectCidrArgs(args);
  let skipNat = false;
  const others: string[] = [];
  for (const a of rest) {
    if (a === '--without-masquerade') skipNat = true;
    else others.push(a);
  }
  let fqdn: string | undefined;
  if (others.length !== 0) {
    if (others.length !== 2 || others[0] !== '-h') throw new UsageError();
    fqdn = others[1];
  }
  const { all } = await ipamCidrs(ctx, 'allocate', EXPOSE_ID, cidrs);
  for (const cidr of all) {
    const query: [string, string][] = skipNat ? [['skipNAT', 'true']] : [];
    await ctx.call('POST', `/expose/${cidr}`, { query });
  }
  if (fqdn !== undefined) await putDnsFqdn(ctx, EXPOSE_ID, fqdn, all);
  ctx.out(`${showAddrs(all)}\n`);
  return 0;
}
