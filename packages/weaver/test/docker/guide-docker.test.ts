import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineAvailable, startTestEngine, TEST_IMAGE, type TestEngine } from './test-engine.js';

// docs/guides/docker.md's walkthrough, run as written (one `sh -e` script taken from the guide) in
// the namespace of a private engine: plain `weave launch` finds the engine through DOCKER_HOST and
// starts the plugin and the proxy; then `weave launch --plugin=false --proxy=false` starts neither.
// The only changes to the guide's text: the plugin's driver names become unique ones (and
// `weave launch` is told their sockets), the proxy listens on a test socket (WEAVE_PROXY_LISTEN),
// and `busybox` is the offline test image tagged so in the private engine.

const hex = randomBytes(3).toString('hex');
const prefix = `wl-${hex}`;
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = join(ROOT, 'packages/cli/src/bin/weave.ts');
const WEAVER = join(ROOT, 'packages/weaver/src/bin/weaver.ts');
const GUIDE = join(ROOT, 'docs/guides/docker.md');
// In a directory that does not exist yet, as /var/run/weave on a fresh host.
const proxyDir = `/tmp/${prefix}-run`;
const proxySocket = `${proxyDir}/weave.sock`;
const netDriver = `${prefix}n`;
const ipamDriver = `${prefix}i`;
const pluginSockets = [`/run/docker/plugins/${netDriver}.sock`, `/run/docker/plugins/${ipamDriver}.sock`];

/** The first ```sh block under `## Walkthrough` in the guide. */
function walkthrough(): string {
  const text = readFileSync(GUIDE, 'utf8');
  const section = text.slice(text.indexOf('\n## Walkthrough\n'));
  const m = /```sh\n([\s\S]*?)```/.exec(section);
  if (!m?.[1]) throw new Error('no walkthrough in docs/guides/docker.md');
  return m[1];
}

/** The walkthrough with the test's plugin names. */
function testScript(script: string): string {
  const lines = script.split('\n');
  expect(lines[0]).toMatch(/^weave launch( |$)/);
  expect(script).toContain('--driver weave --ipam-driver weavemesh ');
  return lines
    .map((l) =>
      l.startsWith('weave launch')
        ? `${l} --plugin-socket ${pluginSockets[0]} --plugin-mesh-socket ${pluginSockets[1]}`
        : l.replace(
            '--driver weave --ipam-driver weavemesh ',
            `--driver ${netDriver} --ipam-driver ${ipamDriver} `,
          ),
    )
    .join('\n');
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!engineAvailable())('the Docker guide, as written', () => {
  let engine: TestEngine | undefined;
  let dir: string;
  let launched = false;

  /** `sh -e <script>` in the engine's namespace, with `weave` on PATH and DOCKER_HOST the engine. */
  const sh = (script: string): Promise<Run> =>
    new Promise((resolve) => {
      const file = join(dir, `script-${randomBytes(2).toString('hex')}.sh`);
      writeFileSync(file, script);
      const { NODE_EXTRA_CA_CERTS: _a, WEAVE_HTTP_ADDR: _b, ORIG_DOCKER_HOST: _c, ...env } = process.env;
      execFile(
        'ip',
        ['netns', 'exec', engine?.netns ?? '', '/bin/sh', '-e', file],
        {
          cwd: dir,
          timeout: 240_000,
          env: {
            ...env,
            PATH: `${join(dir, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`,
            WEAVE_STATE_DIR: join(dir, 'state'),
            WEAVER_BIN: WEAVER,
            DOCKER_HOST: engine?.dockerHost ?? '',
            WEAVE_DOCKER_CLI: '/usr/bin/docker',
            WEAVE_PROXY_LISTEN: `unix://${proxySocket}`,
          },
        },
        (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
      );
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `${prefix}-guide-`));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'weave'),
      `#!/bin/sh\ncd '${ROOT}' && exec '${process.execPath}' --import tsx '${CLI}' "$@"\n`,
    );
    chmodSync(join(bin, 'weave'), 0o755);
    engine = await startTestEngine({ prefix, dockerBridge: true });
    await engine.cli(['tag', TEST_IMAGE, 'busybox']);
  }, 180_000);

  afterAll(async () => {
    if (engine && launched) await sh('weave stop || true\n');
    await engine?.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(existsSync(proxySocket)).toBe(false);
    rmSync(proxyDir, { recursive: true, force: true });
    for (const s of pluginSockets) expect(existsSync(s)).toBe(false);
  }, 120_000);

  it('runs the walkthrough: weave launch finds the engine and starts plugin and proxy', {
    timeout: 300_000,
  }, async () => {
    launched = true;
    const r = await sh(`set -x\n${testScript(walkthrough())}`);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    // weave status | grep Service:
    expect(r.stdout).toContain('        Service: proxy\n');
    expect(r.stdout).toContain('        Service: plugin (legacy)\n');
    // The plugin network's container answers ping at its weaveDNS address (from the mesh's range).
    expect(r.stdout).toMatch(/PING 10\.32\.\d+\.\d+ \(10\.32\.\d+\.\d+\)[^\n]*\n[\s\S]*?1 packets received/);
    expect(r.stderr).toMatch(/\+ docker run --rm --net=weave busybox ping -c 1 -W 2 10\.32\.\d+\.\d+\n/);
    // The proxied container has ethwe in WEAVE_CIDR's subnet and reaches db.weave.local.
    expect(r.stdout).toMatch(/inet 10\.32\.5\.\d+\/24 .*ethwe/);
    expect(r.stdout).toMatch(/PING db\.weave\.local \(10\.32\.5\.\d+\)[\s\S]*1 packets received/);
    expect(r.stdout).toContain(`-H=unix://${proxySocket}\n`);
    expect(r.stdout).toMatch(/--dns=172\.\d+\.\d+\.\d+ --dns-search=weave\.local\.\n/);
    // `weave stop` at the end took the sockets away.
    expect(existsSync(proxySocket)).toBe(false);
    for (const s of pluginSockets) expect(existsSync(s)).toBe(false);
  });

  it('weave launch --plugin=false --proxy=false starts neither', { timeout: 300_000 }, async () => {
    const r = await sh(
      [
        `weave launch --plugin=false --proxy=false --plugin-socket ${pluginSockets[0]} --plugin-mesh-socket ${pluginSockets[1]}`,
        'weave status',
        'weave env || echo "env exit $?"',
        'weave stop',
        '',
      ].join('\n'),
    );
    expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('        Service: router\n');
    expect(r.stdout).not.toContain('Service: proxy');
    expect(r.stdout).not.toContain('Service: plugin');
    expect(r.stdout).toContain('env exit 1\n');
    expect(r.stderr).toContain('weave proxy is not running.\n');
    expect(existsSync(proxySocket)).toBe(false);
    for (const s of pluginSockets) expect(existsSync(s)).toBe(false);
  });
});
