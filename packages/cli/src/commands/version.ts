import { spawnSync } from 'node:child_process';
import type { CliContext } from '../context.js';
import { weaverCommand } from '../daemon.js';
import { UsageError } from '../errors.js';
import { cliVersion } from '../version.js';

/** `weave version`: this script's version, then weaver's (`weaver --version`). */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length !== 0) throw new UsageError();
  ctx.out(`weave script ${cliVersion()}\n`);
  const cmd = weaverCommand(ctx.env);
  if (cmd === undefined) {
    ctx.err('Unable to find weaver.\n');
    return 0;
  }
  const { NODE_EXTRA_CA_CERTS: _drop, ...env } = ctx.env;
  const res = spawnSync(cmd.file, [...cmd.args, '--version'], { env, encoding: 'utf8', timeout: 30_000 });
  if (res.status === 0 && res.stdout.trim() !== '')
    ctx.out(res.stdout.endsWith('\n') ? res.stdout : `${res.stdout}\n`);
  else ctx.err('Unable to find weaver.\n');
  return 0;
}
