import { collectCidrArgs, ipamCidrs, showAddrs } from '../addr-args.js';
import type { CliContext } from '../context.js';
import { putDnsFqdn } from '../dns-calls.js';
import { UsageError } from '../errors.js';
import { parseFlags, timesGiven } from '../parse-flags.js';

/** IPAM identifier of the host's own addresses on the bridge. */
export const EXPOSE_ID = 'weave:expose';

/**
 * `weave expose [<addr> ...] [-h <fqdn>] [--without-masquerade]`: allocates (or claims) addresses
 * for `weave:expose`, has weaver put them on the bridge with NAT and filter rules (POST
 * /expose/<ip>/<len>, `skipNAT=true` without masquerading), registers `-h`'s name, prints them.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { cidrs, rest } = collectCidrArgs(args);
  const { values, positionals, tokens } = parseFlags(rest, {
    h: { type: 'string' },
    'without-masquerade': { type: 'boolean' },
  });
  if (positionals.length !== 0 || timesGiven(tokens, 'h') > 1) throw new UsageError();
  const skipNat = values['without-masquerade'] === true;
  const fqdn = values.h as string | undefined;
  const { all } = await ipamCidrs(ctx, 'allocate', EXPOSE_ID, cidrs);
  for (const cidr of all) {
    const query: [string, string][] = skipNat ? [['skipNAT', 'true']] : [];
    await ctx.call('POST', `/expose/${cidr}`, { query });
  }
  if (fqdn !== undefined) await putDnsFqdn(ctx, EXPOSE_ID, fqdn, all);
  ctx.out(`${showAddrs(all)}\n`);
  return 0;
}
