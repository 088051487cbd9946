// A "host process" for tests, examples and benches: a node script run inside a test host's network
// namespace that talks JSON lines with whoever started it. The process writes events (`{"event":
// "ready", …}`) and replies (`{"id":1,"result":…}` or `{"id":1,"error":"…"}`) on stdout and reads
// requests (`{"id":1,"cmd":"status",…}`) on stdin. `serveHostCommands` is the process's side,
// `startHostProcess` the driver's.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestHost } from './test-hosts.js';

/** One JSON line a host process writes: an event (`event`), or the reply to request `id`. */
export interface HostProcessMessage {
  /** The event's name (`ready` once the process serves requests). */
  readonly event?: string;
  /** The request this replies to. */
  readonly id?: number;
  /** The command's result. */
  readonly result?: unknown;
  /** The message of what the command threw. */
  readonly error?: string;
  /** Further fields of an event (e.g. `port` in `ready`). */
  readonly [field: string]: unknown;
}

/** The commands a host process answers, by name; each gets the whole request object. */
export type HostCommands = Record<string, (request: Record<string, unknown>) => unknown>;

/** Writes `message` as one JSON line on stdout (the host process's side of the channel). */
export function sayToDriver(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * Answers requests from stdin with `commands` until stdin closes: each reply carries the request's
 * `id` and the command's (awaited) result, or the message of what it threw. Unknown commands get
 * an error reply.
 */
export async function serveHostCommands(commands: HostCommands): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    let id: unknown;
    try {
      const request = JSON.parse(line) as { id: unknown; cmd: string } & Record<string, unknown>;
      id = request.id;
      const command = commands[request.cmd];
      if (!command) throw new Error(`unknown command ${request.cmd}`);
      sayToDriver({ id, result: await command(request) });
    } catch (error) {
      sayToDriver({ id, error: (error as Error).message });
    }
  }
}

/** How to start a host process. */
export interface HostProcessOptions {
  /** The script to run (with `node --import tsx`). */
  readonly script: string;
  /** Its arguments. */
  readonly args: readonly string[];
  /** Its working directory (where `tsx` resolves). */
  readonly cwd: string;
  /** Extra node options before the script, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** How long to wait for the `ready` event (default 20 s). */
  readonly timeoutMs?: number;
  /** How long `stop()` waits for the process to exit before SIGKILL (default 5 s). */
  readonly stopTimeoutMs?: number;
}

/** A running host process. */
export interface HostProcess {
  /** The test host it runs in. */
  readonly host: TestHost;
  /** The node process. */
  readonly proc: ChildProcess;
  /** The script's arguments. */
  readonly args: readonly string[];
  /** The `ready` event the process wrote. */
  readonly ready: HostProcessMessage;
  /** Sends command `cmd` (with `args` merged into the request) and resolves with its result (rejects with its error). */
  request<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** Lines the process wrote to stderr, and stdout lines that were not JSON. */
  readonly stderr: string[];
  /** Sends `stop` and waits for the exit (SIGKILL after `stopTimeoutMs`). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash; resolves when the process is gone. */
  kill(): Promise<void>;
}

/** Starts `options.script` in `host`'s namespace and resolves once it wrote its `ready` event. */
export async function startHostProcess(host: TestHost, options: HostProcessOptions): Promise<HostProcess> {
  const { args, timeoutMs = 20_000, stopTimeoutMs = 5_000 } = options;
  const proc = host.spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', options.script, ...args],
    { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const stderr: string[] = [];
  let nextId = 1;
  let onReady: ((msg: HostProcessMessage) => void) | undefined;
  let onExit: ((code: number | null) => void) | undefined;
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let msg: HostProcessMessage;
    try {
      msg = JSON.parse(line) as HostProcessMessage;
    } catch {
      stderr.push(line);
      return;
    }
    if (msg.event === 'ready') onReady?.(msg);
    const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id!);
    if (msg.error !== undefined) waiter.reject(new Error(msg.error));
    else waiter.resolve(msg.result);
  });
  const exited = new Promise<void>((resolve) =>
    proc.on('exit', (code) => {
      onExit?.(code);
      for (const w of pending.values()) w.reject(new Error(`host process exited (${code})`));
      pending.clear();
      resolve();
    }),
  );
  const ready = await new Promise<HostProcessMessage>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`host process not ready: ${stderr.join('\n')}`)),
      timeoutMs,
    );
    onReady = (msg) => {
      clearTimeout(timer);
      resolve(msg);
    };
    onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`host process exited (${code}) before ready: ${stderr.join('\n')}`));
    };
  });
  onExit = undefined;
  const request = <T>(cmd: string, extra: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.stdin!.write(`${JSON.stringify({ ...extra, id, cmd })}\n`);
    });
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    host,
    proc,
    args,
    ready,
    request,
    stderr,
    async stop() {
      if (!alive()) return;
      request('stop').catch(() => {});
      const timer = setTimeout(() => proc.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (!alive()) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Resolves with `probe`'s value once `check` holds, polling; rejects after `timeoutMs` with the last value seen. */
export async function eventually<T>(
  probe: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 20_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (check(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
