import type { Logger } from '@weave-ts/core';

/**
 * The daemon's log: one line per message in upstream weaver's format,
 * `INFO: 2026/12/04 17:00:00.123456 message`, the level cut to four letters (`DEBU`, `INFO`, `WARN`,
 * `ERRO`, `FATA`) and the local time with microseconds, as Go's `2006/01/02 15:04:05.000000`.
 */

/** Levels of `--log-level`, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_RANK: Record<LogLevel | 'fatal', number> = { debug: 0, info: 1, warning: 2, error: 3, fatal: 4 };
const LEVEL_TAG: Record<LogLevel | 'fatal', string> = {
  debug: 'DEBU',
  info: 'INFO',
  warning: 'WARN',
  error: 'ERRO',
  fatal: 'FATA',
};

/** Accepts upstream's (logrus) level names, `warn` included. @throws RangeError for anything else */
export function parseLogLevel(text: string): LogLevel {
  const t = text.toLowerCase();
  if (t === 'warn') return 'warning';
  if ((LOG_LEVELS as readonly string[]).includes(t)) return t as LogLevel;
  throw new RangeError(`not a valid logrus Level: "${text}"`);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2006/01/02 15:04:05.000000` in local time; microseconds from `hrtimeMicros` when given. */
export function formatLogTime(date: Date, micros = date.getMilliseconds() * 1000): string {
  return (
    `${date.getFullYear()}/${pad(date.getMonth() + 1)}/${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(micros, 6)}`
  );
}

/** A `Logger` (as the lower packages take) with the levels the daemon uses too. */
export interface DaemonLogger extends Logger {
  /** Logs at DEBU level. */
  debug(message: string): void;
  /** Logs at ERRO level. */
  error(message: string): void;
  /** Logs at FATA level (the caller exits). */
  fatal(message: string): void;
  /** Lines below this level are dropped. */
  readonly level: LogLevel;
}

/** Options of {@link createDaemonLogger}. */
export interface DaemonLoggerOptions {
  /** Lowest level written; default `info`. */
  level?: LogLevel;
  /** Where lines go; default process.stderr (upstream logs to stderr). */
  write?: (line: string) => void;
  /** Clock; default Date.now. */
  now?: () => number;
}

/** A logger writing upstream-format lines. */
export function createDaemonLogger(options: DaemonLoggerOptions = {}): DaemonLogger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  let lastMs = -1;
  let sub = 0;
  const emit = (lvl: LogLevel | 'fatal', message: string) => {
    if (LEVEL_RANK[lvl] < LEVEL_RANK[level]) return;
    const ms = now();
    // Millisecond clock: keep microseconds increasing within one millisecond so lines sort.
    sub = ms === lastMs ? Math.min(sub + 1, 999) : 0;
    lastMs = ms;
    const date = new Date(ms);
    write(`${LEVEL_TAG[lvl]}: ${formatLogTime(date, date.getMilliseconds() * 1000 + sub)} ${message}\n`);
  };
  return {
    level,
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warning', m),
    error: (m) => emit('error', m),
    fatal: (m) => emit('fatal', m),
  };
}
