import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../parse-flags.js';

/** `weave connect [--replace] [<peer> ...]`: POST /connect (targets are persisted by weaver). */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length === 0) throw new UsageError();
  const { values, positionals: peers, tokens } = parseFlags(args, { replace: { type: 'boolean' } });
  // As upstream, --replace is only a flag in front of the peers.
  if (tokens.some((t) => t.kind === 'option' && t.index !== 0)) throw new UsageError();
  const form: [string, string][] = [];
  if (values.replace === true) form.push(['replace', 'true']);
  for (const p of peers) form.push(['peer', p]);
  ctx.out(await ctx.call('POST', '/connect', { form }));
  return 0;
}
