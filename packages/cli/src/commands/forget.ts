import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** `weave forget <peer> ...`: POST /forget. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length === 0) throw new UsageError();
  ctx.out(await ctx.call('POST', '/forget', { form: args.map((p) => ['peer', p] as [string, string]) }));
  return 0;
}
