import { rmSync } from 'node:fs';
import type { CliContext } from '../context.js';
import { daemonState, isWeaverAlive, removePidFile, sleep, stopDaemon } from '../daemon.js';
import { CliExit, UsageError } from '../errors.js';
import { parseFlags } from '../parse-flags.js';

/**
 * `weave reset [--force]`: a running weaver hands its address ranges to another peer (DELETE
 * /peer) and is stopped; its database is deleted, and the weave bridge, weave's iptables chains and
 * the host ends of container veths are removed. A weaver that died (pid file left) must be re-launched first, or
 * `--force` given, as upstream.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, tokens } = parseFlags(args, { force: { type: 'boolean' } });
  if (positionals.length !== 0 || tokens.length > 1) throw new UsageError();
  const force = values.force === true;
  const state = daemonState(ctx.paths);
  if (state.kind === 'stopped' && !force) {
    throw new CliExit(
      'ERROR: weave is not running; unable to remove from cluster.\nRe-launch weave before reset or use --force to override.',
      1,
    );
  }
  if (state.kind === 'running' || (state.kind === 'absent' && (await ctx.isRunning()))) {
    try {
      await ctx.request('DELETE', '/peer', { timeoutMs: 10_000 });
    } catch {
      // as upstream: `call_weave DELETE /peer || true`
    }
    await sleep(500); // let the broadcast of the handed-over ranges go out
  }
  if (state.kind === 'running' && isWeaverAlive(state.pid)) await stopDaemon(ctx.paths, state.pid);
  removePidFile(ctx.paths);
  rmSync(ctx.paths.dbDir, { recursive: true, force: true });

  const host = await import('@weave-ts/host');
  // weaver removes its iptables chains on DELETE /peer; one that was killed left them behind.
  try {
    await new host.ExposeRules().teardown();
  } catch {
    // no iptables here
  }
  await host.deleteLink('weave', { ifExists: true });
  for (const link of await host.listLinks()) {
    if (/^vethwe(pl|-)/.test(link.name)) await host.deleteLink(link.name, { ifExists: true });
  }
  return 0;
}
