import { CliContext, type CliIO } from './context.js';
import { CliExit, UsageError } from './errors.js';
import { USAGE } from './usage.js';
import { findVerb } from './verbs.js';

/**
 * Runs one `weave` command line (the arguments after `weave`) and resolves with its exit status.
 * Output goes through `io`, so tests run it in-process.
 */
export async function runWeave(argv: readonly string[], io: CliIO): Promise<number> {
  const args = [...argv];
  if (args[0] === '--local') args.shift();
  const verb = args.shift();
  if (verb === undefined) {
    io.stderr(USAGE);
    return 1;
  }
  if (verb === '--help' || verb === 'help') {
    io.stderr(USAGE);
    return 0;
  }
  const loader = findVerb(verb);
  if (loader === undefined) {
    io.stderr(`Unknown weave command '${verb}'\n${USAGE}`);
    return 1;
  }
  const ctx = new CliContext(io);
  try {
    const mod = await loader();
    return await mod.run(args, ctx);
  } catch (err) {
    if (err instanceof CliExit) {
      if (err.message !== '') io.stderr(`${err.message}\n`);
      if (err instanceof UsageError) io.stderr(USAGE);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`weave ${verb}: ${message}\n`);
    return 1;
  }
}

/** The process's own stdout, stderr and environment. */
export function processIO(): CliIO {
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
}
