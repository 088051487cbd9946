import { execFile } from 'node:child_process';
import {
  AlreadyExistsError,
  LinkNotFoundError,
  NetCommandError,
  NetPermissionError,
  ToolMissingError,
} from './errors.js';
import { assertNetnsName } from './names.js';

/** Options for a plumbing command. */
export interface CommandOptions {
  /** Run inside this named network namespace (via `ip netns exec`). */
  netns?: string;
  /** Environment of the command; default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Kill the command after this many milliseconds; default 10 000. */
  timeoutMs?: number;
}

/** What a finished command printed. */
export interface CommandOutput {
  /** What the command printed on standard output. */
  stdout: string;
  /** What it printed on standard error. */
  stderr: string;
}

/**
 * Runs `file args…` without a shell (optionally inside a namespace) and resolves with its output.
 * A non-zero exit rejects with NetCommandError, or its subclasses LinkNotFoundError,
 * AlreadyExistsError and NetPermissionError when stderr says so; a missing binary rejects with
 * ToolMissingError.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandOutput> {
  const argv = options.netns === undefined ? [file, ...args] : netnsExecArgv(options.netns, file, args);
  const [bin, ...rest] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      rest,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 10_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ stdout, stderr });
        } else if ((err as NodeJS.ErrnoException).code === 'ENOENT' && err.killed !== true && stderr === '') {
          reject(new ToolMissingError(bin));
        } else {
          reject(commandError(argv, stderr, typeof err.code === 'number' ? err.code : null));
        }
      },
    );
  });
}

/** The argv that runs `file args…` inside a named namespace. */
export function netnsExecArgv(netns: string, file: string, args: readonly string[]): string[] {
  assertNetnsName(netns);
  return ['ip', 'netns', 'exec', netns, file, ...args];
}

/** Runs `ip [-n netns] args…` (iproute2) with the error mapping of runCommand. */
export async function runIp(args: readonly string[], netns?: string): Promise<string> {
  if (netns !== undefined) assertNetnsName(netns);
  const argv = netns === undefined ? args : ['-n', netns, ...args];
  return (await runCommand('ip', argv)).stdout;
}

function commandError(argv: readonly string[], stderr: string, exitCode: number | null): NetCommandError {
  if (/Operation not permitted|Permission denied/i.test(stderr))
    return new NetPermissionError(argv, stderr, exitCode);
  if (/File exists|already exists|already assigned/i.test(stderr))
    return new AlreadyExistsError(argv, stderr, exitCode);
  if (
    /Cannot find device|does not exist|No such device|No such file or directory|Cannot open network namespace/i.test(
      stderr,
    )
  ) {
    return new LinkNotFoundError(argv, stderr, exitCode);
  }
  return new NetCommandError(argv, stderr, exitCode);
}
