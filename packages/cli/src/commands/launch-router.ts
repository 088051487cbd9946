import type { CliContext } from '../context.js';

/**
 * `weave launch-router [flags]`: the router alone. Unlike `weave launch`, it does not look for a
 * Docker engine, so the plugin and the proxy run only when asked for (`--plugin`, `--proxy`).
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { launch } = await import('./launch.js');
  return launch(args, ctx, { dockerDefaults: false });
}
