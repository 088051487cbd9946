// Drives examples/weave-host.ts processes inside test namespaces (root only): start a host, send it
// commands, attach "containers" (namespaces with an `ethwe` on the host's bridge), stop everything.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { attachContainer, type TestHost, type TestHosts } from '@weave-ts/host';

const RUNNER = fileURLToPath(new URL('./weave-host.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface RunningHost {
  readonly host: TestHost;
  readonly proc: ChildProcess;
  /** Sends a command and resolves with its result (rejects with its error). */
  request<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** Lines the process wrote to stderr (logs with --verbose). */
  readonly stderr: string[];
  stop(): Promise<void>;
}

/** How to run the node process of a weave host. */
export interface WeaveHostProcessOptions {
  /**
   * Profile the process with `node --cpu-prof`: a `.cpuprofile` is written into this directory when
   * the host exits through `stop()` (a SIGKILLed host writes none).
   */
  readonly cpuProfDir?: string;
}

/** Starts the runner in `host`'s namespace with `args` (e.g. `--name a::1 --peer 10.250.0.1`). */
export async function startWeaveHost(
  host: TestHost,
  args: string[],
  timeoutMs = 20_000,
  options: WeaveHostProcessOptions = {},
): Promise<RunningHost> {
  const profiling =
    options.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`];
  const nodeArgs = [...profiling, '--import', 'tsx', RUNNER, '--host', host.address!, ...args];
  const proc = host.spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const stderr: string[] = [];
  let nextId = 1;
  let onReady: (() => void) | undefined;
  let onExit: ((code: number | null) => void) | undefined;
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let msg: { event?: string; id?: number; result?: unknown; error?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      stderr.push(line);
      return;
    }
    if (msg.event === 'ready') onReady?.();
    const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id!);
    if (msg.error !== undefined) waiter.reject(new Error(msg.error));
    else waiter.resolve(msg.result);
  });
  proc.on('exit', (code) => {
    onExit?.(code);
    for (const w of pending.values()) w.reject(new Error(`weave host exited (${code})`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`weave host not ready: ${stderr.join('\n')}`)),
      timeoutMs,
    );
    onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`weave host exited (${code}) before ready: ${stderr.join('\n')}`));
    };
  });
  onExit = undefined;
  const request = <T>(cmd: string, extra: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.stdin!.write(`${JSON.stringify({ ...extra, id, cmd })}\n`);
    });
  return {
    host,
    proc,
    request,
    stderr,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      request('stop').catch(() => {});
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves when `check` holds, polling; rejects after `timeoutMs` with the last value seen. */
export async function eventually<T>(
  probe: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (check(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A container namespace on `host`'s bridge with address `cidr` (e.g. `10.32.0.1/12`). */
export async function addContainer(
  hosts: TestHosts,
  host: TestHost,
  suffix: string,
  cidr: string,
): Promise<TestHost> {
  const container = await hosts.addNetns(suffix);
  await attachContainer({ netns: container.netns, bridgeNetns: host.netns, bridge: 'weave', cidr });
  return container;
}
