import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** `weave report [-f <format>]`: GET /report as JSON, or rendered by weaver with a Go template. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length === 0) {
    ctx.out(await ctx.call('GET', '/report', { accept: 'application/json' }));
    return 0;
  }
  if (args.length !== 2 || args[0] !== '-f') throw new UsageError();
  ctx.out(await ctx.call('GET', '/report', { query: [['format', args[1] as string]] }));
  return 0;
}
