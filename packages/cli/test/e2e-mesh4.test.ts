// Seed walkthrough 2 and friends, end to end through `weave` only: four hosts from one known peer
// reach a full mesh, weaveDNS across hosts (attach -h, dns-add, status dns, resolution from a
// container with the FQDN and the short name, dns-remove ⇒ NXDOMAIN everywhere), connect / forget /
// status targets, restart of a killed weaver, reset + rmpeer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weaverCommand } from '../src/daemon.js';
import {
  createWeaveHosts,
  dnsQuery,
  extraLaunchArgs,
  killFromPidFile,
  runIn,
  until,
  type WeaveHost,
  type WeaveHosts,
} from './e2e-hosts.js';

const canRun = process.getuid?.() === 0 && weaverCommand() !== undefined;

describe.skipIf(!canRun)('weave walkthrough: four hosts, DNS, targets, restart, reset', () => {
  let w: WeaveHosts;
  let h: WeaveHost[];
  let c1: string;
  let c2: string;
  let c4: string;
  let ip1: string;
  let ip2: string;
  const peersOf = (i: number): string[] => (i === 0 ? [] : i === 2 ? [h[1]!.address] : [h[0]!.address]);
  const launchArgs = (i: number) => [
    'launch',
    '--name',
    `0a:00:00:00:00:0${i + 1}`,
    '--nickname',
    `host${i + 1}`,
    ...extraLaunchArgs(),
    ...peersOf(i),
  ];

  beforeAll(async () => {
    w = await createWeaveHosts(4);
    h = w.hosts;
    c1 = await w.container('c1');
    c2 = await w.container('c2');
    c4 = await w.container('c4');
  }, 60_000);

  afterAll(async () => {
    await w?.destroy();
  }, 60_000);

  it('four hosts from one known peer each reach 12 established connections', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await h[i]!.weave(...launchArgs(i));
      expect(r.code, r.stderr).toBe(0);
    }
    for (const host of h) {
      await until(
        `full mesh on ${host.ns}`,
        async () => {
          const s = (await host.weave('status')).stdout;
          return (
            s.includes('Connections: 3 (3 established)') &&
            s.includes('Peers: 4 (with 12 established connections)')
          );
        },
        30_000,
      );
    }
    // Same layout as upstream's (mesh4/docker1_status_connections.txt, docker1_status_peers.txt).
    const conns = (await h[0]!.weave('status', 'connections')).stdout.trimEnd().split('\n');
    expect(conns).toHaveLength(3);
    for (const line of conns) {
      expect(line).toMatch(
        /^<- 10\.250\.0\.\d:\d+ +established (sleeve|fastdp) 0a:00:00:00:00:0[234]\(host[234]\) /,
      );
    }
    const peers = (await h[0]!.weave('status', 'peers')).stdout.trimEnd().split('\n');
    expect(peers.filter((l) => /^0a:00:00:00:00:0\d\(host\d\)$/.test(l))).toHaveLength(4);
    expect(
      peers.filter((l) => /^ {3}(<-|->) \S+ +0a:00:00:00:00:0\d\(host\d\) +established$/.test(l)),
    ).toHaveLength(12);
  }, 90_000);

  it('status dns lists attach -h and dns-add names; containers resolve across hosts; dns-remove ⇒ NXDOMAIN', async () => {
    const a1 = await h[0]!.weave('attach', '-h', 'web1.weave.local', c1);
    expect(a1.code, a1.stderr).toBe(0);
    ip1 = a1.stdout.trim();
    const a2 = await h[1]!.weave('attach', c2);
    expect(a2.code, a2.stderr).toBe(0);
    ip2 = a2.stdout.trim();
    expect(ip1).toMatch(/^10\.(3[2-9]|4[0-7])\.\d+\.\d+$/);
    expect(await h[1]!.weave('dns-add', c2, '-h', 'web2.weave.local')).toMatchObject({ code: 0 });

    for (const host of h) {
      await until(`both names in status dns on ${host.ns}`, async () => {
        const s = (await host.weave('status', 'dns')).stdout;
        return (
          new RegExp(`^web1\\s+${ip1.replace(/\./g, '\\.')}\\s`, 'm').test(s) &&
          new RegExp(`^web2\\s+${ip2.replace(/\./g, '\\.')}\\s`, 'm').test(s)
        );
      });
    }

    // c2 (on host2) asks host2's weaveDNS through the bridge address `weave expose` gives.
    const e = await h[1]!.weave('expose');
    expect(e.code, e.stderr).toBe(0);
    const dnsIp = e.stdout.trim();
    await until(
      'web1.weave.local from c2',
      async () => (await dnsQuery(c2, dnsIp, 'web1.weave.local')) === `NOERROR ${ip1}`,
    );
    expect(await dnsQuery(c2, dnsIp, 'web1')).toBe(`NOERROR ${ip1}`);
    expect(await dnsQuery(c2, dnsIp, 'web2.weave.local')).toBe(`NOERROR ${ip2}`);
    const lookup = await h[3]!.weave('dns-lookup', 'web2');
    expect(lookup).toMatchObject({ code: 0, stdout: `${ip2}\n` });

    expect(await h[0]!.weave('dns-remove', c1, '-h', 'web1.weave.local')).toMatchObject({ code: 0 });
    for (const host of h) {
      await until(
        `NXDOMAIN on ${host.ns}`,
        async () => (await dnsQuery(host.ns, '127.0.0.1', 'web1.weave.local')) === 'NXDOMAIN',
      );
    }
    expect(await dnsQuery(c2, dnsIp, 'web1.weave.local')).toBe('NXDOMAIN');
  }, 90_000);

  it('connect / forget / status targets', async () => {
    const host3 = h[2]!;
    expect((await host3.weave('status', 'targets')).stdout).toContain(h[1]!.address);
    expect(await host3.weave('connect', h[3]!.address)).toMatchObject({ code: 0 });
    await until('target listed', async () =>
      (await host3.weave('status', 'targets')).stdout.includes(h[3]!.address),
    );
    expect(await host3.weave('forget', h[3]!.address)).toMatchObject({ code: 0 });
    await until(
      'target gone',
      async () => !(await host3.weave('status', 'targets')).stdout.includes(h[3]!.address),
    );
    expect((await host3.weave('status', 'targets')).stdout).toContain(h[1]!.address);
  }, 30_000);

  it('a weaver killed with SIGKILL comes back with its name, addresses and targets', async () => {
    const host2 = h[1]!;
    expect(await host2.weave('connect', h[2]!.address)).toMatchObject({ code: 0 });
    const before = (await host2.weave('status')).stdout;
    const name = /Name: (\S+)/.exec(before)?.[1];
    expect(name).toBe('0a:00:00:00:00:02(host2)');
    expect(await host2.weave(...launchArgs(1))).toMatchObject({
      code: 1,
      stderr: "weave is already running; you can stop it with 'weave stop'.\n",
    });
    const pid = killFromPidFile(host2.stateDir);
    expect(pid).toBeGreaterThan(0);
    await until('weaver gone', async () => (await host2.weave('status')).code !== 0);

    const r = await host2.weave(...launchArgs(1));
    expect(r.code, r.stderr).toBe(0);
    const after = (await host2.weave('status')).stdout;
    expect(/Name: (\S+)/.exec(after)?.[1]).toBe(name);
    const targets = (await host2.weave('status', 'targets')).stdout;
    expect(targets).toContain(h[0]!.address);
    expect(targets).toContain(h[2]!.address);
    // IPAM still knows c2's address: attaching again hands out the same one.
    expect(await host2.weave('attach', c2)).toMatchObject({ code: 0, stdout: `${ip2}\n` });
    await until('host2 back in the mesh', async () =>
      (await host2.weave('status')).stdout.includes('Peers: 4 (with 12 established connections)'),
    );
  }, 90_000);

  it('weave reset on one host, weave rmpeer of it on another', async () => {
    const host4 = h[3]!;
    const a4 = await host4.weave('attach', c4);
    expect(a4.code, a4.stderr).toBe(0);
    expect(await host4.weave('reset')).toMatchObject({ code: 0 });
    expect(await host4.weave('status')).toMatchObject({
      code: 1,
      stderr: 'weave container is not present. Have you launched it?\n',
    });
    expect((await runIn(host4.ns, 'ip', ['link', 'show', 'weave'])).code).not.toBe(0);
    const rm = await h[0]!.weave('rmpeer', 'host4');
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toMatch(/^\d+ IPs taken over from host4\n$/);
  }, 60_000);
});
