import type { CliContext } from '../context.js';
import { CliExit, UsageError } from '../errors.js';

/**
 * `weave status [targets | connections | peers | dns | ipam]`: GET /status[/sub]. The full status
 * is framed by blank lines as upstream's script does; an unknown sub-command (404) prints usage.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const sub = args.length > 0;
  const url = `/status${args.map((a) => `/${encodeURIComponent(a)}`).join('')}`;
  if (!sub) ctx.out('\n');
  let res = 0;
  try {
    ctx.out(await ctx.call('GET', url));
  } catch (err) {
    if (!(err instanceof CliExit)) throw err;
    if (err.exitCode === 4) throw new UsageError(`Invalid 'weave status' sub-command: ${args.join(' ')}`);
    if (err.message !== '') ctx.err(`${err.message}\n`);
    res = err.exitCode;
  }
  if (!sub) ctx.out('\n');
  return res === 0 ? 0 : 1;
}
