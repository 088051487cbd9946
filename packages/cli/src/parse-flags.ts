import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';

/**
 * Flag parsing for the verbs: `node:util` `parseArgs` (a real parser, nothing to load), with the
 * spellings upstream's script accepts. Its positional grammar (address arguments, the container
 * last) stays in the verbs and `addr-args.ts`.
 */

/** A verb's flags, in `parseArgs`' form (`-x` for one-letter names, `--name` for the others). */
export type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** One word `parseArgs` found: an option, a positional or the `--` terminator. */
export type FlagToken = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/** What parseFlags found. */
export interface ParsedFlags {
  /** The flags given: booleans `true`, strings their (last) value, `multiple` ones arrays. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** The non-flag arguments, in order. */
  positionals: string[];
  /** Every word as parseArgs saw it, with its index in `args` (for word-order rules). */
  tokens: FlagToken[];
}

/** How parseFlags treats spellings beyond `-x value` / `--name value`. */
export interface ParseFlagsOptions {
  /** Long string options that may also be given as `--name=value`. */
  inline?: readonly string[];
}

/**
 * Parses `args` strictly: an unknown flag, a missing or ambiguous value, a value given to a
 * boolean, `--`, `-xVALUE` and `--name=value` (unless listed in `inline`) end the command with
 * the usage text (upstream's `usage`, exit 1).
 */
export function parseFlags(
  args: readonly string[],
  options: FlagOptions,
  opts: ParseFlagsOptions = {},
): ParsedFlags {
  let parsed: ParsedFlags;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true, tokens: true });
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError();
    throw err;
  }
  for (const t of parsed.tokens) {
    if (t.kind === 'option-terminator') throw new UsageError();
    if (t.kind === 'option' && !spelledAsDeclared(t, options, opts.inline ?? [])) throw new UsageError();
  }
  return parsed;
}

/**
 * The words of `args` as `parseArgs` reads them without `strict`: unknown flags come back as
 * tokens instead of errors, so a verb can take its own flags and pass the others on untouched
 * (by token index). Declared string options take the next word as their value.
 */
export function scanFlags(args: readonly string[], options: FlagOptions): FlagToken[] {
  return parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true }).tokens;
}

/** How many times option `name` was given. */
export function timesGiven(tokens: readonly FlagToken[], name: string): number {
  return tokens.filter((t) => t.kind === 'option' && t.name === name).length;
}

function spelledAsDeclared(
  t: Extract<FlagToken, { kind: 'option' }>,
  options: FlagOptions,
  inline: readonly string[],
): boolean {
  const short = options[t.name]?.short;
  const plain = t.name.length === 1 ? `-${t.name}` : `--${t.name}`;
  if (t.rawName !== plain && !(short !== undefined && t.rawName === `-${short}`)) return false;
  if (t.inlineValue === true) return t.rawName.startsWith('--') && inline.includes(t.name);
  return true;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
