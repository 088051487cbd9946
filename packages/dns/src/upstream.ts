import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { type Clock, systemClock } from '@weave-ts/core';

/** Where the server finds the resolvers it forwards other names to. */
export interface UpstreamSource {
  /** The upstream server addresses (IPv4 or IPv6 literals), in the order to try them. */
  servers(): string[];
}

/** How often, at most, the resolv.conf file is checked for changes (upstream: 5 s). */
export const RESOLV_CONF_RECHECK_MS = 5000;
/** The longest resolv.conf read; anything after it is ignored. */
const MAX_RESOLV_CONF_BYTES = 64 * 1024;

/** The `nameserver` addresses listed in resolv.conf text, in order. */
export function parseResolvConf(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (fields[0] === 'nameserver' && fields[1]) servers.push(fields[1]);
  }
  return servers;
}

/** How a {@link ResolvConfUpstream} is built. */
export interface ResolvConfOptions {
  /** The file to read; default `/etc/resolv.conf`. */
  path?: string;
  /** An address to leave out (our own listen IP, so we never forward to ourselves). */
  filterAddress?: string;
  /** Time for the re-check interval; default the system clock. */
  clock?: Clock;
}

/**
 * Upstream servers from a resolv.conf file, as weaveDNS reads them: the file is stat'ed at most every
 * 5 s and re-read only when its modification time changes. When it cannot be read, the last good list
 * is kept (empty at first) and the failure is kept in {@link lastError}.
 */
export class ResolvConfUpstream implements UpstreamSource {
  /** The file read. */
  readonly path: string;
  readonly #filter: string | undefined;
  readonly #clock: Clock;
  #servers: string[] = [];
  #lastCheck = Number.NEGATIVE_INFINITY;
  #mtimeMs: number | undefined;
  /** Why the last check failed, or `undefined` if it succeeded. */
  lastError: Error | undefined;

  constructor(options: ResolvConfOptions = {}) {
    this.path = options.path ?? '/etc/resolv.conf';
    this.#filter = options.filterAddress;
    this.#clock = options.clock ?? systemClock;
  }

  servers(): string[] {
    const now = this.#clock.now();
    if (now - this.#lastCheck >= RESOLV_CONF_RECHECK_MS) {
      this.#lastCheck = now;
      this.#recheck();
    }
    return this.#servers.slice();
  }

  #recheck(): void {
    try {
      const mtimeMs = statSync(this.path).mtimeMs;
      if (mtimeMs !== this.#mtimeMs) {
        this.#servers = parseResolvConf(readPrefix(this.path)).filter((s) => s !== this.#filter);
        this.#mtimeMs = mtimeMs;
      }
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
    }
  }
}

function readPrefix(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = Math.min(fstatSync(fd).size, MAX_RESOLV_CONF_BYTES);
    const buf = Buffer.alloc(size);
    const n = readSync(fd, buf, 0, size, 0);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}
