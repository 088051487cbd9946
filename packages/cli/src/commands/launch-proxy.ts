import type { CliContext } from '../context.js';

/**
 * `weave launch-proxy [flags]`: the proxy runs inside weaver here (as in Weave 2.x), so this is
 * `weave launch-router --proxy [flags]` (no plugin unless `--plugin` is given).
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { launch } = await import('./launch.js');
  return launch(['--proxy', ...args], ctx, { dockerDefaults: false });
}
