// The packages as a consumer gets them: `pnpm pack` every package (its prepack builds dist), install the
// tarballs with npm into a throw-away project outside the workspace (third-party dependencies come from
// the registry; vitest is not installed there), import every entry point from plain ESM JavaScript and
// type-check a TypeScript file against the shipped declarations with the workspace's tsc.
//
// Slow (packing nine packages, an npm install, compiling the host addon: a few minutes on 2 cores), so it
// runs only with WEAVE_PACK_TEST=1 or in CI (CI set); CI sets CI=true.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = [
  'core',
  'ipam',
  'dns',
  'host',
  'datapath-sleeve',
  'datapath-fastdp',
  'peer',
  'weaver',
  'cli',
];
const enabled = process.env.WEAVE_PACK_TEST === '1' || (!!process.env.CI && process.env.CI !== 'false');

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;
// npm must not see the workspace's pnpm settings (it warns about unknown keys) nor install into it.
delete env.npm_config_user_agent;
for (const k of Object.keys(env)) if (k.startsWith('npm_') || k.startsWith('PNPM_')) delete env[k];

async function sh(cmd: string, args: string[], cwd: string, timeout = 600_000): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, env, timeout, maxBuffer: 64 << 20 });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`,
    );
  }
}

// npm installs core's optional vitest peer; a node:test/jest/mocha project has none. This resolve hook
// (node --import) makes vitest unresolvable, as it is there.
const NO_VITEST = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  if (specifier === 'vitest' || specifier.startsWith('vitest/')) {
    const err = new Error('Cannot find package vitest (hidden by the test)');
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}\`));
`)}`;

const CONSUMER_JS = `
import { createRequire } from 'node:module';
import * as core from '@weave-ts/core';
import * as protocol from '@weave-ts/core/protocol';
import * as testing from '@weave-ts/core/testing';
import * as ipam from '@weave-ts/ipam';
import * as dns from '@weave-ts/dns';
import * as host from '@weave-ts/host';
import * as sleeve from '@weave-ts/datapath-sleeve';
import * as fastdp from '@weave-ts/datapath-fastdp';
import * as peer from '@weave-ts/peer';
import * as weaver from '@weave-ts/weaver';
import * as cli from '@weave-ts/cli';

const require = createRequire(import.meta.url);
const out = {
  peerName: core.parsePeerName('aa:bb:cc:dd:ee:ff'),
  router: typeof core.Router,
  gobRoundTrip: protocol.decodeGob(protocol.t.string, protocol.encodeGob(protocol.t.string, 'weave')),
  protocolInMain: 'encodeGob' in core,
  simTime: await (async () => {
    const sim = new testing.SimNetwork({ clock: new testing.VirtualClock(0) });
    const done = new Promise((resolve) => sim.clock.setTimeout(() => resolve(sim.clock.now()), 250));
    return sim.runUntil(done);
  })(),
  compliance: await import('@weave-ts/core/testing/compliance').then(
    () => 'loaded',
    (e) => (String(e.message).includes('hidden by the test') ? 'no vitest' : 'other: ' + e.message),
  ),
  exported: Object.fromEntries(
    Object.entries({ ipam, dns, host, sleeve, fastdp, peer, weaver, cli }).map(([k, m]) => [k, Object.keys(m).length]),
  ),
  versions: ${JSON.stringify(PACKAGES)}.map((p) => require('@weave-ts/' + p + '/package.json').version),
  hostAddonMissingError: typeof host.HostAddonMissingError,
  createPeer: typeof peer.createPeer,
};
console.log(JSON.stringify(out));
`;

const CONSUMER_TS = `
import { type PeerName, parsePeerName, Router, type RouterOptions, type RouterStatus } from '@weave-ts/core';
import { encodeGob, t, type Infer } from '@weave-ts/core/protocol';
import { SimNetwork, VirtualClock } from '@weave-ts/core/testing';
import * as ipam from '@weave-ts/ipam';
import * as dns from '@weave-ts/dns';
import * as host from '@weave-ts/host';
import * as sleeve from '@weave-ts/datapath-sleeve';
import * as fastdp from '@weave-ts/datapath-fastdp';
import * as peer from '@weave-ts/peer';
import * as weaver from '@weave-ts/weaver';
import * as cli from '@weave-ts/cli';

const sim = new SimNetwork({ clock: new VirtualClock(0) });
const name: PeerName = parsePeerName('aa:bb:cc:dd:ee:ff');
const options: RouterOptions = { name, transport: sim.transport('10.0.0.1'), clock: sim.clock };
const router: Router = new Router(options);
const status: RouterStatus = router.status();
const summary = t.struct('S', { Name: t.string });
const value: Infer<typeof summary> = { Name: status.name };
export const bytes: Uint8Array = encodeGob(summary, value);
export const modules = [ipam, dns, host, sleeve, fastdp, peer, weaver, cli] as const;
// @ts-expect-error the protocol internals are not on the main entry
import type { GobEncoder } from '@weave-ts/core';
`;

describe.runIf(enabled)('packed tarballs installed with npm outside the workspace', () => {
  let dir = '';
  let app = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wk-pack-'));
    const tarballs = join(dir, 'tarballs');
    for (const p of PACKAGES)
      await sh('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', p));
    app = join(dir, 'app');
    await sh('mkdir', ['-p', app], dir);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'wk-consumer', private: true, type: 'module' }),
    );
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    await sh(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, '@types/node@^20'],
      app,
    );
  }, 1_200_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships dist, LICENSE and exports with types/import/default for every package', () => {
    for (const p of PACKAGES) {
      const dirOf = join(app, 'node_modules', '@weave-ts', p);
      const pkg = JSON.parse(readFileSync(join(dirOf, 'package.json'), 'utf8'));
      expect(existsSync(join(dirOf, 'dist', 'index.js')), `${p} dist`).toBe(true);
      expect(existsSync(join(dirOf, 'dist', 'index.d.ts')), `${p} types`).toBe(true);
      expect(readFileSync(join(dirOf, 'LICENSE'), 'utf8')).toContain('Apache License');
      expect(pkg.exports['.']).toMatchObject({ types: './dist/index.d.ts', default: './dist/index.js' });
      expect(pkg.exports['./package.json']).toBe('./package.json');
      expect(JSON.stringify(pkg.dependencies ?? {})).not.toContain('workspace:');
    }
    // The install script built the addon with the headers found on this machine.
    expect(existsSync(join(app, 'node_modules/@weave-ts/host/build/Release/weave_host.node'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/.bin/weaver'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/.bin/weave'))).toBe(true);
  });

  it('imports every entry point from plain ESM JavaScript, the simulation without vitest', async () => {
    writeFileSync(join(app, 'main.js'), CONSUMER_JS);
    const out = JSON.parse(
      (await sh(process.execPath, ['--import', NO_VITEST, 'main.js'], app, 60_000)).trim().split('\n').pop()!,
    );
    expect(out).toMatchObject({
      peerName: 'aa:bb:cc:dd:ee:ff',
      router: 'function',
      gobRoundTrip: 'weave',
      protocolInMain: false,
      simTime: 250,
      compliance: 'no vitest',
      versions: PACKAGES.map(() => '0.1.0'),
      hostAddonMissingError: 'function',
      createPeer: 'function',
    });
    for (const count of Object.values(out.exported)) expect(count).toBeGreaterThan(0);
  }, 120_000);

  it('type-checks a TypeScript consumer against the shipped declarations', async () => {
    writeFileSync(join(app, 'check.ts'), CONSUMER_TS);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['check.ts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app, 300_000);
    // The check can fail: a wrong type is reported.
    writeFileSync(join(app, 'check.ts'), `${CONSUMER_TS}\nexport const wrong: number = router.name;\n`);
    await expect(sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app, 300_000)).rejects.toThrow(/TS2322/);
  }, 600_000);
});
