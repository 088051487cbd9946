import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where `weave launch` keeps weaver's pid file, log file and database. Upstream keeps these in
 * Docker (container state, `weavedb` volume); here they are files. Hosts simulated by network
 * namespaces share one file system, so outside the initial network namespace the directory gets
 * a per-namespace subdirectory (`netns/<ip netns name>`), which keeps state across restarts.
 */

/** Default base directory. */
export const DEFAULT_STATE_DIR = '/var/lib/weave';

/** Files of one weaver. */
export interface StatePaths {
  /** The state directory. */
  dir: string;
  /** weaver's pid file. */
  pidFile: string;
  /** weaver's log file. */
  logFile: string;
  /** `--db-prefix` handed to weaver. */
  dbPrefix: string;
  /** Directory holding weaver's database (removed by `weave reset`). */
  dbDir: string;
}

/** The state directory: `$WEAVE_STATE_DIR` verbatim, else the default (per namespace). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.WEAVE_STATE_DIR;
  if (explicit !== undefined && explicit !== '') return explicit;
  const ns = currentNetnsLabel();
  return ns === undefined ? DEFAULT_STATE_DIR : join(DEFAULT_STATE_DIR, 'netns', ns);
}

/** The file paths under the state directory. */
export function statePaths(env: NodeJS.ProcessEnv = process.env): StatePaths {
  const dir = stateDir(env);
  const dbDir = join(dir, 'db');
  return {
    dir,
    pidFile: join(dir, 'weaver.pid'),
    logFile: join(dir, 'weaver.log'),
    dbPrefix: join(dbDir, 'weave'),
    dbDir,
  };
}

/**
 * undefined in the initial network namespace (that of pid 1); else the `ip netns` name of the
 * current namespace, or `ino-<inode>` for an unnamed one.
 */
export function currentNetnsLabel(): string | undefined {
  let self: { ino: number; dev: number };
  try {
    self = statSync('/proc/self/ns/net');
  } catch {
    return undefined;
  }
  // pid 1's namespace may not be readable (EACCES in some containers): then only a named
  // namespace counts as "not the initial one".
  let isInit: boolean | undefined;
  try {
    const init = statSync('/proc/1/ns/net');
    isInit = init.ino === self.ino && init.dev === self.dev;
  } catch {
    isInit = undefined;
  }
  if (isInit === true) return undefined;
  try {
    for (const name of readdirSync('/run/netns')) {
      try {
        const st = statSync(join('/run/netns', name));
        if (st.ino === self.ino && st.dev === self.dev) return name;
      } catch {
        // a half-created or stale entry
      }
    }
  } catch {
    // no /run/netns
  }
  return isInit === false ? `ino-${self.ino}` : undefined;
}
