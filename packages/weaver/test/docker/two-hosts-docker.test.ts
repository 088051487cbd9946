import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestHosts, findLeftovers, type TestHosts } from '@weave-ts/host';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineAvailable, startTestEngine, TEST_IMAGE, type TestEngine } from './test-engine.js';
import { until } from '../until.js';

// Seed 000/003 across two hosts, only through `weave`: host A runs a private engine (with docker0)
// and weaver, host B runs weaver; `weave run` starts a Docker container on A, `weave attach` puts a
// namespace container on B on the mesh; they ping each other, and the Docker container resolves the
// other's name through weaveDNS.

const hex = randomBytes(3).toString('hex');
const prefix = `wd${hex.slice(0, 5)}`;
const CLI = fileURLToPath(new URL('../../../cli/src/bin/weave.ts', import.meta.url));
const WEAVER = fileURLToPath(new URL('../../src/bin/weaver.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!engineAvailable())('weave with Docker on two hosts', () => {
  let hosts: TestHosts;
  let engine: TestEngine;
  const root = mkdtempSync(join(tmpdir(), `${prefix}-state-`));
  const weaveOn = (i: number, ...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const { NODE_EXTRA_CA_CERTS: _a, WEAVE_HTTP_ADDR: _b, DOCKER_HOST: _c, ...env } = process.env;
      execFile(
        'ip',
        ['netns', 'exec', hosts.hosts[i]?.netns ?? '', process.execPath, '--import', 'tsx', CLI, ...args],
        {
          cwd: ROOT,
          timeout: 150_000,
          env: {
            ...env,
            WEAVE_STATE_DIR: join(root, `h${i}`),
            WEAVER_BIN: WEAVER,
            WEAVE_DOCKER_CLI: '/usr/bin/docker',
            // Host 1 has no engine (not the machine's own either): its `weave launch` is the router alone.
            ...(i === 0
              ? { DOCKER_HOST: engine.dockerHost, WEAVE_PROXY_LISTEN: `unix:///tmp/${prefix}-proxy.sock` }
              : { DOCKER_HOST: `unix://${join(root, 'no-engine.sock')}` }),
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    hosts = await createTestHosts({ count: 2, prefix, subnet: '10.251.7.0/24' });
    engine = await startTestEngine({ prefix, netns: hosts.hosts[0]?.netns, dockerBridge: true });
    const common = [
      '--ipalloc-range',
      '10.32.0.0/16',
      '--datapath',
      'sleeve',
      '--dns-listen-address',
      '0.0.0.0:53',
    ];
    const a = await weaveOn(
      0,
      'launch',
      ...common,
      ...['--proxy', '--docker-api', engine.dockerHost, '--plugin'],
      ...[
        '--plugin-socket',
        `/run/docker/plugins/${prefix}n.sock`,
        '--plugin-mesh-socket',
        `/run/docker/plugins/${prefix}i.sock`,
      ],
    );
    expect(a, a.stderr).toMatchObject({ code: 0 });
    const b = await weaveOn(1, 'launch', ...common, hosts.hosts[0]?.address ?? '');
    expect(b, b.stderr).toMatchObject({ code: 0 });
    await until(
      'an established connection',
      async () => (await weaveOn(1, 'status')).stdout.includes('Connections: 1 (1 established)'),
      30_000,
    );
  }, 240_000);

  afterAll(async () => {
    for (const i of [0, 1]) if (hosts) await weaveOn(i, 'stop');
    await engine?.stop();
    await hosts?.destroy();
    rmSync(root, { recursive: true, force: true });
    expect(await findLeftovers(prefix)).toEqual([]);
  }, 120_000);

  it('a Docker container on A and a container on B ping each other and resolve names', {
    timeout: 180_000,
  }, async () => {
    const run = await weaveOn(
      0,
      'run',
      '--name',
      `${prefix}-c1`,
      '-h',
      'c1.weave.local',
      TEST_IMAGE,
      'sleep',
      '600',
    );
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^[0-9a-f]{64}\n$/) });
    const c2 = await hosts.addNetns('c2');
    const at = await weaveOn(1, 'attach', '-h', 'c2.weave.local', c2.netns);
    expect(at, at.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^10\.32\.\d+\.\d+\n$/) });
    const ip2 = at.stdout.trim();
    const ps = (await weaveOn(0, 'ps', `${prefix}-c1`)).stdout;
    const ip1 = / (10\.32\.\d+\.\d+)\/16/.exec(ps)?.[1] ?? '';
    expect(ip1).not.toBe('');
    await until(
      'ping A→B',
      () =>
        engine.cli(['exec', `${prefix}-c1`, 'ping', '-c', '1', '-W', '1', ip2]).then(
          () => true,
          () => false,
        ),
      30_000,
    );
    const back = await c2.exec('ping', ['-c', '1', '-W', '2', ip1]);
    expect(back.stdout).toMatch(/1 received/);
    await until(
      'c2 in weaveDNS on A',
      async () => (await weaveOn(0, 'dns-lookup', 'c2')).stdout === `${ip2}\n`,
      30_000,
    );
    const ns = await engine.cli(['exec', `${prefix}-c1`, 'nslookup', 'c2.weave.local']);
    expect(ns).toMatch(new RegExp(`Address:\\s+${ip2.replace(/\./g, '\\.')}$`, 'm'));
    expect((await weaveOn(1, 'dns-lookup', 'c1')).stdout).toBe(`${ip1}\n`);

    // the plugin's network reaches the container on B too
    const net = `${prefix}-net`;
    await engine.cli(['network', 'create', '--driver', `${prefix}n`, '--ipam-driver', `${prefix}i`, net]);
    await engine.cli(['run', '-d', '--name', `${prefix}-p1`, `--net=${net}`, TEST_IMAGE, 'sleep', '600']);
    const pip = (
      await engine.cli([
        'inspect',
        '-f',
        `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`,
        `${prefix}-p1`,
      ])
    ).trim();
    expect(pip).toMatch(/^10\.32\./);
    await until(
      'ping plugin container → B',
      () =>
        engine.cli(['exec', `${prefix}-p1`, 'ping', '-c', '1', '-W', '1', ip2]).then(
          () => true,
          () => false,
        ),
      30_000,
    );
    expect((await c2.exec('ping', ['-c', '1', '-W', '2', pip])).stdout).toMatch(/1 received/);
    await engine.cli(['rm', '-f', `${prefix}-p1`]);
    await engine.cli(['network', 'rm', net]);

    // detach on B frees the address; A's container can no longer reach it
    const det = await weaveOn(1, 'detach', c2.netns);
    expect(det, det.stderr).toMatchObject({ code: 0, stdout: `${ip2}\n` });
    await expect(engine.cli(['exec', `${prefix}-c1`, 'ping', '-c', '1', '-W', '1', ip2])).rejects.toThrow();
  });
});
