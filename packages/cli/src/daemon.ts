import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatePaths } from './state-dir.js';

/**
 * The weaver process behind `weave launch` / `stop` / `reset`: started in the background with its
 * output in a log file and its pid in a pid file (upstream: the `weave` container).
 */

/** State of the weaver named by the pid file. */
export type DaemonState =
  /** The pid file names a live weaver. */
  | {
      /** Discriminant. */
      kind: 'running';
      /** weaver's process id. */
      pid: number;
    }
  /** The pid file names a process that is gone (killed, crashed). */
  | {
      /** Discriminant. */
      kind: 'stopped';
      /** The process id the pid file names. */
      pid: number;
    }
  /** No pid file. */
  | {
      /** Discriminant. */
      kind: 'absent';
    };

/** Reads the pid file and checks the process. */
export function daemonState(paths: StatePaths): DaemonState {
  let text: string;
  try {
    text = readFileSync(paths.pidFile, 'utf8');
  } catch {
    return { kind: 'absent' };
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return { kind: 'stopped', pid: 0 };
  return isWeaverAlive(pid) ? { kind: 'running', pid } : { kind: 'stopped', pid };
}

/** Whether `pid` is a live (not zombie) process that looks like a weaver. */
export function isWeaverAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('weaver');
  } catch {
    return false;
  }
}

/** How to run weaver: executable and leading arguments. */
export interface WeaverCommand {
  /** The program to run. */
  file: string;
  /** Its arguments. */
  args: string[];
}

/**
 * `$WEAVER_BIN` when set (a `.ts` file runs under tsx, a `.js` file under this node, anything else
 * as an executable); else the weaver package next to this one: its built `dist/bin/weaver.js`, or
 * its `src/bin/weaver.ts` under tsx in a checkout that was not built.
 */
export function weaverCommand(env: NodeJS.ProcessEnv = process.env): WeaverCommand | undefined {
  const explicit = env.WEAVER_BIN;
  if (explicit !== undefined && explicit !== '') return commandFor(explicit);
  const built = fileURLToPath(new URL('../../weaver/dist/bin/weaver.js', import.meta.url));
  if (existsSync(built)) return commandFor(built);
  const source = fileURLToPath(new URL('../../weaver/src/bin/weaver.ts', import.meta.url));
  if (existsSync(source)) return commandFor(source);
  return undefined;
}

function commandFor(bin: string): WeaverCommand {
  if (bin.endsWith('.ts')) return { file: process.execPath, args: ['--import', tsxLoader(), bin] };
  if (bin.endsWith('.js') || bin.endsWith('.mjs')) return { file: process.execPath, args: [bin] };
  return { file: bin, args: [] };
}

function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/**
 * Starts weaver detached (own session, output appended to the log file), writes the pid file and
 * returns the pid. The environment is passed on without NODE_EXTRA_CA_CERTS (weaver needs no TLS).
 */
export function startDaemon(
  paths: StatePaths,
  command: WeaverCommand,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): number {
  mkdirSync(dirname(paths.pidFile), { recursive: true });
  mkdirSync(paths.dbDir, { recursive: true });
  const log = openSync(paths.logFile, 'a');
  const { NODE_EXTRA_CA_CERTS: _drop, ...childEnv } = env;
  try {
    const child = spawn(command.file, [...command.args, ...args], {
      detached: true,
      stdio: ['ignore', log, log],
      env: childEnv,
    });
    if (child.pid === undefined) throw new Error(`cannot start ${command.file}`);
    child.unref();
    writeFileSync(paths.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/**
 * Stops the weaver `pid`: SIGTERM, then SIGKILL if it is still alive after `graceMs`. Resolves once
 * it is gone; removes the pid file.
 */
export async function stopDaemon(paths: StatePaths, pid: number, graceMs = 10_000): Promise<void> {
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isWeaverAlive(pid) && Date.now() < deadline) await sleep(25);
  if (isWeaverAlive(pid)) {
    signal(pid, 'SIGKILL');
    while (isWeaverAlive(pid)) await sleep(25);
  }
  removePidFile(paths);
}

/** Deletes the pid file (if any). */
export function removePidFile(paths: StatePaths): void {
  rmSync(paths.pidFile, { force: true });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
