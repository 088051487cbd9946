import { describe, expect, it } from 'vitest';
import { cidrsOverlap, ipv4Range } from '../src/cidr.js';
import {
  collectCidrArgs,
  collectIpArgs,
  containerFqdn,
  findContainer,
  registerContainerResolver,
  showAddrs,
  vethId,
} from '../src/index.js';
import { parseHostPort } from '../src/http-client.js';
import { currentNetnsLabel, statePaths } from '../src/state-dir.js';

describe('address arguments (collect_cidr_args / collect_ip_args)', () => {
  it('takes leading [ip:]cidr, net:cidr and net:default, dropping ip:', () => {
    expect(
      collectCidrArgs([
        'ip:10.2.1.1/24',
        'net:10.2.2.0/24',
        'net:default',
        '10.3.0.1/16',
        'c1',
        '10.0.0.1/8',
      ]),
    ).toEqual({
      cidrs: ['10.2.1.1/24', 'net:10.2.2.0/24', 'net:default', '10.3.0.1/16'],
      rest: ['c1', '10.0.0.1/8'],
    });
    expect(collectCidrArgs(['c1'])).toEqual({ cidrs: [], rest: ['c1'] });
    expect(collectCidrArgs(['10.2.1.1', 'c1'])).toEqual({ cidrs: [], rest: ['10.2.1.1', 'c1'] });
    expect(collectCidrArgs(['net:foo', 'c1'])).toEqual({ cidrs: [], rest: ['net:foo', 'c1'] });
  });

  it('takes leading plain IPs', () => {
    expect(collectIpArgs(['10.0.0.1', '10.0.0.2', 'c', '-h', 'x'])).toEqual({
      ips: ['10.0.0.1', '10.0.0.2'],
      rest: ['c', '-h', 'x'],
    });
    expect(collectIpArgs(['10.0.0.1/24'])).toEqual({ ips: [], rest: ['10.0.0.1/24'] });
  });

  it('show_addrs drops the prefix lengths', () => {
    expect(showAddrs(['10.32.0.1/12', '10.2.1.1/24'])).toBe('10.32.0.1 10.2.1.1');
    expect(showAddrs([])).toBe('');
  });
});

describe('CIDR overlap (netcheck)', () => {
  it('finds overlaps both ways and ignores malformed input', () => {
    expect(ipv4Range('10.32.0.0/12')).toEqual([10 * 2 ** 24 + 32 * 2 ** 16, 2 ** 20]);
    expect(cidrsOverlap('10.32.0.0/12', '10.40.1.0/24')).toBe(true);
    expect(cidrsOverlap('10.40.1.0/24', '10.32.0.0/12')).toBe(true);
    expect(cidrsOverlap('10.32.0.0/12', '10.48.0.0/12')).toBe(false);
    expect(cidrsOverlap('10.250.0.0/24', '10.32.0.0/12')).toBe(false);
    expect(cidrsOverlap('10.1.2.3', '10.1.2.0/24')).toBe(true);
    expect(cidrsOverlap('bogus', '10.0.0.0/8')).toBe(false);
  });
});

describe('HTTP address', () => {
  it('parses host:port and maps 0.0.0.0 to loopback', () => {
    expect(parseHostPort('127.0.0.1:6784')).toEqual({ host: '127.0.0.1', port: 6784 });
    expect(parseHostPort('0.0.0.0:6784')).toEqual({ host: '127.0.0.1', port: 6784 });
    expect(parseHostPort('[::1]:6784')).toEqual({ host: '::1', port: 6784 });
    expect(() => parseHostPort('127.0.0.1')).toThrow(RangeError);
    expect(() => parseHostPort('127.0.0.1:70000')).toThrow(RangeError);
  });
});

describe('container references', () => {
  it('veth ids fit the interface name and are stable', () => {
    const a = vethId({
      id: 'wtabcde-c1',
      netnsPath: '/run/netns/wtabcde-c1',
      netnsName: 'wtabcde-c1',
      pid: 1234,
    });
    expect(a).toMatch(/^[0-9a-z]{1,7}$/);
    expect(vethId({ id: 'wtabcde-c1', netnsPath: '/x', netnsName: 'wtabcde-c1' })).toBe(a);
    expect(vethId({ id: 'pid-4321', netnsPath: '/proc/4321/ns/net', pid: 4321 })).toBe('4321');
    expect(`vethwepl${vethId({ id: 'x'.repeat(64), netnsPath: '/x' })}`.length).toBeLessThanOrEqual(15);
  });

  it('registers a hostname only with a domain part (with_container_fqdn)', () => {
    const ref = (hostname?: string) => ({ id: 'c', netnsPath: '/x', ...(hostname ? { hostname } : {}) });
    expect(containerFqdn(ref('web1.weave.local'))).toBe('web1.weave.local');
    expect(containerFqdn(ref('web1.weave.local.'))).toBe('web1.weave.local.');
    expect(containerFqdn(ref('web1'))).toBeUndefined();
    expect(containerFqdn(ref('web1.'))).toBeUndefined();
    expect(containerFqdn(ref())).toBeUndefined();
  });

  it('asks registered resolvers (and lazy loaders) before the netns one', async () => {
    let loads = 0;
    registerContainerResolver(async () => {
      loads++;
      return {
        name: 'test',
        resolve: async (arg) =>
          arg === 'wc-test-cid' ? { id: 'f'.repeat(64), netnsPath: '/proc/1/ns/net' } : undefined,
      };
    });
    expect(await findContainer('wc-test-cid')).toEqual({ id: 'f'.repeat(64), netnsPath: '/proc/1/ns/net' });
    expect(await findContainer('wc-test-none')).toBeUndefined();
    expect(loads).toBe(1);
  });
});

describe('state directory', () => {
  it('is WEAVE_STATE_DIR verbatim, else /var/lib/weave (per namespace outside the initial one)', () => {
    expect(statePaths({ WEAVE_STATE_DIR: '/tmp/x' })).toEqual({
      dir: '/tmp/x',
      pidFile: '/tmp/x/weaver.pid',
      logFile: '/tmp/x/weaver.log',
      dbPrefix: '/tmp/x/db/weave',
      dbDir: '/tmp/x/db',
    });
    const label = currentNetnsLabel();
    expect(statePaths({}).dir).toBe(label === undefined ? '/var/lib/weave' : `/var/lib/weave/netns/${label}`);
  });
});
