import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** `weave connect [--replace] [<peer> ...]`: POST /connect (targets are persisted by weaver). */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length === 0) throw new UsageError();
  const form: [string, string][] = [];
  let peers = args;
  if (peers[0] === '--replace') {
    form.push(['replace', 'true']);
    peers = peers.slice(1);
  }
  for (const p of peers) form.push(['peer', p]);
  ctx.out(await ctx.call('POST', '/connect', { form }));
  return 0;
}
