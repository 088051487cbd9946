import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { WeaveError } from '@weave-ts/core';
import type { Store } from './store.js';

/**
 * A {@link Store} in one JSON file, rewritten atomically on every `set`:
 *
 * ```
 * { "format": "weave-ts-ipam", "version": 1,
 *   "records": { "peername": "0a:00:00:00:00:01",
 *                "ring": { "start": …, "end": …, "peer": …, "entries": [{token, peer, version, free}], "seeds": [] },
 *                "ownedAddresses/<container id>": { "isContainer": true, "cidrs": ["10.32.0.1/12"] }, … } }
 * ```
 *
 * A write goes to a temporary file in the same directory, which is fsynced, renamed over the real
 * file, and then the directory is fsynced, so a crash leaves either the old or the new file, never a
 * torn one. (Upstream keeps the same records gob-encoded in BoltDB; this format is our own.)
 */
export const FILE_STORE_FORMAT = 'weave-ts-ipam';
/** Version of the file layout above. */
export const FILE_STORE_VERSION = 1;

/** The store file exists but is not a store this code can read. */
export class StoreFileError extends WeaveError {
  /** The error's stable name: `'StoreFileError'`. */
  override name = 'StoreFileError';
  constructor(
    /** The file concerned. */
    readonly path: string,
    reason: string,
  ) {
    super(`cannot read IPAM store ${path}: ${reason}`);
  }
}

export class FileStore implements Store {
  /** The file holding the records. */
  readonly path: string;
  #records: Record<string, unknown>;

  /** Opens (or, on the first `set`, creates) the store at `path`. @throws StoreFileError */
  constructor(path: string) {
    this.path = path;
    this.#records = readRecords(path);
  }

  get(key: string): unknown {
    return Object.hasOwn(this.#records, key) ? structuredClone(this.#records[key]) : undefined;
  }

  keys(): string[] {
    return Object.keys(this.#records);
  }

  set(records: Readonly<Record<string, unknown>>): void {
    const next = { ...this.#records };
    for (const [key, value] of Object.entries(records)) {
      if (value === undefined) delete next[key];
      else next[key] = structuredClone(value);
    }
    const text = JSON.stringify({ format: FILE_STORE_FORMAT, version: FILE_STORE_VERSION, records: next });
    writeAtomically(this.path, text);
    this.#records = next;
  }
}

function readRecords(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new StoreFileError(path, (error as Error).message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StoreFileError(path, (error as Error).message);
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    (parsed as { format?: unknown }).format !== FILE_STORE_FORMAT
  ) {
    throw new StoreFileError(path, 'not a weave-ts IPAM store');
  }
  const { version, records } = parsed as { version?: unknown; records?: unknown };
  if (version !== FILE_STORE_VERSION)
    throw new StoreFileError(path, `unsupported version ${String(version)}`);
  if (typeof records !== 'object' || records === null || Array.isArray(records)) {
    throw new StoreFileError(path, 'records missing');
  }
  return records as Record<string, unknown>;
}

function writeAtomically(path: string, text: string): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  // The rename is only durable once the directory entry is.
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
