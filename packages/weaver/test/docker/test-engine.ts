import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createNetns, deleteNetns, netnsExists, runIp } from '@weave-ts/host';
import Docker from 'dockerode';

/**
 * A private Docker engine for tests: its own data/exec roots and socket under /tmp, optionally in its
 * own network namespace ("a host"), and a busybox image made offline (never pulled):
 *
 *   nsenter --net=/run/netns/<ns> dockerd --data-root D --exec-root E -H unix://S --pidfile P
 *           --iptables=false --ip-masq=false --bridge=none
 *
 * `stop()` removes every container and network, stops dockerd (and its containerd), unmounts what it
 * left, deletes the directories and the namespace. Nothing else on the host changes.
 */

const run = promisify(execFile);

/** The docker CLI the tests drive (Debian's docker.io one when present). */
export const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
/** The test image's name. */
export const TEST_IMAGE = 'wd-busybox:test';

/** Whether this machine can run the engine tests (root, dockerd and busybox-static installed). */
export function engineAvailable(): boolean {
  return process.getuid?.() === 0 && existsSync('/usr/sbin/dockerd') && existsSync('/bin/busybox');
}

/** A running private engine. */
export interface TestEngine {
  /** `unix:///tmp/…/docker.sock` */
  readonly dockerHost: string;
  readonly socketPath: string;
  /** The engine's network namespace name, if it has one. */
  readonly netns: string | undefined;
  readonly docker: Docker;
  /** Runs the docker CLI against this engine; rejects with stderr on failure. */
  cli(args: readonly string[], options?: { timeoutMs?: number; host?: string }): Promise<string>;
  /** Removes everything and stops the engine. */
  stop(): Promise<void>;
}

/** Options of {@link startTestEngine}. */
export interface TestEngineOptions {
  /** Unique name prefix (e.g. `wd-ab12`). */
  prefix: string;
  /** Run dockerd in this namespace (made and deleted here unless it exists); default a fresh `<prefix>-e`; `false` = ours. */
  netns?: string | false;
  /** Import the busybox test image (default true). */
  image?: boolean;
  /** Let dockerd make its default bridge `docker0` (inside the engine's namespace); default false (`--bridge=none`). */
  dockerBridge?: boolean;
}

/** Starts a private dockerd and waits until it answers. */
export async function startTestEngine(options: TestEngineOptions): Promise<TestEngine> {
  const dir = await mkdtemp(join('/tmp', `${options.prefix}-`));
  const netns = options.netns === false ? undefined : (options.netns ?? `${options.prefix}-e`);
  const socketPath = join(dir, 'd.sock');
  const ownNetns = netns !== undefined && !(await netnsExists(netns));
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await killContainerd(dir);
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true }).catch(async () => {
      await unmountUnder(dir);
      await rm(dir, { recursive: true, force: true });
    });
    if (netns && ownNetns) await deleteNetns(netns, { ifExists: true });
  };
  try {
    if (netns && ownNetns) {
      await createNetns(netns);
      await runIp(['link', 'set', 'lo', 'up'], netns);
    }
    await mkdir(join(dir, 'data'));
    await mkdir(join(dir, 'e'));
    const argv = [
      'dockerd',
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'e'),
      '-H',
      `unix://${socketPath}`,
      '--pidfile',
      join(dir, 'd.pid'),
      '--iptables=false',
      '--ip-masq=false',
      ...(options.dockerBridge ? [] : ['--bridge=none']),
    ];
    if (options.dockerBridge && !netns) throw new Error('dockerBridge needs an engine namespace');
    const log = openSync(join(dir, 'dockerd.log'), 'a');
    child = netns
      ? spawn('nsenter', [`--net=/run/netns/${netns}`, ...argv], { stdio: ['ignore', log, log] })
      : spawn(argv[0] ?? 'dockerd', argv.slice(1), { stdio: ['ignore', log, log] });
    closeSync(log);
    const docker = new Docker({ socketPath });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`dockerd exited: ${(await readFile(join(dir, 'dockerd.log'), 'utf8')).slice(-2000)}`);
      }
      if (
        await docker.ping().then(
          () => true,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline) throw new Error('dockerd did not answer within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const dockerHost = `unix://${socketPath}`;
    const cli: TestEngine['cli'] = async (args, o = {}) => {
      try {
        const { stdout } = await run(DOCKER_CLI, ['-H', o.host ?? dockerHost, ...args], {
          timeout: o.timeoutMs ?? 60_000,
          maxBuffer: 16 << 20,
        });
        return stdout;
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error(`docker ${args.join(' ')}: ${e.stderr || e.message}`);
      }
    };
    if (options.image !== false) await importBusybox(dir, dockerHost);
    return {
      dockerHost,
      socketPath,
      netns,
      docker,
      cli,
      async stop() {
        try {
          const ids = (await cli(['ps', '-aq'])).split('\n').filter(Boolean);
          if (ids.length > 0) await cli(['rm', '-f', ...ids]).catch(() => {});
          await cli(['network', 'prune', '-f']).catch(() => {});
        } finally {
          await cleanup();
        }
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** A rootfs with /bin/busybox and a link per applet, imported as {@link TEST_IMAGE}. */
async function importBusybox(dir: string, dockerHost: string): Promise<void> {
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev'])
    await mkdir(join(rootfs, d), { recursive: true });
  await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  const { stdout } = await run('/bin/busybox', ['--list']);
  for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) {
    await symlink('busybox', join(rootfs, 'bin', applet)).catch(() => {});
  }
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const imp = spawn(DOCKER_CLI, ['-H', dockerHost, 'import', '-c', 'CMD ["/bin/sh"]', '-', TEST_IMAGE], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    imp.stderr?.on('data', (c) => {
      err += String(c);
    });
    tar.stdout?.pipe(imp.stdin!);
    imp.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker import failed: ${err}`))));
  });
  await rm(rootfs, { recursive: true, force: true });
}

/** containerd started by this dockerd (its socket lives under our exec root). */
async function killContainerd(dir: string): Promise<void> {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']).catch(() => ({ stdout: '' }));
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m?.[2]?.includes(dir)) continue;
    try {
      process.kill(Number(m[1]), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Unmounts every mount point under `dir`, deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => {});
}
