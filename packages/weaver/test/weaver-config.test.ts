import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createDaemonLogger,
  formatLogTime,
  formatOptionsMap,
  parseListenAddress,
  parseLogLevel,
  parseWeaverArgs,
  WEAVER_VERSION,
  type WeaverConfig,
  WeaverUsageError,
} from '../src/index.js';

function run(argv: string[], env: NodeJS.ProcessEnv = {}): WeaverConfig {
  const r = parseWeaverArgs(argv, env);
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.output}`);
  return r.config;
}

describe('weaver flags', () => {
  it('defaults: upstream ports, loopback HTTP and status, no IPAM without a range, DNS on', () => {
    const c = run([]);
    expect(c.httpAddr).toBe('127.0.0.1:6784');
    expect(c.statusAddr).toBe('127.0.0.1:6782');
    expect(c.metricsAddr).toBe('');
    expect(c.peer).toMatchObject({
      port: 6783,
      peers: [],
      discovery: true,
      connLimit: 200,
      ipam: false,
      datapath: 'auto',
    });
    expect(c.peer.dns).toEqual({ domain: 'weave.local.', listen: '0.0.0.0:53', ttl: 1 });
    expect(c.peer.dataDir).toBe('/var/lib/weave/weavedata');
    expect(c.peer.password).toBeUndefined();
  });

  it('maps every flag to createPeer options; peers are arguments', () => {
    const c = run([
      '--port=6790',
      '--name',
      '0a:00:00:00:00:01',
      '--nickname',
      'hostA',
      '--host',
      '10.0.0.1',
      '--trusted-subnets',
      '10.0.0.0/8,192.168.0.0/16',
      '--no-discovery',
      '--conn-limit',
      '30',
      '--ipalloc-range',
      '172.16.16.0/24',
      '--ipalloc-default-subnet',
      '172.16.16.0/25',
      '--ipalloc-init',
      'consensus=3',
      '--dns-listen-address',
      '127.0.0.1:5353',
      '--dns-domain',
      'example.local.',
      '--dns-ttl',
      '5',
      '--datapath',
      'none',
      '--mtu',
      '1400',
      '--weave-bridge',
      'wwbr',
      '--db-prefix',
      '/tmp/x/weave',
      '--http-addr',
      '127.0.0.1:0',
      '--status-addr',
      '',
      '--log-level',
      'debug',
      '10.0.0.2',
      '10.0.0.3:6783',
    ]);
    expect(c.peer).toEqual({
      name: '0a:00:00:00:00:01',
      nickname: 'hostA',
      host: '10.0.0.1',
      port: 6790,
      peers: ['10.0.0.2', '10.0.0.3:6783'],
      trustedSubnets: ['10.0.0.0/8', '192.168.0.0/16'],
      discovery: false,
      connLimit: 30,
      ipam: { range: '172.16.16.0/24', defaultSubnet: '172.16.16.0/25', init: 'consensus=3' },
      dns: { domain: 'example.local.', listen: '127.0.0.1:5353', ttl: 5 },
      datapath: 'none',
      bridge: { name: 'wwbr', keep: true, mtu: 1400 },
      dataDir: '/tmp/x/weavedata',
    });
    expect(c.httpAddr).toBe('127.0.0.1:0');
    expect(c.statusAddr).toBe('');
    expect(c.logLevel).toBe('debug');
    expect(formatOptionsMap(c.given)).toMatch(/^map\[conn-limit:30 datapath:none db-prefix:\/tmp\/x\/weave /);
  });

  it('password from --password or WEAVE_PASSWORD, redacted in the options line', () => {
    expect(run([], { WEAVE_PASSWORD: 's3cret' }).peer.password).toBe('s3cret');
    const c = run(['--password', 'pw'], { WEAVE_PASSWORD: 'other' });
    expect(c.peer.password).toBe('pw');
    expect(c.given.password).toBe('<redacted>');
  });

  it('--no-fastdp means sleeve; --no-dns turns DNS off; --resume', () => {
    expect(run(['--no-fastdp']).peer.datapath).toBe('sleeve');
    expect(run(['--no-fastdp', '--datapath', 'none']).peer.datapath).toBe('none');
    expect(run(['--no-dns']).peer.dns).toBe(false);
    expect(run(['--resume']).resume).toBe(true);
    expect(run(['--db-prefix', '']).peer.dataDir).toBeUndefined();
  });

  it('--resolv-conf gives the upstream servers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wwcfg'));
    try {
      const file = join(dir, 'resolv.conf');
      writeFileSync(file, '# comment\nnameserver 10.0.0.53\nsearch x\nnameserver 1.1.1.1\n');
      expect(run(['--resolv-conf', file]).peer.dns).toMatchObject({ upstream: ['10.0.0.53', '1.1.1.1'] });
      expect(() => run(['--resolv-conf', join(dir, 'missing')])).toThrow(/Unable to read --resolv-conf/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--version and --help exit 0; bad flags exit 2 with the usage', () => {
    expect(parseWeaverArgs(['--version'])).toEqual({
      kind: 'exit',
      output: `weave ${WEAVER_VERSION}\n`,
      exitCode: 0,
    });
    const help = parseWeaverArgs(['--help']);
    expect(help).toMatchObject({ kind: 'exit', exitCode: 0 });
    expect(help.kind === 'exit' && help.output).toContain('--ipalloc-range <cidr>');
    for (const bad of [
      ['--port', 'x'],
      ['--port', '70000'],
      ['--bogus'],
      ['--datapath', 'warp'],
      ['--conn-limit'],
    ]) {
      const r = parseWeaverArgs(bad);
      expect(r.kind === 'exit' && r.exitCode).toBe(2);
    }
  });

  it('semantic errors use upstream texts', () => {
    const err = (argv: string[]) => {
      try {
        parseWeaverArgs(argv, {});
      } catch (e) {
        expect(e).toBeInstanceOf(WeaverUsageError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err(['--ipalloc-default-subnet', '10.0.0.0/8'])).toBe(
      '--ipalloc-default-subnet specified without --ipalloc-range.',
    );
    expect(err(['--ipalloc-init', 'consensus'])).toBe('--ipalloc-init specified without --ipalloc-range.');
    expect(err(['--ipalloc-range', '10.0.0.0/8', '--ipalloc-init', 'magic'])).toBe(
      'Unable to parse --ipalloc-init: unknown mode: magic',
    );
    expect(err(['--ipalloc-range', '10.0.0.0/8', '--ipalloc-init', 'seed'])).toBe(
      'Unable to parse --ipalloc-init: seed mode requires peer name list',
    );
    expect(err(['--ipalloc-range', '10.0.0.0/8', '--ipalloc-init', 'observer=1'])).toBe(
      'Unable to parse --ipalloc-init: observer mode takes no parameter',
    );
    expect(err(['--ipalloc-range', '10.0.0.0/8', '--ipalloc-init', 'consensus=x'])).toMatch(
      /bad consensus parameter/,
    );
    expect(err(['--ipalloc-range', '10.0.0.1/8'])).toMatch(/bits after network prefix are not all zero/);
    expect(err(['--trusted-subnets', '10.0.0.0/99'])).toBe(
      'Unable to parse trusted subnets: invalid CIDR address: 10.0.0.0/99',
    );
    expect(err(['--resume', '10.0.0.2'])).toBe(
      'You must not specify an initial peer list in conjunction with --resume',
    );
    expect(err(['--log-level', 'loud'])).toBe('not a valid logrus Level: "loud"');
    expect(err(['--dns-listen-address', '127.0.0.1'])).toMatch(/missing port in address/);
  });
});

describe('listen addresses', () => {
  it('host:port, [v6]:port, :port and unix paths', () => {
    expect(parseListenAddress('127.0.0.1:6784')).toEqual({ host: '127.0.0.1', port: 6784 });
    expect(parseListenAddress('[::1]:6784')).toEqual({ host: '::1', port: 6784 });
    expect(parseListenAddress(':6784')).toEqual({ host: '', port: 6784 });
    expect(parseListenAddress('/run/weave.sock')).toEqual({ path: '/run/weave.sock' });
    expect(() => parseListenAddress('127.0.0.1')).toThrow('missing port in address');
    expect(() => parseListenAddress('127.0.0.1:99999')).toThrow();
  });
});

describe('log format', () => {
  it('INFO: 2006/01/02 15:04:05.000000 message, levels filtered', () => {
    const lines: string[] = [];
    const at = new Date(2026, 11, 4, 17, 0, 0, 123).getTime();
    const log = createDaemonLogger({ level: 'info', write: (l) => lines.push(l), now: () => at });
    log.debug('hidden');
    log.info('Our name is 0a:00:00:00:00:01(hostA)');
    log.warn('careful');
    log.error('bad');
    log.fatal('dead');
    expect(lines).toEqual([
      'INFO: 2026/12/04 17:00:00.123000 Our name is 0a:00:00:00:00:01(hostA)\n',
      'WARN: 2026/12/04 17:00:00.123001 careful\n',
      'ERRO: 2026/12/04 17:00:00.123002 bad\n',
      'FATA: 2026/12/04 17:00:00.123003 dead\n',
    ]);
    expect(formatLogTime(new Date(2026, 0, 2, 3, 4, 5, 6))).toBe('2026/01/02 03:04:05.006000');
    expect(parseLogLevel('WARN')).toBe('warning');
    const debug: string[] = [];
    createDaemonLogger({ level: 'debug', write: (l) => debug.push(l) }).debug('x');
    expect(debug[0]).toMatch(/^DEBU: \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} x\n$/);
  });
});
