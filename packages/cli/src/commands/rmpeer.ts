import { idSegment } from '../addr-args.js';
import type { CliContext } from '../context.js';
import { CliExit, UsageError } from '../errors.js';

/**
 * `weave rmpeer <peer_id> ...`: DELETE /peer/<id> for each; prints weaver's `N IPs taken over
 * from X`. Exit 1 if any failed (the others are still done).
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length === 0) throw new UsageError();
  let res = 0;
  for (const peer of args) {
    try {
      ctx.out(await ctx.call('DELETE', `/peer/${idSegment(peer)}`));
    } catch (err) {
      if (!(err instanceof CliExit)) throw err;
      if (err.message !== '') ctx.err(`${err.message}\n`);
      res = 1;
    }
  }
  return res;
}
