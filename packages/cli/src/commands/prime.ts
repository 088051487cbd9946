import type { CliContext } from '../context.js';

/** `weave prime`: GET /ring, which returns once the IPAM ring exists. */
export async function run(_args: string[], ctx: CliContext): Promise<number> {
  ctx.out(await ctx.call('GET', '/ring', { timeoutMs: 24 * 3600_000 }));
  return 0;
}
