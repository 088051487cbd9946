import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NOT_PRESENT_MESSAGE, NOT_RUNNING_MESSAGE, USAGE } from '../src/index.js';
import { deadAddr, useWeaveFixture } from './weave-fixture.js';

const fixture = useWeaveFixture('wc-cli-');
const weave = fixture.weave;

const STATUS = '        Version: 0.1.0\n\n        Service: router\n';

describe('help and unknown verbs', () => {
  it('prints usage for --help (exit 0), nothing (exit 1) and an unknown verb (exit 1)', async () => {
    expect(await weave(['--help'])).toEqual({ code: 0, stdout: '', stderr: USAGE });
    expect(await weave([])).toEqual({ code: 1, stdout: '', stderr: USAGE });
    expect(await weave(['frobnicate'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `Unknown weave command 'frobnicate'\n${USAGE}`,
    });
  });
});

describe('status', () => {
  it('frames the full status with blank lines', async () => {
    fixture.fake.routes.set('GET /status', () => ({ body: STATUS }));
    expect(await weave(['status'])).toEqual({ code: 0, stdout: `\n${STATUS}\n`, stderr: '' });
  });

  it('passes a sub-command through without blank lines', async () => {
    fixture.fake.routes.set('GET /status/connections', () => ({ body: '-> 10.0.0.1:6783 established\n' }));
    const r = await weave(['status', 'connections']);
    expect(r).toEqual({ code: 0, stdout: '-> 10.0.0.1:6783 established\n', stderr: '' });
    expect(fixture.fake.seen.map((s) => `${s.method} ${s.path}`)).toEqual(['GET /status/connections']);
  });

  it('an unknown sub-command (404) prints upstream text and usage, exit 1', async () => {
    const r = await weave(['status', 'bogus']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`Invalid 'weave status' sub-command: bogus\n${USAGE}`);
  });

  it('a 503 (not ready) prints weaver text and exits 1', async () => {
    fixture.fake.routes.set('GET /status', () => ({ status: 503, body: 'not ready\n' }));
    const r = await weave(['status']);
    expect(r).toEqual({ code: 1, stdout: '\n\n', stderr: 'not ready\n' });
  });

  it('without weaver: upstream "not present" text', async () => {
    const r = await weave(['status'], { WEAVE_HTTP_ADDR: await deadAddr() });
    expect(r).toEqual({ code: 1, stdout: '\n\n', stderr: `${NOT_PRESENT_MESSAGE}\n` });
    expect(NOT_PRESENT_MESSAGE).toBe('weave container is not present. Have you launched it?');
  });

  it('with a stale pid file: upstream "not running" text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wc-cli-stale-'));
    try {
      writeFileSync(join(dir, 'weaver.pid'), '999999999\n');
      const r = await weave(['status', 'peers'], { WEAVE_HTTP_ADDR: await deadAddr(), WEAVE_STATE_DIR: dir });
      expect(r).toEqual({ code: 1, stdout: '', stderr: `${NOT_RUNNING_MESSAGE}\n` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('report', () => {
  it('asks for JSON without -f and sends the template with -f', async () => {
    fixture.fake.routes.set('GET /report', (req) => ({
      body: req.query.format?.[0] ?? `{"accept":"${req.accept}"}`,
    }));
    expect((await weave(['report'])).stdout).toBe('{"accept":"application/json"}');
    expect((await weave(['report', '-f', '{{.DNS.Address}} {{.Router.Name}}'])).stdout).toBe(
      '{{.DNS.Address}} {{.Router.Name}}',
    );
    expect((await weave(['report', '-x'])).code).toBe(1);
  });
});

describe('connect / forget / rmpeer / prime', () => {
  it('connect sends every peer, and replace=true with --replace', async () => {
    fixture.fake.routes.set('POST /connect', () => ({ status: 200 }));
    expect((await weave(['connect', '10.0.0.1', '10.0.0.2:6783'])).code).toBe(0);
    expect((await weave(['connect', '--replace', '10.0.0.3'])).code).toBe(0);
    expect(fixture.fake.seen.map((s) => s.form)).toEqual([
      { peer: ['10.0.0.1', '10.0.0.2:6783'] },
      { replace: ['true'], peer: ['10.0.0.3'] },
    ]);
  });

  it('connect/forget without peers print usage; without weaver exit 7 (curl) with upstream text', async () => {
    expect((await weave(['connect'])).code).toBe(1);
    expect((await weave(['forget'])).stderr).toBe(USAGE);
    const r = await weave(['forget', '10.0.0.1'], { WEAVE_HTTP_ADDR: await deadAddr() });
    expect(r).toEqual({ code: 7, stdout: '', stderr: `${NOT_PRESENT_MESSAGE}\n` });
  });

  it('forget posts the peers', async () => {
    fixture.fake.routes.set('POST /forget', () => ({ status: 200 }));
    expect((await weave(['forget', '10.0.0.9'])).code).toBe(0);
    expect(fixture.fake.seen[0]?.form).toEqual({ peer: ['10.0.0.9'] });
  });

  it('rmpeer prints what weaver says and fails (exit 1) on an error, continuing with the rest', async () => {
    fixture.fake.routes.set('DELETE /peer/hostC', () => ({ body: '32 IPs taken over from hostC\n' }));
    fixture.fake.routes.set('DELETE /peer/nobody', () => ({ status: 400, body: 'unknown peer nobody\n' }));
    expect(await weave(['rmpeer', 'hostC'])).toEqual({
      code: 0,
      stdout: '32 IPs taken over from hostC\n',
      stderr: '',
    });
    expect(await weave(['rmpeer', 'nobody', 'hostC'])).toEqual({
      code: 1,
      stdout: '32 IPs taken over from hostC\n',
      stderr: 'unknown peer nobody\n',
    });
  });

  it('prime waits on /ring', async () => {
    fixture.fake.routes.set('GET /ring', () => ({ status: 200, body: '' }));
    expect((await weave(['prime'])).code).toBe(0);
    expect(fixture.fake.seen.map((s) => s.path)).toEqual(['/ring']);
  });
});

describe('dns-add / dns-remove without a container', () => {
  it('registers and removes names under weave:extern', async () => {
    fixture.fake.routes.set('GET /status', () => ({ body: STATUS }));
    fixture.fake.routes.set('PUT /name/weave:extern/10.2.0.1', () => ({ status: 204 }));
    fixture.fake.routes.set('PUT /name/weave:extern/10.2.0.2', () => ({ status: 204 }));
    fixture.fake.routes.set('DELETE /name/weave:extern/10.2.0.1', () => ({ status: 204 }));
    expect((await weave(['dns-add', '10.2.0.1', '10.2.0.2', '-h', 'db.weave.local'])).code).toBe(0);
    expect((await weave(['dns-remove', '10.2.0.1', '-h', 'db.weave.local'])).code).toBe(0);
    const calls = fixture.fake.seen.filter((s) => s.path.startsWith('/name'));
    expect(calls).toEqual([
      expect.objectContaining({
        method: 'PUT',
        path: '/name/weave:extern/10.2.0.1',
        form: { fqdn: ['db.weave.local'] },
      }),
      expect.objectContaining({
        method: 'PUT',
        path: '/name/weave:extern/10.2.0.2',
        form: { fqdn: ['db.weave.local'] },
      }),
      expect.objectContaining({
        method: 'DELETE',
        path: '/name/weave:extern/10.2.0.1',
        query: { fqdn: ['db.weave.local'] },
      }),
    ]);
  });

  it('needs a container or IPs with -h, and a running weaver', async () => {
    expect((await weave(['dns-add', '10.2.0.1'])).stderr).toBe(USAGE);
    expect((await weave(['dns-add', '-h', 'x.weave.local'])).code).toBe(1);
    const r = await weave(['dns-add', '10.2.0.1', '-h', 'x.weave.local'], {
      WEAVE_HTTP_ADDR: await deadAddr(),
    });
    expect(r).toEqual({ code: 1, stdout: '', stderr: `${NOT_PRESENT_MESSAGE}\n` });
  });

  it('an unknown container is upstream "No such container"', async () => {
    fixture.fake.routes.set('GET /status', () => ({ body: STATUS }));
    const r = await weave(['dns-add', 'wc-no-such-netns-x'], {});
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'Error: No such container: wc-no-such-netns-x\n' });
  });
});

describe('expose', () => {
  it('allocates for weave:expose, asks weaver to expose, registers -h and prints the address', async () => {
    fixture.fake.routes.set('GET /status', () => ({ body: STATUS }));
    fixture.fake.routes.set('POST /ip/weave:expose', () => ({ body: '10.32.0.7/12' }));
    fixture.fake.routes.set('POST /expose/10.32.0.7/12', () => ({ status: 204 }));
    fixture.fake.routes.set('PUT /name/weave:expose/10.32.0.7', () => ({ status: 204 }));
    const r = await weave(['expose', '-h', 'host.weave.local']);
    expect(r).toEqual({ code: 0, stdout: '10.32.0.7\n', stderr: '' });
    expect(fixture.fake.seen.filter((s) => s.path !== '/status').map((s) => `${s.method} ${s.path}`)).toEqual(
      ['POST /ip/weave:expose', 'POST /expose/10.32.0.7/12', 'PUT /name/weave:expose/10.32.0.7'],
    );
  });

  it('claims plain addresses, allocates in a subnet and skips NAT with --without-masquerade', async () => {
    fixture.fake.routes.set('GET /status', () => ({ body: STATUS }));
    fixture.fake.routes.set('PUT /ip/weave:expose/10.9.0.1/24', () => ({ status: 204 }));
    fixture.fake.routes.set('POST /ip/weave:expose/10.40.0.0/16', () => ({ body: '10.40.0.1/16' }));
    fixture.fake.routes.set('POST /expose/10.9.0.1/24', () => ({ status: 204 }));
    fixture.fake.routes.set('POST /expose/10.40.0.1/16', () => ({ status: 204 }));
    const r = await weave(['expose', 'ip:10.9.0.1/24', 'net:10.40.0.0/16', '--without-masquerade']);
    expect(r).toEqual({ code: 0, stdout: '10.9.0.1 10.40.0.1\n', stderr: '' });
    const exposes = fixture.fake.seen.filter((s) => s.path.startsWith('/expose'));
    expect(exposes.map((s) => s.query)).toEqual([{ skipNAT: ['true'] }, { skipNAT: ['true'] }]);
  });

  it('net: without IPAM (404) is upstream text', async () => {
    const r = await weave(['expose']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: "IP address allocation must be enabled to use 'net:'\n",
    });
  });

  it('bad arguments print usage', async () => {
    expect((await weave(['expose', '-h'])).stderr).toBe(USAGE);
    expect((await weave(['expose', '10.0.0.1/24', 'junk'])).code).toBe(1);
  });
});

describe('stop / version', () => {
  it('stop without a weaver says so and succeeds', async () => {
    expect(await weave(['stop'])).toEqual({ code: 0, stdout: '', stderr: 'Weave is not running.\n' });
    expect((await weave(['stop', 'x'])).stderr).toBe(USAGE);
  });

  it('version names the script version first', async () => {
    const r = await weave(['version'], { WEAVER_BIN: '/nonexistent/weaver' });
    expect(r.stdout).toMatch(/^weave script \d+\.\d+\.\d+\n$/);
    expect(r.stderr).toBe('Unable to find weaver.\n');
  });
});

describe('reset', () => {
  it('refuses when the weaver died (stale pid file) unless --force, with upstream text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wc-cli-reset-'));
    try {
      writeFileSync(join(dir, 'weaver.pid'), '999999999\n');
      const r = await weave(['reset'], { WEAVE_STATE_DIR: dir, WEAVE_HTTP_ADDR: await deadAddr() });
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'ERROR: weave is not running; unable to remove from cluster.\nRe-launch weave before reset or use --force to override.\n',
      });
      expect((await weave(['reset', '--now'], { WEAVE_STATE_DIR: dir })).stderr).toBe(USAGE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('launch', () => {
  it('refuses when a weaver already runs (pid file names a live weaver)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wc-cli-run-'));
    const { spawn } = await import('node:child_process');
    // A live process whose command line mentions weaver.
    const child = spawn(process.execPath, ['-e', 'setTimeout(()=>{},30000)', 'weaver'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'weaver.pid'), `${child.pid}\n`);
      const r = await weave(['launch'], { WEAVE_STATE_DIR: dir });
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: "weave is already running; you can stop it with 'weave stop'.\n",
      });
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a weaver that dies during start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wc-cli-die-'));
    const bin = join(dir, 'weaver-dies.js');
    writeFileSync(bin, 'console.error("FATAL: nope"); process.exit(1);\n');
    try {
      const r = await weave(['launch', '--ipalloc-range', '10.99.0.0/16'], {
        WEAVE_STATE_DIR: dir,
        WEAVER_BIN: bin,
        WEAVE_HTTP_ADDR: await deadAddr(),
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'The weave container has died. Consult the container logs for further details.',
      );
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(join(dir, 'weaver.log'), 'utf8')).toContain('FATAL: nope');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
