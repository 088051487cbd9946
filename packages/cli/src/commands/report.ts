import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../parse-flags.js';

/** `weave report [-f <format>]`: GET /report as JSON, or rendered by weaver with a Go template. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, tokens } = parseFlags(args, { f: { type: 'string' } });
  if (positionals.length !== 0 || tokens.length > 1) throw new UsageError();
  const format = values.f as string | undefined;
  if (format === undefined) {
    ctx.out(await ctx.call('GET', '/report', { accept: 'application/json' }));
    return 0;
  }
  ctx.out(await ctx.call('GET', '/report', { query: [['format', format]] }));
  return 0;
}
