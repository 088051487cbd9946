import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { type CommandOptions, type CommandOutput, netnsExecArgv, runCommand, runIp } from './command.js';
import { LinkNotFoundError } from './errors.js';
import { assertNetnsName } from './names.js';

/**
 * Named network namespaces, kept the iproute2 way (a bind mount under /run/netns). Node cannot
 * setns(2) its own threads, so commands run inside one through `ip netns exec`.
 */

/** Creates the namespace `name` with its loopback up. Rejects with AlreadyExistsError if it exists. */
export async function createNetns(name: string): Promise<void> {
  assertNetnsName(name);
  await runIp(['netns', 'add', name]);
  await runIp(['link', 'set', 'lo', 'up'], name);
}

/**
 * Deletes the namespace `name`. Links inside it go with it (veths take their peers along; physical
 * devices would return to the root namespace). With `ifExists`, a missing namespace is not an error.
 */
export async function deleteNetns(name: string, options: { ifExists?: boolean } = {}): Promise<void> {
  assertNetnsName(name);
  try {
    await runIp(['netns', 'delete', name]);
  } catch (err) {
    if (!(options.ifExists && err instanceof LinkNotFoundError)) throw err;
  }
}

/** Names of the namespaces under /run/netns. */
export async function listNetns(): Promise<string[]> {
  try {
    return (await readdir('/run/netns')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Whether the namespace `name` exists. */
export async function netnsExists(name: string): Promise<boolean> {
  assertNetnsName(name);
  return (await listNetns()).includes(name);
}

/** Runs `file args…` inside the namespace and resolves with its output (errors as runCommand). */
export function execInNetns(
  name: string,
  file: string,
  args: readonly string[],
  options: Omit<CommandOptions, 'netns'> = {},
): Promise<CommandOutput> {
  return runCommand(file, args, { ...options, netns: name });
}

/** Starts `file args…` inside the namespace as a child process (e.g. a router or a traffic sink). */
export function spawnInNetns(
  name: string,
  file: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const [bin, ...rest] = netnsExecArgv(name, file, args) as [string, ...string[]];
  return spawn(bin, rest, options);
}
