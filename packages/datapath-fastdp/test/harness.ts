// Drives test/fastdp-host.ts processes inside test namespaces (root only), like
// examples/weave-host-harness.ts does for the sleeve-only example: start a host, send it commands,
// attach containers (namespaces with an `ethwe` on the host's bridge), move data, clean up.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  attachContainer,
  createTestHosts,
  type TestHost,
  type TestHosts,
  uniqueTestPrefix,
} from '@weave-ts/host';

const RUNNER = fileURLToPath(new URL('./fastdp-host.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A running host process. */
export interface RunningHost {
  readonly host: TestHost;
  readonly proc: ChildProcess;
  readonly args: readonly string[];
  /** What the ready line said. */
  readonly ready: { fastdp: boolean; mtu: number };
  request<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  readonly stderr: string[];
  stop(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
}

/** Test hosts named with this package's prefix `wf` (`wf` + 5 random characters). */
export function createFastdpTestHosts(count: number, mtu?: number): Promise<TestHosts> {
  const prefix = `wf${uniqueTestPrefix().slice(2)}`;
  return createTestHosts({ count, prefix, ...(mtu ? { mtu } : {}) });
}

/** Starts the runner in `host`'s namespace with `args`. */
export async function startHost(host: TestHost, args: string[], timeoutMs = 30_000): Promise<RunningHost> {
  const proc = host.spawn(process.execPath, ['--import', 'tsx', RUNNER, '--host', host.address!, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const stderr: string[] = [];
  let nextId = 1;
  let onReady: ((msg: { fastdp: boolean; mtu: number }) => void) | undefined;
  let onExit: ((code: number | null) => void) | undefined;
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let msg: {
      event?: string;
      id?: number;
      result?: unknown;
      error?: string;
      fastdp?: boolean;
      mtu?: number;
    };
    try {
      msg = JSON.parse(line);
    } catch {
      stderr.push(line);
      return;
    }
    if (msg.event === 'ready') onReady?.({ fastdp: msg.fastdp === true, mtu: msg.mtu ?? 0 });
    const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id!);
    if (msg.error !== undefined) waiter.reject(new Error(msg.error));
    else waiter.resolve(msg.result);
  });
  const exited = new Promise<void>((resolve) =>
    proc.on('exit', (code) => {
      onExit?.(code);
      for (const w of pending.values()) w.reject(new Error(`host exited (${code})`));
      pending.clear();
      resolve();
    }),
  );
  const ready = await new Promise<{ fastdp: boolean; mtu: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host not ready: ${stderr.join('\n')}`)), timeoutMs);
    onReady = (msg) => {
      clearTimeout(timer);
      resolve(msg);
    };
    onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited (${code}) before ready: ${stderr.join('\n')}`));
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
      const timer = setTimeout(() => proc.kill('SIGKILL'), 8_000);
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

/** Resolves when `check` holds, polling; rejects after `timeoutMs` with the last value seen. */
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

/** A container namespace on `host`'s bridge `weave` with address `cidr`. */
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

/** Pings until one reply arrives. */
export async function ping(from: TestHost, to: string, timeoutMs = 20_000): Promise<void> {
  await eventually(
    () =>
      from.exec('ping', ['-c', '1', '-W', '1', to]).then(
        () => true,
        () => false,
      ),
    (ok) => ok,
    timeoutMs,
  );
}

/** Sends `bytes` random bytes over TCP from `from` to `to`'s listener; returns both sides' sha256. */
export async function tcpTransfer(from: TestHost, to: TestHost, toIp: string, bytes: number) {
  const server = to.spawn(process.execPath, [
    '-e',
    `const s=require('net').createServer(c=>{const h=require('crypto').createHash('sha256');let n=0;
     c.on('data',d=>{n+=d.length;h.update(d)});c.on('end',()=>{console.log(JSON.stringify({n,sha:h.digest('hex')}));c.end();s.close()})});
     s.listen(5201,'${toIp}',()=>console.log('listening'))`,
  ]);
  const out: string[] = [];
  server.stdout!.on('data', (d) => out.push(String(d)));
  try {
    await eventually(
      async () => out.join(''),
      (s) => s.includes('listening'),
      10_000,
    );
    const client = await from.exec(
      process.execPath,
      [
        '-e',
        `const d=require('crypto').randomBytes(${bytes});const c=require('net').connect(5201,'${toIp}',()=>{c.end(d)});
       c.on('close',()=>console.log(require('crypto').createHash('sha256').update(d).digest('hex')))`,
      ],
      { timeoutMs: 90_000 },
    );
    const received = await eventually(
      async () => out.join(''),
      (s) => s.includes('sha'),
      90_000,
    );
    return { sent: client.stdout.trim(), received: JSON.parse(received.slice(received.indexOf('{'))) };
  } finally {
    server.kill('SIGKILL');
  }
}

/** What the `fastdp` command returns (the parts the tests read). */
export interface FastdpReport {
  flows: number;
  devices: Record<string, string>;
  forwarders: { peer: string; established: boolean; healthy: boolean }[];
  counters: { framesReceived: number; heartbeats: number };
  kernel: {
    kernelSent: number;
    kernelDelivered: number;
    missesOut: number;
    missesIn: number;
    errors: number;
  };
}
