import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestHosts, findLeftovers, type TestHost, type TestHosts } from '@weave-ts/host';

/**
 * Hosts for the `weave` end-to-end walkthroughs: network namespaces joined by an underlay (see
 * @weave-ts/host createTestHosts), each with its own weave state directory, driven only through
 * the `weave` command run inside the namespace.
 */

const BUILT_CLI = fileURLToPath(new URL('../dist/bin/weave.js', import.meta.url));
const SOURCE_CLI = fileURLToPath(new URL('../src/bin/weave.ts', import.meta.url));
const DNS_QUERY = fileURLToPath(new URL('./dns-query.mjs', import.meta.url));

/** What one command printed. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One weave host. */
export interface WeaveHost {
  /** Network namespace. */
  ns: string;
  /** Underlay address. */
  address: string;
  /** WEAVE_STATE_DIR of this host. */
  stateDir: string;
  /** Runs `weave …` inside the host. */
  weave(...args: string[]): Promise<Run>;
}

/** A set of weave hosts with containers. */
export interface WeaveHosts {
  hosts: WeaveHost[];
  set: TestHosts;
  /** Makes a container (a namespace) and returns its name. */
  container(suffix: string): Promise<string>;
  /** Stops every weaver and deletes every namespace and state directory. */
  destroy(): Promise<void>;
}

/** The command line that runs the CLI (built one when present, else its source under tsx). */
export function cliArgv(): string[] {
  if (existsSync(BUILT_CLI)) return [process.execPath, BUILT_CLI];
  return [process.execPath, '--import', import.meta.resolve('tsx'), SOURCE_CLI];
}

/** No Docker engine for these hosts (on a Docker host too): `weave launch` starts the router alone. */
const NO_DOCKER_ENGINE = 'unix:///nonexistent/weave-e2e-no-engine.sock';

function quietEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _drop, WEAVE_STATE_DIR: _a, WEAVE_HTTP_ADDR: _b, ...env } = process.env;
  return { ...env, DOCKER_HOST: NO_DOCKER_ENGINE, ...extra };
}

/** Runs `file args…` inside namespace `ns`; never rejects. */
export function runIn(
  ns: string,
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, file, ...args],
      { env: quietEnv(env), timeout: 150_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** An A query from inside `ns` to `server:port`: `NOERROR 1.2.3.4`, `NXDOMAIN`, `TIMEOUT`… */
export async function dnsQuery(ns: string, server: string, name: string, port = 53): Promise<string> {
  const r = await runIn(ns, process.execPath, [DNS_QUERY, server, String(port), name]);
  return r.stdout.trim();
}

/** Whether one ping from `ns` to `ip` is answered within 1 s. */
export async function pings(ns: string, ip: string): Promise<boolean> {
  return (await runIn(ns, 'ping', ['-c', '1', '-W', '1', ip])).code === 0;
}

/**
 * Extra `weave launch` flags from `$WEAVE_E2E_LAUNCH_ARGS` (space-separated), e.g. `--datapath sleeve`
 * to pin a datapath while debugging.
 */
export function extraLaunchArgs(): string[] {
  return (process.env.WEAVE_E2E_LAUNCH_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
}

/** Polls `fn` until it returns a value other than undefined/false, or throws after `ms`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Builds `count` weave hosts on underlay 10.250.0.0/24 (host i has 10.250.0.<i+1>). */
export async function createWeaveHosts(count: number): Promise<WeaveHosts> {
  const set = await createTestHosts({ count, subnet: '10.250.0.0/24' });
  const root = mkdtempSync(join(tmpdir(), `${set.prefix}-state-`));
  const argv = cliArgv();
  const hosts = set.hosts.map((h: TestHost, i): WeaveHost => {
    const stateDir = join(root, `h${i}`);
    return {
      ns: h.netns,
      address: h.address ?? '',
      stateDir,
      weave: (...args) =>
        runIn(h.netns, argv[0] as string, [...argv.slice(1), ...args], { WEAVE_STATE_DIR: stateDir }),
    };
  });
  return {
    hosts,
    set,
    container: async (suffix) => (await set.addNetns(suffix)).netns,
    destroy: async () => {
      for (const h of hosts) {
        await h.weave('stop');
        killFromPidFile(h.stateDir);
      }
      await set.destroy();
      rmSync(root, { recursive: true, force: true });
      const left = await findLeftovers(set.prefix);
      if (left.length > 0) throw new Error(`left behind: ${left.join(', ')}`);
    },
  };
}

/** SIGKILLs the weaver named by the host's pid file (if any); returns its pid. */
export function killFromPidFile(stateDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(stateDir, 'weaver.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
  return pid;
}
