// Helpers for tests that run the `weaver` bin as a process (tsx from the checkout).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = fileURLToPath(new URL('../src/bin/weaver.ts', import.meta.url));

/** Children still running: kill them in afterEach/afterAll. */
export const running = new Set<ChildProcess>();

/** Flags every test weaver gets: free ports on loopback. */
export const common = [
  ...['--port', '0', '--http-addr', '127.0.0.1:0', '--status-addr', '127.0.0.1:0'],
  ...['--dns-listen-address', '127.0.0.1:0'],
];

/** Kills every child still running. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

export interface Proc {
  child: ChildProcess;
  http: string;
  status: string;
  log: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function quietEnv(): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, WEAVE_PASSWORD: _pw, ...env } = process.env;
  return env;
}

/** Starts the bin (inside `netns` when given) and resolves once both HTTP servers listen. */
export async function startWeaver(args: string[], netns?: string): Promise<Proc> {
  const argv = [process.execPath, '--import', 'tsx', BIN, ...args];
  const [file, ...rest] = (netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv]) as [
    string,
    ...string[],
  ];
  const child = spawn(file, rest, { cwd: ROOT, env: quietEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const addr = (what: string) => new RegExp(`Listening for ${what} on (\\S+)`).exec(out)?.[1];
  const end = Date.now() + 50_000;
  while (addr('HTTP control messages') === undefined || addr('status\\+metrics requests') === undefined) {
    if (child.exitCode !== null || Date.now() > end)
      throw new Error(`weaver did not start (exit ${child.exitCode}):\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    http: addr('HTTP control messages')!,
    status: addr('status\\+metrics requests')!,
    log: () => out,
    exited,
  };
}

/**
 * HTTP to a weaver at `host:port`, or at a unix socket path (how tests reach a weaver inside a
 * network namespace: the socket file is visible from every namespace).
 */
export function call(
  addr: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  const target = addr.startsWith('/')
    ? { socketPath: addr }
    : { host: addr.slice(0, addr.lastIndexOf(':')), port: Number(addr.slice(addr.lastIndexOf(':') + 1)) };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...target,
        method,
        path,
        headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `GET /report?format=`. */
export const format = (addr: string, tmpl: string) =>
  call(addr, 'GET', `/report?format=${encodeURIComponent(tmpl)}`).then((r) => r.body);
