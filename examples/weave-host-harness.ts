// Drives examples/weave-host.ts processes inside test namespaces (root only): start a host, send it
// commands, attach "containers" (namespaces with an `ethwe` on the host's bridge), stop everything.
// The process plumbing is @weave-ts/host's startHostProcess (shared with the fastdp tests' runner).
import { fileURLToPath } from 'node:url';
import { type HostProcess, startHostProcess, type TestHost } from '@weave-ts/host';

export { addTestContainer as addContainer, eventually } from '@weave-ts/host';

const RUNNER = fileURLToPath(new URL('./weave-host.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A running examples/weave-host.ts process. */
export type RunningHost = HostProcess;

/** How to run the node process of a weave host. */
export interface WeaveHostProcessOptions {
  /**
   * Profile the process with `node --cpu-prof`: a `.cpuprofile` is written into this directory when
   * the host exits through `stop()` (a SIGKILLed host writes none).
   */
  readonly cpuProfDir?: string;
}

/** Starts the runner in `host`'s namespace with `args` (e.g. `--name a::1 --peer 10.250.0.1`). */
export function startWeaveHost(
  host: TestHost,
  args: string[],
  timeoutMs = 20_000,
  options: WeaveHostProcessOptions = {},
): Promise<RunningHost> {
  return startHostProcess(host, {
    script: RUNNER,
    args: ['--host', host.address!, ...args],
    cwd: ROOT,
    timeoutMs,
    nodeArgs: options.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`],
  });
}
