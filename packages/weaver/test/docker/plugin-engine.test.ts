import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createBridge, deleteLink, getLink, setLinkUp } from '@weave-ts/host';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerDeathWatcher } from '../../src/docker/container-death.js';
import { ContainerEventFollower } from '../../src/docker/container-events.js';
import { attachDockerContainer, detachDockerContainer } from '../../src/docker/docker-attach.js';
import { DockerPlugin } from '../../src/docker/docker-plugin.js';
import { kernelEndpointLinks } from '../../src/docker/endpoint-links.js';
import { PluginDnsRegistrar } from '../../src/docker/plugin-dns.js';
import { FakePeer } from './fake-peer.js';
import { engineAvailable, startTestEngine, TEST_IMAGE, type TestEngine } from './test-engine.js';
import { until } from '../until.js';

// Against a private dockerd in its own namespace: the plugin serves `docker network create --driver
// <ours> --ipam-driver <ours>` and `docker run --net=N`; containers ping each other; addresses come from
// the peer's IPAM and go back on rm; an attached container that is killed loses its DNS names at once
// and its address after the (shortened) grace; a restarted one keeps it.

const hex = randomBytes(3).toString('hex');
const prefix = `wd-${hex}`;
const GRACE_MS = 1_500;

describe.skipIf(!engineAvailable())('Docker plugin and container events against a private engine', () => {
  let engine: TestEngine;
  let plugin: DockerPlugin;
  let events: ContainerEventFollower;
  let deaths: ContainerDeathWatcher;
  let dnsRegistrar: PluginDnsRegistrar;
  const bridge = `wdb${hex}`;
  const peer = new FakePeer('10.47.0.0/16');
  peer.datapath.bridge = bridge;

  beforeAll(async () => {
    engine = await startTestEngine({ prefix });
    const netns = engine.netns;
    await createBridge(bridge, { netns, mtu: 1376 });
    await setLinkUp(bridge, { netns });
    plugin = new DockerPlugin({
      peer,
      links: kernelEndpointLinks(netns),
      networkDriverName: `${prefix}n`,
      ipamDriverName: `${prefix}i`,
      bridge,
      lookupNetwork: async (id) => {
        const info = await engine.docker.getNetwork(id).inspect();
        return { driver: info.Driver, options: info.Options ?? {} };
      },
    });
    await plugin.start();
    events = new ContainerEventFollower({ docker: engine.docker });
    deaths = new ContainerDeathWatcher({ peer, events, graceMs: GRACE_MS });
    dnsRegistrar = new PluginDnsRegistrar({
      peer,
      docker: engine.docker,
      events,
      driver: plugin.networkDriver,
    });
    deaths.start();
    dnsRegistrar.start();
    await events.start();
  }, 120_000);

  afterAll(async () => {
    events?.stop();
    deaths?.stop();
    dnsRegistrar?.stop();
    await engine?.stop();
    await plugin?.stop();
    if (engine?.netns === undefined) await deleteLink(bridge, { ifExists: true });
    expect(existsSync(`/run/docker/plugins/${prefix}n.sock`)).toBe(false);
  }, 120_000);

  it('docker network create + two docker run --net containers ping each other; rm releases', {
    timeout: 120_000,
  }, async () => {
    const net = `${prefix}-net`;
    await engine.cli(['network', 'create', '--driver', `${prefix}n`, '--ipam-driver', `${prefix}i`, net]);
    const c1 = `${prefix}-c1`;
    const c2 = `${prefix}-c2`;
    for (const c of [c1, c2])
      await engine.cli(['run', '-d', '--name', c, `--net=${net}`, TEST_IMAGE, 'sleep', '600']);
    const ips = await Promise.all(
      [c1, c2].map(async (c) => {
        const info = await engine.docker.getContainer(c).inspect();
        return info.NetworkSettings.Networks[net]?.IPAddress ?? '';
      }),
    );
    expect(ips[0]).toMatch(/^10\.47\./);
    expect(ips[1]).toMatch(/^10\.47\./);
    expect([...peer.owned.values()].flat().map((c) => c.split('/')[0])).toEqual(expect.arrayContaining(ips));
    const link = await engine.cli(['exec', c1, 'ip', '-o', 'addr', 'show', 'dev', 'ethwe0']);
    expect(link).toContain(`inet ${ips[0]}/16`);
    expect(await engine.cli(['exec', c1, 'cat', '/sys/class/net/ethwe0/mtu'])).toBe('1376\n');
    expect(await engine.cli(['exec', c1, 'ping', '-c', '2', '-W', '2', ips[1] ?? ''])).toMatch(
      /2 packets received/,
    );
    // host ends of the veths sit on our bridge
    const hostEnds = plugin.networkDriver.networkIds.length;
    expect(hostEnds).toBe(1);
    // weaveDNS names from the container names
    await until('DNS registration', () => peer.records.filter((r) => r.fqdn.startsWith(prefix)).length === 2);
    expect(peer.records.map((r) => r.fqdn).sort()).toEqual([`${c1}.weave.local`, `${c2}.weave.local`]);
    // removing a container hands its address back
    await engine.cli(['rm', '-f', c1]);
    await until('address release', () => !plugin.ipamDriver.addressesInUse.includes(ips[0] ?? ''));
    expect([...peer.owned.values()].flat().map((c) => c.split('/')[0])).not.toContain(ips[0]);
    await until('DNS removal', () => !peer.records.some((r) => r.fqdn.startsWith(c1)));
    await engine.cli(['rm', '-f', c2]);
    await engine.cli(['network', 'rm', net]);
    expect(plugin.networkDriver.networkIds).toEqual([]);
    expect(plugin.ipamDriver.addressesInUse).toEqual([]);
  });

  it('attach/detach a running container; a killed one loses DNS at once and its address after the grace', {
    timeout: 120_000,
  }, async () => {
    const c = `${prefix}-a1`;
    await engine.cli([
      'run',
      '-d',
      '--name',
      c,
      '--net=none',
      '--hostname',
      'alpha',
      '--domainname',
      'weave.local',
      TEST_IMAGE,
      'sleep',
      '600',
    ]);
    const attached = await attachDockerContainer({
      peer,
      docker: engine.docker,
      ref: c,
      bridgeNetns: engine.netns,
    });
    const id = attached.container.id;
    expect(attached.cidrs).toHaveLength(1);
    expect(attached.cidrs[0]).toMatch(/^10\.47\.\d+\.\d+\/16$/);
    expect(attached.fqdn).toBe('alpha.weave.local');
    expect(peer.records).toContainEqual({
      containerId: id,
      ip: attached.cidrs[0]?.split('/')[0],
      fqdn: 'alpha.weave.local',
    });
    const inside = await engine.cli(['exec', c, 'ip', '-o', 'addr', 'show', 'dev', 'ethwe']);
    expect(inside).toContain(`inet ${attached.cidrs[0]}`);
    expect((await getLink(`vethwepl${attached.container.pid}`, { netns: engine.netns })).master).toBe(bridge);

    // detach removes the interface and frees the address
    expect(await detachDockerContainer({ peer, docker: engine.docker, ref: c })).toEqual(attached.cidrs);
    expect(peer.addressesOf(id)).toEqual([]);
    await expect(engine.cli(['exec', c, 'ip', 'link', 'show', 'ethwe'])).rejects.toThrow();

    // attach again, then restart: the address stays (grace), then kill: DNS now, address after the grace
    const again = await attachDockerContainer({
      peer,
      docker: engine.docker,
      ref: c,
      bridgeNetns: engine.netns,
    });
    await engine.cli(['restart', '-t', '0', c]);
    await until('start event', () => deaths.pendingReleases.length === 0);
    await new Promise((r) => setTimeout(r, GRACE_MS + 500));
    expect(peer.addressesOf(id)).toEqual(again.cidrs);
    // the restart removed its names (die); re-registered by whoever attaches it again
    const killedAt = Date.now();
    peer.dns.add(id, again.cidrs[0]?.split('/')[0] ?? '', 'alpha.weave.local');
    await engine.cli(['kill', c]);
    await until('DNS removal on die', () => !peer.records.some((r) => r.containerId === id), 5_000);
    expect(peer.addressesOf(id)).toEqual(again.cidrs);
    await until('address release after grace', () => peer.addressesOf(id).length === 0, 10_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS);

    // destroy releases at once
    await engine.cli(['start', c]);
    const third = await attachDockerContainer({
      peer,
      docker: engine.docker,
      ref: c,
      bridgeNetns: engine.netns,
    });
    expect(peer.addressesOf(id)).toEqual(third.cidrs);
    await engine.cli(['rm', '-f', c]);
    await until('release on destroy', () => peer.addressesOf(id).length === 0, 5_000);
  });
});
