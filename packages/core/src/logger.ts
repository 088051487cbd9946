/** Where components write their log lines (upstream's wording, e.g. `connection shutting down due to error: …`). */
export interface Logger {
  /** Logs a routine event. */
  info(message: string): void;
  /** Logs something that went wrong but was handled. */
  warn(message: string): void;
}

/** Discards everything: the default for embedded use and tests. */
export const silentLogger: Logger = { info() {}, warn() {} };

/** Writes to the console with a prefix (e.g. the peer's name). */
export function consoleLogger(prefix = ''): Logger {
  return {
    info: (m) => console.log(`${prefix}${m}`),
    warn: (m) => console.warn(`${prefix}${m}`),
  };
}
