import { createServer as createHttpServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWeave, USAGE } from '../src/index.js';
import { dockerEngineAnswers, dockerLaunchArgs, parseBoolFlag } from '../src/commands/launch-docker.js';

// `weave launch`'s Docker defaults: plugin and proxy on when an engine answers `/_ping`, off with
// `--plugin=false` / `--proxy=false`, nothing without an engine; `launch-router` never looks.
// The engine here is a stand-in answering `/_ping` on a unix socket; the real one is in
// packages/weaver/test/docker/cli-docker.test.ts.

let dir: string;
let engineSock: string;
let engine: Server;
let pingCount = 0;
let mute: NetServer;
let muteSock: string;
const muted: Socket[] = [];

const listen = (srv: Server | NetServer, path: string) =>
  new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(path, () => resolve());
  });
const close = (srv: Server | NetServer | undefined) =>
  new Promise<void>((resolve) => (srv ? srv.close(() => resolve()) : resolve()));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wl-launch-'));
  engineSock = join(dir, 'engine.sock');
  engine = createHttpServer((req, res) => {
    if (req.url === '/_ping') pingCount++;
    res.writeHead(req.url === '/_ping' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/_ping' ? 'OK' : 'no');
  });
  await listen(engine, engineSock);
  // Accepts connections and never answers (it does not read, so the test ends them).
  muteSock = join(dir, 'mute.sock');
  mute = createServer((c) => muted.push(c));
  await listen(mute, muteSock);
});

afterAll(async () => {
  engine?.closeAllConnections();
  for (const c of muted) c.destroy();
  await close(engine);
  await close(mute);
  rmSync(dir, { recursive: true, force: true });
});

describe('the flag decision', () => {
  it('with no engine: only what was asked for; with one: plugin and proxy unless turned off', () => {
    const none = { plugin: undefined, proxy: undefined };
    expect(dockerLaunchArgs(none, undefined)).toEqual([]);
    expect(dockerLaunchArgs({ plugin: false, proxy: false }, undefined)).toEqual([]);
    expect(dockerLaunchArgs({ plugin: true, proxy: undefined }, undefined)).toEqual(['--plugin']);
    expect(dockerLaunchArgs({ plugin: undefined, proxy: true }, undefined)).toEqual(['--proxy']);
    const e = 'unix:///run/x.sock';
    expect(dockerLaunchArgs(none, e)).toEqual(['--plugin', '--proxy', '--docker-api', e]);
    expect(dockerLaunchArgs({ plugin: false, proxy: undefined }, e)).toEqual(['--proxy', '--docker-api', e]);
    expect(dockerLaunchArgs({ plugin: true, proxy: false }, e)).toEqual(['--plugin', '--docker-api', e]);
    expect(dockerLaunchArgs({ plugin: false, proxy: false }, e)).toEqual(['--docker-api', e]);
    expect(dockerLaunchArgs(none, e, true)).toEqual(['--plugin', '--proxy']);
  });

  it('reads boolean values as upstream does', () => {
    expect(parseBoolFlag(undefined)).toBe(true);
    for (const w of ['true', '1', 't', 'TRUE']) expect(parseBoolFlag(w), w).toBe(true);
    for (const w of ['false', '0', 'f', 'False']) expect(parseBoolFlag(w), w).toBe(false);
    for (const w of ['', 'no', 'yes', 'off']) expect(parseBoolFlag(w), w).toBeUndefined();
  });
});

describe('looking for the engine', () => {
  it('answers false at once for a missing socket and a bad address', async () => {
    const t0 = performance.now();
    expect(await dockerEngineAnswers(`unix://${join(dir, 'nothing.sock')}`, 5000)).toBe(false);
    expect(await dockerEngineAnswers(join(dir, 'nothing.sock'), 5000)).toBe(false);
    // Not a speed target: "at once" means the 5 s timeout was not waited for.
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(await dockerEngineAnswers('ssh://nowhere')).toBe(false);
  });

  it('answers true for an engine answering /_ping, false for one that stays mute', async () => {
    const before = pingCount;
    expect(await dockerEngineAnswers(`unix://${engineSock}`)).toBe(true);
    expect(await dockerEngineAnswers(engineSock)).toBe(true);
    expect(pingCount).toBe(before + 2);
    expect(await dockerEngineAnswers(`unix://${muteSock}`, 200)).toBe(false);
    expect(await dockerEngineAnswers(join(dir, 'engine.sock.not'), 200)).toBe(false);
  });
});

describe('weave launch with and without an engine', () => {
  /** Runs a launch verb with a weaver that prints its arguments and WEAVE_PROXY_LISTEN, then exits. */
  async function weaverArgs(
    args: string[],
    dockerHost: string,
  ): Promise<{ listen: string | null; args: string[] }> {
    const state = mkdtempSync(join(dir, 'state-'));
    const bin = join(state, 'weaver-echo.js');
    writeFileSync(
      bin,
      'console.error("ARGS " + JSON.stringify([process.env.WEAVE_PROXY_LISTEN ?? null, ...process.argv.slice(2)])); process.exit(1);\n',
    );
    let stderr = '';
    const code = await runWeave(args, {
      env: {
        WEAVE_STATE_DIR: state,
        WEAVER_BIN: bin,
        WEAVE_HTTP_ADDR: '127.0.0.1:1',
        DOCKER_HOST: dockerHost,
      },
      stdout: () => {},
      stderr: (t) => {
        stderr += t;
      },
    });
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('The weave container has died.');
    const line = readFileSync(join(state, 'weaver.log'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('ARGS '));
    const [listen, ...rest] = JSON.parse(line?.slice(5) ?? '[null]') as [string | null, ...string[]];
    const db = rest.indexOf('--db-prefix');
    expect(rest.slice(0, 2)).toEqual(['--ipalloc-range', '10.97.0.0/16']);
    expect(db).toBe(2);
    return { listen, args: [...rest.slice(0, 2), ...rest.slice(4)] };
  }
  const R = ['--ipalloc-range', '10.97.0.0/16'];
  const HTTP = ['--http-addr', '127.0.0.1:1'];

  it('without an engine: no plugin, no proxy, no error; --plugin=false and --proxy=false are taken out', async () => {
    const nowhere = `unix://${join(dir, 'no-engine.sock')}`;
    expect(await weaverArgs(['launch', ...R], nowhere)).toEqual({ listen: null, args: [...R, ...HTTP] });
    expect(
      await weaverArgs(['launch', ...R, '--plugin=false', '--proxy=false', '10.0.0.1'], nowhere),
    ).toEqual({
      listen: null,
      args: [...R, ...HTTP, '10.0.0.1'],
    });
    // Asked for explicitly, they are passed as before.
    expect(await weaverArgs(['launch', '--plugin', ...R, '--proxy=true'], nowhere)).toEqual({
      listen: null,
      args: [...R, ...HTTP, '--plugin', '--proxy'],
    });
  });

  it('with an engine: plugin, proxy and the engine address, unless turned off', async () => {
    const e = `unix://${engineSock}`;
    const docker = ['--docker-api', e];
    expect(await weaverArgs(['launch', ...R], e)).toEqual({
      listen: null,
      args: [...R, ...HTTP, '--plugin', '--proxy', ...docker],
    });
    expect(await weaverArgs(['launch', ...R, '--plugin=false'], e)).toEqual({
      listen: null,
      args: [...R, ...HTTP, '--proxy', ...docker],
    });
    expect(
      await weaverArgs(['launch', '--proxy=0', ...R, '--plugin=false', '-H', 'tcp://127.0.0.1:12375'], e),
    ).toEqual({
      listen: 'tcp://127.0.0.1:12375',
      args: [...R, ...HTTP, ...docker],
    });
    // launch-router is the router alone; launch-proxy the router and the proxy.
    expect(await weaverArgs(['launch-router', ...R], e)).toEqual({ listen: null, args: [...R, ...HTTP] });
    expect(
      await weaverArgs(['launch-proxy', ...R, '-H', 'unix:///tmp/a.sock', '-H', 'tcp://127.0.0.1:1'], e),
    ).toEqual({
      listen: 'unix:///tmp/a.sock tcp://127.0.0.1:1',
      args: [...R, ...HTTP, '--proxy'],
    });
    // A --docker-api given is kept, not doubled.
    expect(await weaverArgs(['launch', ...R, '--docker-api', e], e)).toEqual({
      listen: null,
      args: [...R, ...HTTP, '--plugin', '--proxy', '--docker-api', e],
    });
  });

  it('refuses a value that is not a boolean, and -H without an endpoint', async () => {
    const e = `unix://${engineSock}`;
    for (const args of [['--plugin=maybe'], ['--proxy='], ['-H']]) {
      let stderr = '';
      const code = await runWeave(['launch', ...args], {
        env: { WEAVE_STATE_DIR: join(dir, 'unused'), DOCKER_HOST: e },
        stdout: () => {},
        stderr: (t) => {
          stderr += t;
        },
      });
      expect({ code, stderr }, args.join(' ')).toEqual({ code: 1, stderr: USAGE });
    }
  });
});
