import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createBridge, setLinkUp } from '@weave-ts/host';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerDeathWatcher } from '../../src/docker/container-death.js';
import { ContainerEventFollower } from '../../src/docker/container-events.js';
import { DockerProxy } from '../../src/docker/proxy/docker-proxy.js';
import { ProxyAttacher } from '../../src/docker/proxy/proxy-attacher.js';
import { FakePeer } from './fake-peer.js';
import { engineAvailable, startTestEngine, TEST_IMAGE, type TestEngine } from './test-engine.js';

// `docker -H <proxy> run …` against a private engine: the container's command starts only once ethwe
// has its address (in WEAVE_CIDR's subnet, or the default one), resolv.conf points at weaveDNS with the
// weave search domain, the hostname comes from the container name and is registered; WEAVE_CIDR=none
// opts out; a restarted container gets its address back; other API calls pass through untouched.

const hex = randomBytes(3).toString('hex');
const prefix = `wd-${hex}`;

describe.skipIf(!engineAvailable())('Docker API proxy against a private engine', () => {
  let engine: TestEngine;
  let proxy: DockerProxy;
  let events: ContainerEventFollower;
  let attacher: ProxyAttacher;
  let deaths: ContainerDeathWatcher;
  const bridge = `wdb${hex}`;
  const peer = new FakePeer('10.47.0.0/16');
  peer.datapath.bridge = bridge;
  const proxySocket = `/tmp/${prefix}-proxy.sock`;
  const viaProxy = (args: string[]) => engine.cli(args, { host: `unix://${proxySocket}`, timeoutMs: 60_000 });

  beforeAll(async () => {
    engine = await startTestEngine({ prefix });
    await createBridge(bridge, { netns: engine.netns, mtu: 1376 });
    await setLinkUp(bridge, { netns: engine.netns });
    events = new ContainerEventFollower({ docker: engine.docker });
    deaths = new ContainerDeathWatcher({ peer, events, graceMs: 20_000 });
    attacher = new ProxyAttacher({ peer, docker: engine.docker, events, bridgeNetns: engine.netns });
    deaths.start();
    attacher.start();
    await events.start();
    proxy = new DockerProxy({
      dockerHost: engine.dockerHost,
      docker: engine.docker,
      listen: [`unix://${proxySocket}`],
      attacher,
      rewrite: { dns: { resolver: '10.47.255.254', domain: 'weave.local' } },
    });
    await proxy.start();
  }, 120_000);

  afterAll(async () => {
    await proxy?.stop();
    attacher?.stop();
    deaths?.stop();
    events?.stop();
    await engine?.stop();
    expect(existsSync(proxySocket)).toBe(false);
  }, 120_000);

  it('docker run -e WEAVE_CIDR=net:… has ethwe in that subnet when its command starts', {
    timeout: 60_000,
  }, async () => {
    const out = await viaProxy([
      'run',
      '--rm',
      '--name',
      `${prefix}-p1`,
      '-e',
      'WEAVE_CIDR=net:10.47.5.0/24',
      TEST_IMAGE,
      'sh',
      '-c',
      'ip -o -4 addr show dev ethwe; cat /etc/resolv.conf; hostname; echo "args:$#"',
    ]);
    expect(out).toMatch(/inet 10\.47\.5\.\d+\/24/);
    expect(out).toMatch(/^nameserver 10\.47\.255\.254$/m);
    expect(out).toMatch(/^search weave\.local$/m);
    expect(out).toMatch(new RegExp(`^${prefix}-p1$`, 'm'));
    expect(out).toMatch(/^args:0$/m);
  });

  it('default subnet, DNS name from the container name, restart keeps the address; pass-through works', {
    timeout: 90_000,
  }, async () => {
    const name = `${prefix}-p2`;
    const id = (await viaProxy(['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '600'])).trim();
    const cidrs = peer.addressesOf(id);
    expect(cidrs).toHaveLength(1);
    expect(cidrs[0]).toMatch(/^10\.47\.\d+\.\d+\/16$/);
    expect(peer.records).toContainEqual({
      containerId: id,
      ip: cidrs[0]?.split('/')[0],
      fqdn: `${name}.weave.local`,
    });
    expect(await viaProxy(['exec', name, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'ethwe'])).toContain(
      `inet ${cidrs[0]}`,
    );
    expect(await viaProxy(['ps', '--format', '{{.Names}}'])).toContain(name);
    expect(await viaProxy(['inspect', '-f', '{{.Config.Hostname}}.{{.Config.Domainname}}', name])).toBe(
      `${name}.weave.local\n`,
    );

    await engine.cli(['restart', '-t', '0', name]); // on the engine's own socket: the start event re-attaches
    const deadline = Date.now() + 20_000;
    let after = '';
    while (Date.now() < deadline) {
      after = await engine
        .cli(['exec', name, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'ethwe'])
        .catch(() => '');
      if (after.includes('inet ')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(after).toContain(`inet ${cidrs[0]}`);
    expect(peer.addressesOf(id)).toEqual(cidrs);
    expect(deaths.pendingReleases).toEqual([]);
    await viaProxy(['rm', '-f', name]);
  });

  it('WEAVE_CIDR=none opts out; a malformed WEAVE_CIDR is refused with a clear error', {
    timeout: 60_000,
  }, async () => {
    const out = await viaProxy(['run', '--rm', '-e', 'WEAVE_CIDR=none', TEST_IMAGE, 'ls', '/sys/class/net']);
    expect(out.split('\n').filter(Boolean)).toEqual(['lo']);
    await expect(
      viaProxy(['run', '--rm', '-e', 'WEAVE_CIDR=net:banana', TEST_IMAGE, 'true']),
    ).rejects.toThrow(/invalid address specification 'net:banana'/);
  });
});
