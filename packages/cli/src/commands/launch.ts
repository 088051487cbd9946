import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { CliContext } from '../context.js';
import { daemonState, isWeaverAlive, sleep, startDaemon, weaverCommand } from '../daemon.js';
import { CliExit, UsageError } from '../errors.js';
import { HttpConnectError } from '../http-client.js';
import { cidrsOverlap } from '../cidr.js';
import { scanFlags } from '../parse-flags.js';
import {
  type DockerServiceChoices,
  dockerEngineAnswers,
  dockerLaunchArgs,
  parseBoolFlag,
} from './launch-docker.js';

/** Upstream's default allocation range. */
export const DEFAULT_IPALLOC_RANGE = '10.32.0.0/12';

/** Upstream's single-dash spellings of launch's own flags. */
const SINGLE_DASH = new Map([
  ['-password', '--password'],
  ['-iprange', '--iprange'],
]);

/** The engine `weave launch` looks for when `$DOCKER_HOST` is not set. */
const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** How long launch waits for weaver's /status to answer 200. */
const READY_TIMEOUT_MS = 120_000;

/** How a launch verb treats Docker. */
export interface LaunchOptions {
  /**
   * `weave launch`: look for a Docker engine (`$DOCKER_HOST`, else /var/run/docker.sock) and,
   * when one answers, start the plugin and the proxy unless `--plugin=false` / `--proxy=false`.
   * `launch-router` and `launch-proxy` pass false: only what their command line asks for.
   */
  dockerDefaults: boolean;
}

/**
 * `weave launch`: {@link launch} with the Docker defaults (plugin and proxy on when an engine
 * answers), as upstream 2.x.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  return launch(args, ctx, { dockerDefaults: true });
}

/**
 * `weave launch` / `weave launch-router`: starts weaver in the background (pid and log file in
 * the state directory), passing the flags through, and waits until GET /status answers 200. As
 * upstream, the password travels in WEAVE_PASSWORD (not on the command line), the default range
 * 10.32.0.0/12 is refused when it overlaps a host route, and the new router's id (its pid here)
 * is printed. `--plugin[=bool]` / `--proxy[=bool]` turn the Docker services on or off, and
 * `-H <endpoint>` (repeatable) sets the proxy's listen addresses (`WEAVE_PROXY_LISTEN`).
 */
export async function launch(args: string[], ctx: CliContext, opts: LaunchOptions): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...ctx.env };
  const pass: string[] = [];
  let range: string | undefined;
  let hasDbPrefix = false;
  let hasHttpAddr = false;
  let hasDockerApi = false;
  const choices: DockerServiceChoices = { plugin: undefined, proxy: undefined };
  const listen: string[] = [];
  // Our flags are taken out; every other word goes to weaver as given (by token index). Upstream's
  // single-dash spellings (-password, -iprange) are read as their --long forms.
  const tokens = scanFlags(
    args.map((a) => SINGLE_DASH.get(a) ?? a),
    {
      password: { type: 'string' },
      'ipalloc-range': { type: 'string' },
      iprange: { type: 'string' },
      'no-restart': { type: 'boolean' },
      plugin: { type: 'boolean' },
      proxy: { type: 'boolean' },
      H: { type: 'string' },
    },
  );
  const taken = new Set<number>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const value = (): string => {
      if (t.value === undefined) throw new UsageError();
      if (t.inlineValue === false) taken.add(t.index + 1);
      taken.add(t.index);
      return t.value;
    };
    if (t.name === 'password') env.WEAVE_PASSWORD = value();
    else if (t.name === 'ipalloc-range' || (t.name === 'iprange' && t.inlineValue !== true)) range = value();
    else if (t.name === 'no-restart' && t.inlineValue === undefined) taken.add(t.index);
    else if ((t.name === 'plugin' || t.name === 'proxy') && t.rawName === `--${t.name}`) {
      const on = parseBoolFlag(t.value);
      if (on === undefined) throw new UsageError();
      choices[t.name] = on;
      taken.add(t.index);
    } else if (t.name === 'H' && t.rawName === '-H') listen.push(value());
  }
  for (let i = 0; i < args.length; i++) {
    if (taken.has(i)) continue;
    const a = args[i] as string;
    if (a === '--db-prefix' || a.startsWith('--db-prefix=')) hasDbPrefix = true;
    if (a === '--http-addr' || a.startsWith('--http-addr=')) hasHttpAddr = true;
    if (a === '--docker-api' || a.startsWith('--docker-api=')) hasDockerApi = true;
    pass.push(a);
  }

  const state = daemonState(ctx.paths);
  if (state.kind === 'running') {
    throw new CliExit("weave is already running; you can stop it with 'weave stop'.", 1);
  }
  const command = weaverCommand(ctx.env);
  if (command === undefined) {
    throw new CliExit('Unable to find weaver: build @weave-ts/weaver or set WEAVER_BIN.', 1);
  }

  if (range === undefined) {
    range = DEFAULT_IPALLOC_RANGE;
    if (await overlapsHostRoute(range)) {
      throw new CliExit(
        `ERROR: Default --ipalloc-range ${range} overlaps with existing route on host.\n` +
          'You must pick another range and set it on all hosts.',
        1,
      );
    }
  } else if (range !== '' && (await overlapsHostRoute(range))) {
    ctx.err(
      `WARNING: Specified --ipalloc-range ${range} overlaps with existing route on host.\n` +
        'Unless this is deliberate, you must pick another range and set it on all hosts.\n',
    );
  }

  let engine: string | undefined;
  if (opts.dockerDefaults) {
    const dockerHost = ctx.env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
    if (await dockerEngineAnswers(dockerHost)) engine = dockerHost;
  }
  if (listen.length > 0) env.WEAVE_PROXY_LISTEN = listen.join(' ');

  const weaverArgs = ['--ipalloc-range', range];
  if (!hasDbPrefix) weaverArgs.push('--db-prefix', ctx.paths.dbPrefix);
  if (!hasHttpAddr && ctx.env.WEAVE_HTTP_ADDR) weaverArgs.push('--http-addr', ctx.env.WEAVE_HTTP_ADDR);
  if (!pass.includes('--port') && !pass.some((a) => a.startsWith('--port=')) && ctx.env.WEAVE_PORT) {
    weaverArgs.push('--port', ctx.env.WEAVE_PORT);
  }
  weaverArgs.push(...dockerLaunchArgs(choices, engine, hasDockerApi), ...pass);

  const logStart = fileSize(ctx.paths.logFile);
  const pid = startDaemon(ctx.paths, command, weaverArgs, env);
  await waitForStatus(ctx, pid, logStart);
  ctx.out(`${pid}\n`);
  return 0;
}

/** `wait_for_status`: polls GET /status until it answers 2xx; fails if weaver dies first. */
async function waitForStatus(ctx: CliContext, pid: number, logStart: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await ctx.request('GET', '/status', { connectTimeoutMs: 1000, timeoutMs: 5000 });
      if (res.status >= 200 && res.status < 300) return;
    } catch (err) {
      if (!(err instanceof HttpConnectError)) throw err;
    }
    if (!isWeaverAlive(pid)) {
      const output = readFrom(ctx.paths.logFile, logStart).trimEnd();
      throw new CliExit(
        'The weave container has died. Consult the container logs for further details.\n' +
          (output === ''
            ? `(weaver's log: ${ctx.paths.logFile})`
            : `weaver's log (${ctx.paths.logFile}) ends with:\n${lastLines(output, 5)}`),
        1,
      );
    }
    if (Date.now() > deadline) {
      throw new CliExit(
        `weaver (pid ${pid}) did not become ready in ${READY_TIMEOUT_MS / 1000} s; see ${ctx.paths.logFile}`,
        1,
      );
    }
    await sleep(100);
  }
}

/**
 * `weaveutil netcheck`: whether `cidr` overlaps a route of this host other than the default route
 * and routes via the weave bridge.
 */
export async function overlapsHostRoute(cidr: string): Promise<boolean> {
  const routes = await new Promise<{ dst?: string; dev?: string }[]>((resolve) => {
    execFile('ip', ['-j', '-4', 'route', 'show'], { timeout: 5000 }, (err, stdout) => {
      if (err !== null) return resolve([]);
      try {
        resolve(JSON.parse(String(stdout)) as { dst?: string; dev?: string }[]);
      } catch {
        resolve([]);
      }
    });
  });
  return routes.some(
    (r) => r.dst !== undefined && r.dst !== 'default' && r.dev !== 'weave' && cidrsOverlap(r.dst, cidr),
  );
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The text of `file` from byte `offset` (at most 64 KiB). */
function readFrom(file: string, offset: number): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(65536, Math.max(0, fileSize(file) - offset)));
      const n = readSync(fd, buf, 0, buf.length, offset);
      return buf.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}
