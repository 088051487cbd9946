import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, killAll, type Proc, startWeaver } from '../weaver-process-helpers.js';
import { engineAvailable, startTestEngine, TEST_IMAGE, type TestEngine } from './test-engine.js';
import { until } from '../until.js';

// The `weaver` bin with --plugin and --proxy, in the namespace of a private engine (a "host" with its
// own docker0, as on a Docker host): the mesh's IPAM serves `docker network create --driver <ours>
// --ipam-driver <ours>`; containers on it ping each other and get weaveDNS names; the proxy attaches
// `docker run -e WEAVE_CIDR=net:…` containers before their command runs and they resolve *.weave.local
// through docker0 as upstream's do; a killed container's name goes at once and its address after the grace.

const hex = randomBytes(3).toString('hex');
const prefix = `wd-${hex}`;
const netDriver = `${prefix}n`;
const ipamDriver = `${prefix}i`;
const proxySocket = `/tmp/${prefix}-proxy.sock`;
const GRACE_MS = 2_000;
const DATAPATH = 'sleeve';

describe.skipIf(!engineAvailable())('weaver --plugin --proxy with a private engine', () => {
  let engine: TestEngine;
  let weaver: Proc;
  const viaProxy = (args: string[]) =>
    engine.cli(args, { host: `unix://${proxySocket}` }).catch((err: Error) => {
      throw new Error(`${err.message}\n--- weaver log ---\n${weaver.log()}`);
    });
  const api = (method: string, path: string, body?: string) => call(weaver.http, method, path, body);
  const owned = async () => (await api('GET', '/ip')).body;

  beforeAll(async () => {
    engine = await startTestEngine({ prefix, dockerBridge: true });
    process.env.WEAVE_PROXY_LISTEN = `unix://${proxySocket}`;
    process.env.WEAVE_CONTAINER_DIED_GRACE_MS = String(GRACE_MS);
    try {
      weaver = await startWeaver(
        [
          ...[
            '--port',
            '0',
            '--http-addr',
            `/tmp/${prefix}-http.sock`,
            '--status-addr',
            `/tmp/${prefix}-status.sock`,
          ],
          ...[
            '--dns-listen-address',
            '0.0.0.0:53',
            '--datapath',
            DATAPATH,
            '--ipalloc-range',
            '10.32.0.0/16',
          ],
          ...['--plugin', '--plugin-socket', `/run/docker/plugins/${netDriver}.sock`],
          ...['--plugin-mesh-socket', `/run/docker/plugins/${ipamDriver}.sock`],
          ...['--proxy', '--docker-api', engine.dockerHost, '--db-prefix', ''],
        ],
        engine.netns,
      );
    } finally {
      delete process.env.WEAVE_PROXY_LISTEN;
      delete process.env.WEAVE_CONTAINER_DIED_GRACE_MS;
    }
    await until('proxy socket', () => existsSync(proxySocket), 20_000).catch((err) => {
      throw new Error(`${err.message}\n${weaver.log()}`);
    });
  }, 180_000);

  afterAll(async () => {
    if (weaver && weaver.child.exitCode === null) {
      weaver.child.kill('SIGTERM');
      await Promise.race([weaver.exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    killAll();
    await engine?.stop();
    expect(existsSync(`/run/docker/plugins/${netDriver}.sock`)).toBe(false);
    expect(existsSync(proxySocket)).toBe(false);
    rmSync(`/tmp/${prefix}-http.sock`, { force: true });
    rmSync(`/tmp/${prefix}-status.sock`, { force: true });
  }, 120_000);

  it('shows the proxy and plugin services in weave status', async () => {
    const status = (await api('GET', '/status')).body;
    expect(status).toContain('        Service: proxy\n');
    expect(status).toContain(`        Address: unix://${proxySocket}\n`);
    expect(status).toContain('        Service: plugin (legacy)\n');
    expect(status).toContain(`     DriverName: ${netDriver}\n`);
    expect((await api('GET', '/proxyaddrs')).body).toContain(`unix://${proxySocket}`);
  });

  it('plugin network: two containers ping each other with mesh addresses, names in weaveDNS, released on rm', {
    timeout: 120_000,
  }, async () => {
    const net = `${prefix}-net`;
    await engine.cli(['network', 'create', '--driver', netDriver, '--ipam-driver', ipamDriver, net]);
    const [c1, c2] = [`${prefix}-c1`, `${prefix}-c2`];
    for (const c of [c1, c2])
      await engine.cli(['run', '-d', '--name', c, `--net=${net}`, TEST_IMAGE, 'sleep', '600']);
    const ip = async (c: string) =>
      (
        await engine.cli(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, c])
      ).trim();
    const [ip1, ip2] = [await ip(c1), await ip(c2)];
    expect(ip1).toMatch(/^10\.32\.\d+\.\d+$/);
    expect(ip2).toMatch(/^10\.32\.\d+\.\d+$/);
    expect(await owned()).toContain(ip1);
    expect(await engine.cli(['exec', c1, 'ping', '-c', '2', '-W', '2', ip2])).toMatch(/2 packets received/);
    await until('DNS names', async () => {
      const dns = (await api('GET', '/status/dns')).body;
      return dns.includes(c1) && dns.includes(c2);
    });
    await engine.cli(['rm', '-f', c1]);
    await until('release of the removed container', async () => !(await owned()).includes(ip1));
    await until('DNS removal', async () => !(await api('GET', '/status/dns')).body.includes(c1));
    await engine.cli(['rm', '-f', c2]);
    await engine.cli(['network', 'rm', net]);
  });

  it('proxy: WEAVE_CIDR=net:… gives ethwe in that subnet before the command runs and *.weave.local resolves', {
    timeout: 120_000,
  }, async () => {
    const srv = `${prefix}-srv`;
    const srvId = (await viaProxy(['run', '-d', '--name', srv, TEST_IMAGE, 'sleep', '600'])).trim();
    const srvIp = (await owned()).match(new RegExp(`${srvId}[^\\]]*?"(10\\.32\\.[\\d.]+)/16"`))?.[1];
    expect(srvIp, await owned()).toBeDefined();
    const out = await viaProxy([
      'run',
      '--rm',
      '-e',
      'WEAVE_CIDR=net:10.32.5.0/24',
      TEST_IMAGE,
      'sh',
      '-c',
      `ip -o -4 addr show dev ethwe; grep -E '^(nameserver|search)' /etc/resolv.conf; nslookup ${srv}.weave.local; nslookup ${srv}; true`,
    ]);
    expect(out, out).toMatch(/inet 10\.32\.5\.\d+\/24/);
    expect(out, `${out}\n${weaver.log()}`).toMatch(/^nameserver 172\./m);
    expect(out).toMatch(/^search weave\.local$/m);
    expect(out.match(new RegExp(`Address:\\s+${srvIp?.replace(/\./g, '\\.')}$`, 'gm'))?.length).toBe(2);

    // restarted (test 310): the same address again, and its name back
    await engine.cli(['restart', '-t', '0', srv]);
    await until('re-attach after restart', async () =>
      (
        await engine.cli(['exec', srv, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'ethwe']).catch(() => '')
      ).includes(`inet ${srvIp}/16`),
    );
    await until('name back after restart', async () => (await api('GET', '/status/dns')).body.includes(srv));

    // killed: the name goes at once, the address after the grace
    await engine.cli(['kill', srv]);
    const killedAt = Date.now();
    await until(
      'DNS removal on die',
      async () => !(await api('GET', '/status/dns')).body.includes(srv),
      5_000,
    );
    expect(await owned()).toContain(srvIp);
    await until('address free after the grace', async () => !(await owned()).includes(srvIp ?? '-'), 15_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS - 200);
    await engine.cli(['rm', '-f', srv]);
  });
});
