/**
 * Errors a verb raises to end the command. The entry point prints the message (if any) to stderr
 * and exits with the code, the way the upstream `weave` script does.
 */

/** Ends the command with `exitCode`, printing `message` (one or more lines) to stderr when given. */
export class CliExit extends Error {
  /** The error's stable name: `'CliExit'`. */
  override readonly name: string = 'CliExit';
  /** Process exit status. */
  readonly exitCode: number;
  /** Whether message should be printed (an empty message prints nothing). */
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Wrong arguments: the usage text goes to stderr and the command exits with 1 (upstream `usage`). */
export class UsageError extends CliExit {
  /** The error's stable name: `'UsageError'`. */
  override readonly name: string = 'UsageError';
  constructor(message = '') {
    super(message, 1);
  }
}
