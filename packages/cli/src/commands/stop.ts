import type { CliContext } from '../context.js';
import { daemonState, removePidFile, stopDaemon } from '../daemon.js';
import { UsageError } from '../errors.js';

/** `weave stop`: stops the weaver started by `weave launch` (SIGTERM, then SIGKILL after 10 s). */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length !== 0) throw new UsageError();
  const state = daemonState(ctx.paths);
  if (state.kind === 'running') {
    await stopDaemon(ctx.paths, state.pid);
  } else {
    if (state.kind === 'stopped') removePidFile(ctx.paths);
    ctx.err('Weave is not running.\n');
  }
  return 0;
}
