import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USAGE, UsageError } from '../src/index.js';
import { parseFlags, scanFlags, timesGiven } from '../src/parse-flags.js';
import { deadAddr, useWeaveFixture } from './weave-fixture.js';

const fixture = useWeaveFixture('wq-cli-flags-');
const weave = fixture.weave;

/** The usage error: usage text on stderr, nothing on stdout, exit 1, no request to weaver. */
const USAGE_EXIT = { code: 1, stdout: '', stderr: USAGE };

const STATUS = '        Version: 0.1.0\n\n        Service: router\n';

describe('parseFlags', () => {
  const opts = {
    h: { type: 'string' },
    hostname: { type: 'string', short: 'n' },
    quiet: { type: 'boolean' },
  } as const;

  it('reads flags anywhere between positionals, with their values', () => {
    const r = parseFlags(['a', '-h', 'x.weave.local', 'b', '--quiet', '-n', 'y'], opts);
    expect(r.values).toEqual({ h: 'x.weave.local', quiet: true, hostname: 'y' });
    expect(r.positionals).toEqual(['a', 'b']);
    expect(r.tokens.map((t) => t.index)).toEqual([0, 1, 3, 4, 5]);
    expect(timesGiven(r.tokens, 'h')).toBe(1);
  });

  it('turns every parse error into a UsageError', () => {
    for (const bad of [
      ['--nope'],
      ['-x'],
      ['-h'],
      ['-h', '--quiet'],
      ['--quiet=yes'],
      ['--', 'a'],
      ['-hx.weave.local'],
      ['--h', 'x'],
      ['--n', 'x'],
      ['--hostname=x'],
    ]) {
      expect(() => parseFlags(bad, opts), bad.join(' ')).toThrow(UsageError);
    }
  });

  it('accepts --name=value only for the options listed as inline', () => {
    expect(parseFlags(['--hostname=x'], opts, { inline: ['hostname'] }).values.hostname).toBe('x');
    expect(() => parseFlags(['-n=x'], opts, { inline: ['hostname'] })).toThrow(UsageError);
  });

  it('scanFlags reports unknown flags as tokens instead of failing', () => {
    const t = scanFlags(['--mine', '-it', '--other=1', 'img'], { mine: { type: 'boolean' } });
    expect(t.map((x) => (x.kind === 'option' ? x.rawName : x.kind))).toEqual([
      '--mine',
      '-i',
      '-t',
      '--other',
      'positional',
    ]);
    expect(t.map((x) => x.index)).toEqual([0, 1, 1, 2, 3]);
  });
});

describe('expose flags', () => {
  function exposeRoutes() {
    fixture.fake.routes.set('GET /status', () => ({ body: STATUS }));
    fixture.fake.routes.set('PUT /ip/weave:expose/10.9.0.1/24', () => ({ status: 204 }));
    fixture.fake.routes.set('POST /expose/10.9.0.1/24', () => ({ status: 204 }));
    fixture.fake.routes.set('PUT /name/weave:expose/10.9.0.1', () => ({ status: 204 }));
  }

  it('takes -h and --without-masquerade in either order after the addresses', async () => {
    exposeRoutes();
    for (const flags of [
      ['-h', 'gw.weave.local', '--without-masquerade'],
      ['--without-masquerade', '-h', 'gw.weave.local'],
    ]) {
      fixture.fake.seen.length = 0;
      const r = await weave(['expose', '10.9.0.1/24', ...flags]);
      expect(r).toEqual({ code: 0, stdout: '10.9.0.1\n', stderr: '' });
      expect(fixture.fake.seen.find((s) => s.path.startsWith('/expose'))?.query).toEqual({
        skipNAT: ['true'],
      });
      expect(fixture.fake.seen.find((s) => s.path.startsWith('/name'))?.form).toEqual({
        fqdn: ['gw.weave.local'],
      });
    }
  });

  it('an unknown flag, a repeated -h, --hostname, -hNAME or a flag value is the usage error', async () => {
    exposeRoutes();
    for (const args of [
      ['10.9.0.1/24', '--masquerade'],
      ['10.9.0.1/24', '-x'],
      ['10.9.0.1/24', '-h', 'a.weave.local', '-h', 'b.weave.local'],
      ['10.9.0.1/24', '--hostname', 'a.weave.local'],
      ['10.9.0.1/24', '-ha.weave.local'],
      ['10.9.0.1/24', '--without-masquerade=true'],
      ['10.9.0.1/24', '-h', '--without-masquerade'],
    ]) {
      expect(await weave(['expose', ...args]), args.join(' ')).toEqual(USAGE_EXIT);
    }
    expect(fixture.fake.seen.filter((s) => s.path !== '/status')).toEqual([]);
  });
});

describe('flags of reset, report, connect, env', () => {
  it('reset: only a single --force; anything else is the usage error before anything is touched', async () => {
    for (const args of [['--now'], ['--force=yes'], ['--force', '--force'], ['--force', 'x'], ['-f']]) {
      expect(await weave(['reset', ...args]), args.join(' ')).toEqual(USAGE_EXIT);
    }
    expect(fixture.fake.seen).toEqual([]);
  });

  it('report: -f TEMPLATE once; -fX, --format, a missing template or extra words are the usage error', async () => {
    fixture.fake.routes.set('GET /report', (req) => ({ body: req.query.format?.[0] ?? 'json' }));
    expect(await weave(['report', '-f', '{{.Router.Name}}'])).toEqual({
      code: 0,
      stdout: '{{.Router.Name}}',
      stderr: '',
    });
    for (const args of [
      ['-f'],
      ['-f{{.Router.Name}}'],
      ['--format', 'x'],
      ['--f', 'x'],
      ['-f', 'x', 'y'],
      ['-f', 'x', '-f', 'y'],
      ['x'],
      ['--json'],
    ]) {
      expect(await weave(['report', ...args]), args.join(' ')).toEqual(USAGE_EXIT);
    }
    expect(fixture.fake.seen).toHaveLength(1);
  });

  it('connect: --replace in front of the peers only; unknown flags are the usage error', async () => {
    fixture.fake.routes.set('POST /connect', () => ({ status: 200 }));
    expect((await weave(['connect', '--replace'])).code).toBe(0);
    expect(fixture.fake.seen.map((s) => s.form)).toEqual([{ replace: ['true'] }]);
    for (const args of [
      ['10.0.0.1', '--replace'],
      ['--replace=true', '10.0.0.1'],
      ['--force', '10.0.0.1'],
      ['10.0.0.1', '-x'],
    ]) {
      expect(await weave(['connect', ...args]), args.join(' ')).toEqual(USAGE_EXIT);
    }
    expect(fixture.fake.seen).toHaveLength(1);
  });

  it('env: --restore alone; anything else is the usage error', async () => {
    expect(await weave(['env', '--restore'], { ORIG_DOCKER_HOST: 'unix:///run/d.sock' })).toEqual({
      code: 0,
      stdout: 'export DOCKER_HOST=unix:///run/d.sock\n',
      stderr: '',
    });
    for (const args of [['--restore=1'], ['--restore', '--restore'], ['--reset'], ['x']]) {
      expect(await weave(['env', ...args]), args.join(' ')).toEqual(USAGE_EXIT);
    }
  });
});

describe('flags of dns-add / dns-remove and attach', () => {
  it('dns-add: -h after the container, once; before it, repeated or unknown flags are the usage error', async () => {
    fixture.fake.routes.set('GET /status', () => ({ body: STATUS }));
    // Parsed fine: the container is looked up (and is not there).
    expect(await weave(['dns-add', '10.2.0.1', 'wq-no-such-netns', '-h', 'a.weave.local'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: No such container: wq-no-such-netns\n',
    });
    for (const args of [
      ['10.2.0.1', '-h', 'a.weave.local', 'wq-no-such-netns'],
      ['10.2.0.1', '-h', 'a.weave.local', '-h', 'b.weave.local'],
      ['10.2.0.1', '--hostname', 'a.weave.local'],
      ['10.2.0.1', '-ha.weave.local'],
      ['10.2.0.1', '-h', 'a.weave.local', '--force'],
      ['10.2.0.1', 'c1', 'c2'],
    ]) {
      expect(await weave(['dns-add', ...args]), args.join(' ')).toEqual(USAGE_EXIT);
      expect(await weave(['dns-remove', ...args]), args.join(' ')).toEqual(USAGE_EXIT);
    }
    expect(fixture.fake.seen.filter((s) => s.path.startsWith('/name'))).toEqual([]);
  });

  it('attach: -h/--hostname/--hostname=, --add-host[=], --rewrite-hosts and --no-multicast-route parse; others are the usage error', async () => {
    // Parsed fine: the container is looked up (and is not there).
    for (const args of [
      ['ip:10.2.1.7/24', '--no-multicast-route', '-h', 'a.weave.local', 'wq-no-such-netns'],
      ['--hostname=a.weave.local', 'wq-no-such-netns', '--rewrite-hosts'],
      [
        '--add-host',
        'h:10.0.0.1',
        '--add-host=g:10.0.0.2',
        'wq-no-such-netns',
        '--hostname',
        'a.weave.local',
      ],
    ]) {
      expect(await weave(['attach', ...args]), args.join(' ')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'Error: No such container: wq-no-such-netns\n',
      });
    }
    for (const args of [
      ['wq-no-such-netns', '--multicast-route'],
      ['-x', 'wq-no-such-netns'],
      ['-ha.weave.local', 'wq-no-such-netns'],
      ['--no-multicast-route=1', 'wq-no-such-netns'],
      ['wq-no-such-netns', '-h'],
      ['--', 'wq-no-such-netns'],
      ['-h', 'a.weave.local', '10.2.1.7/24', 'wq-no-such-netns'],
    ]) {
      expect(await weave(['attach', ...args]), args.join(' ')).toEqual(USAGE_EXIT);
    }
    expect(fixture.fake.seen).toEqual([]);
  });
});

describe('flags of run and launch (the rest passed through untouched)', () => {
  it('run: addresses and its own flags first, in any order; docker gets everything from the first other word', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wq-cli-run-'));
    try {
      const log = join(dir, 'argv.json');
      const cli = join(dir, 'docker');
      writeFileSync(
        cli,
        `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)));\nconsole.log('${'a'.repeat(64)}');\n`,
      );
      chmodSync(cli, 0o755);
      const docker = [
        '-it',
        '--name=c1',
        '--without-dns',
        '--add-host',
        'h:1.2.3.4',
        '-e',
        'X=--no-multicast-route',
        'img',
        '10.2.0.1/24',
        '--',
        'sh',
      ];
      const r = await weave(
        [
          'run',
          '--without-dns',
          'net:10.40.0.0/16',
          '--add-host=g:10.0.0.2',
          '--rewrite-hosts',
          '10.2.0.9/24',
          ...docker,
        ],
        { WEAVE_DOCKER_CLI: cli },
      );
      expect(JSON.parse(readFileSync(log, 'utf8'))).toEqual([
        'run',
        '-d',
        '-e',
        'WEAVE_CIDR=none',
        ...docker,
      ]);
      // Attach then looks the (made-up) container up.
      expect(r).toEqual({ code: 1, stdout: '', stderr: `Error: No such container: ${'a'.repeat(64)}\n` });
      // No --without-dns: weaveDNS is asked for its flags.
      fixture.fake.seen.length = 0;
      await weave(['run', '--without-dns=1', 'img'], { WEAVE_DOCKER_CLI: cli });
      expect(JSON.parse(readFileSync(log, 'utf8'))).toEqual([
        'run',
        '-d',
        '-e',
        'WEAVE_CIDR=none',
        '--without-dns=1',
        'img',
      ]);
      expect(fixture.fake.seen.map((s) => s.path)).toEqual(['/dns-address', '/domain']);
      // Nothing for docker is the usage error.
      expect(await weave(['run', '--without-dns', '10.2.0.9/24'], { WEAVE_DOCKER_CLI: cli })).toEqual(
        USAGE_EXIT,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('launch: takes -password/--password[=], -iprange/--iprange/--ipalloc-range[=], --no-restart; passes the rest to weaver as given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wq-cli-launch-'));
    const bin = join(dir, 'weaver-echo.js');
    writeFileSync(
      bin,
      'console.error("ARGS " + JSON.stringify([process.env.WEAVE_PASSWORD, ...process.argv.slice(2)])); process.exit(1);\n',
    );
    try {
      const http = await deadAddr();
      // No engine (on a Docker host too): launch's Docker defaults are in launch-docker.test.ts.
      const env = {
        WEAVE_STATE_DIR: dir,
        WEAVER_BIN: bin,
        WEAVE_HTTP_ADDR: http,
        DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}`,
      };
      const weaverArgs = async (args: string[]) => {
        rmSync(join(dir, 'weaver.log'), { force: true });
        const r = await weave(['launch', ...args], env);
        expect(r.code).toBe(1);
        const line = readFileSync(join(dir, 'weaver.log'), 'utf8')
          .split('\n')
          .find((l) => l.startsWith('ARGS '));
        return JSON.parse(line?.slice(5) ?? 'null') as (string | null)[];
      };
      const base = ['--db-prefix', join(dir, 'db', 'weave'), '--http-addr', http];
      expect(
        await weaverArgs([
          '-password',
          's3cret',
          '--nickname',
          'n1',
          '-iprange',
          '10.99.0.0/16',
          '--no-restart',
          '--iprange=10.1.0.0/16',
          '-password=x',
          '--log-level=debug',
          '--no-restart=1',
          '10.0.0.1',
        ]),
      ).toEqual([
        's3cret',
        '--ipalloc-range',
        '10.99.0.0/16',
        ...base,
        '--nickname',
        'n1',
        '--iprange=10.1.0.0/16',
        '-password=x',
        '--log-level=debug',
        '--no-restart=1',
        '10.0.0.1',
      ]);
      expect(
        await weaverArgs(['10.0.0.2', '--password=p=q', '--ipalloc-range=10.98.0.0/16', '-nickname', 'x']),
      ).toEqual(['p=q', '--ipalloc-range', '10.98.0.0/16', ...base, '10.0.0.2', '-nickname', 'x']);
      expect(await weave(['launch', '--ipalloc-range', '10.98.0.0/16', '--password'], env)).toEqual(
        USAGE_EXIT,
      );
      expect(await weave(['launch', '-iprange'], env)).toEqual(USAGE_EXIT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
