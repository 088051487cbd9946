import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineAvailable, startTestEngine, TEST_IMAGE, type TestEngine } from './test-engine.js';

// The `weave` command on Docker containers, from inside the namespace of a private engine (with its
// own docker0): `weave launch` with the plugin and proxy, `weave run`, `weave attach <container>`,
// `weave ps`, `weave dns-lookup`, `weave detach`, `weave env` / `config` / `dns-args`, `weave stop`.
// (The CLI and weaver run from source, not from a possibly stale dist.)

const hex = randomBytes(3).toString('hex');
const prefix = `wd-${hex}`;
const CLI = fileURLToPath(new URL('../../../cli/src/bin/weave.ts', import.meta.url));
const WEAVER = fileURLToPath(new URL('../../src/bin/weaver.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const proxySocket = `/tmp/${prefix}-proxy.sock`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!engineAvailable())('weave verbs on Docker containers', () => {
  let engine: TestEngine;
  let stateDir: string;
  const weave = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const { NODE_EXTRA_CA_CERTS: _a, WEAVE_HTTP_ADDR: _b, ...env } = process.env;
      execFile(
        'ip',
        ['netns', 'exec', engine.netns ?? '', process.execPath, '--import', 'tsx', CLI, ...args],
        {
          cwd: ROOT,
          timeout: 150_000,
          env: {
            ...env,
            WEAVE_STATE_DIR: stateDir,
            WEAVER_BIN: WEAVER,
            DOCKER_HOST: engine.dockerHost,
            WEAVE_DOCKER_CLI: '/usr/bin/docker',
            WEAVE_PROXY_LISTEN: `unix://${proxySocket}`,
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), `${prefix}-state-`));
    engine = await startTestEngine({ prefix, dockerBridge: true });
    const r = await weave(
      'launch',
      ...['--ipalloc-range', '10.32.0.0/16', '--datapath', 'sleeve', '--dns-listen-address', '0.0.0.0:53'],
      ...['--proxy', '--plugin', '--plugin-socket', `/run/docker/plugins/${prefix}n.sock`],
      ...['--plugin-mesh-socket', `/run/docker/plugins/${prefix}i.sock`, '--docker-api', engine.dockerHost],
    );
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }, 180_000);

  afterAll(async () => {
    if (engine) await weave('stop');
    await engine?.stop();
    rmSync(stateDir, { recursive: true, force: true });
    expect(existsSync(proxySocket)).toBe(false);
    expect(existsSync(`/run/docker/plugins/${prefix}n.sock`)).toBe(false);
  }, 120_000);

  it('weave run, attach, ps, dns-lookup and detach on Docker containers', { timeout: 180_000 }, async () => {
    const r1 = await weave(
      'run',
      'net:default',
      '--name',
      `${prefix}-r1`,
      '-h',
      'r1.weave.local',
      TEST_IMAGE,
      'sleep',
      '600',
    );
    expect(r1, r1.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f]{64}\n$/) });
    const id1 = r1.stdout.trim();
    const ps1 = await weave('ps', `${prefix}-r1`);
    expect(ps1.stdout).toMatch(new RegExp(`^${id1.slice(0, 12)} [0-9a-f:]{17} 10\\.32\\.\\d+\\.\\d+/16\\n$`));
    const ip1 = / (10\.32\.\d+\.\d+)\/16/.exec(ps1.stdout)?.[1];
    expect((await weave('dns-lookup', 'r1')).stdout).toBe(`${ip1}\n`);

    await engine.cli([
      'run',
      '-d',
      '--name',
      `${prefix}-a1`,
      '--hostname',
      'a1',
      '--domainname',
      'weave.local',
      TEST_IMAGE,
      'sleep',
      '600',
    ]);
    const at = await weave('attach', `${prefix}-a1`);
    expect(at, at.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^10\.32\.\d+\.\d+\n$/) });
    const ip2 = at.stdout.trim();
    expect(await engine.cli(['exec', `${prefix}-a1`, 'ping', '-c', '1', '-W', '2', ip1 ?? ''])).toMatch(
      /1 packets received/,
    );
    expect((await weave('dns-lookup', 'a1')).stdout).toBe(`${ip2}\n`);
    const all = (await weave('ps')).stdout;
    expect(all).toMatch(/^weave:expose [0-9a-f:]{17}/);
    expect(all).toContain(`${id1.slice(0, 12)} `);
    expect(all).toContain(` ${ip2}/16\n`);

    const det = await weave('detach', `${prefix}-a1`);
    expect(det, det.stderr).toMatchObject({ code: 0, stdout: `${ip2}\n` });
    expect((await weave('ps', `${prefix}-a1`)).stdout).toBe('');
    expect((await weave('dns-lookup', 'a1')).stdout).toBe('');
    const stopped = await engine.cli(['run', '-d', TEST_IMAGE, 'true']);
    await engine.cli(['wait', stopped.trim()]);
    expect(await weave('attach', stopped.trim())).toMatchObject({
      code: 1,
      stderr: `${stopped.trim()} container is not running.\n`,
    });
    expect(await weave('attach', `${prefix}-nosuch`)).toMatchObject({
      code: 1,
      stderr: `Error: No such container: ${prefix}-nosuch\n`,
    });
  });

  it('weave env, config and dns-args point docker at the proxy and weaveDNS', async () => {
    expect((await weave('env')).stdout).toBe(
      `export DOCKER_HOST=unix://${proxySocket} ORIG_DOCKER_HOST=${engine.dockerHost}\n`,
    );
    expect((await weave('config')).stdout).toBe(`-H=unix://${proxySocket}\n`);
    expect((await weave('dns-args')).stdout).toMatch(
      /^--dns=172\.\d+\.\d+\.\d+ --dns-search=weave\.local\.\n$/,
    );
    const status = (await weave('status')).stdout;
    expect(status).toContain('        Service: proxy\n');
    expect(status).toContain('        Service: plugin (legacy)\n');
  });
});
