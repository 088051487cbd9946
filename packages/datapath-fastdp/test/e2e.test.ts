// End to end on the real kernel (root): host namespaces joined by a veth underlay (or a switch
// bridge for three), one fastdp-host process per host (router + switch [fastdp, sleeve] + TAP on
// bridge `weave`), one container namespace per host. Everything is named `wf…` and removed again.
import { afterEach, describe, expect, it } from 'vitest';
import { findLeftovers, pingUntilReply, type TestHost, type TestHosts, tcpTransfer } from '@weave-ts/host';
import {
  addContainer,
  createFastdpTestHosts,
  eventually,
  type FastdpReport,
  type RunningHost,
  startHost,
} from './harness.js';
import { probeFastdp } from '../src/index.js';

const isRoot = process.getuid?.() === 0;
const supported = isRoot && (await probeFastdp({ devicePrefix: 'wfprobe' })).supported;
const MB10 = 10 * 1024 * 1024;

let hosts: TestHosts | undefined;
let running: RunningHost[] = [];

afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
  const prefix = hosts?.prefix;
  await hosts?.destroy();
  hosts = undefined;
  if (prefix) expect(await findLeftovers(prefix)).toEqual([]);
});

interface MeshOptions {
  line?: boolean;
  password?: string;
  /** Extra arguments per host index. */
  extra?: (i: number) => string[];
}

function hostArgs(i: number, list: TestHost[], options: MeshOptions): string[] {
  const args = ['--name', `0a:00:00:00:00:0${i + 1}`, '--nickname', `host${i + 1}`];
  if (i > 0) args.push('--peer', list[options.line ? i - 1 : 0]!.address!);
  if (options.password) args.push('--password', options.password);
  if (options.line) args.push('--no-discovery', '--gossip-interval-ms', '2000');
  return [...args, ...(options.extra?.(i) ?? [])];
}

async function meshOf(count: number, options: MeshOptions = {}) {
  hosts = await createFastdpTestHosts(count);
  const list = hosts.hosts;
  for (const [i, host] of list.entries()) running.push(await startHost(host, hostArgs(i, list, options)));
  const established = options.line ? [1, 2, 1] : list.map(() => count - 1);
  await Promise.all(
    running.map((r, i) =>
      eventually(
        () => r.request<string>('connections'),
        (text) => text.split('\n').filter((l) => l.includes(' established ')).length === established[i],
        30_000,
      ),
    ),
  );
  const containers: TestHost[] = [];
  const addresses: string[] = [];
  for (const [i, host] of list.entries()) {
    addresses.push(`10.32.0.${i + 1}`);
    containers.push(await addContainer(hosts, host, `c${i}`, `10.32.0.${i + 1}/12`));
  }
  return { containers, addresses };
}

const report = (r: RunningHost) => r.request<FastdpReport>('fastdp');
const connections = (r: RunningHost) => r.request<string>('connections');

describe.runIf(supported)('fastdp between host namespaces (root)', () => {
  it('two hosts: ping and 10 MB over TCP intact, through kernel flows, status says fastdp', async () => {
    const { containers, addresses } = await meshOf(2);
    const [cA, cB] = containers as [TestHost, TestHost];
    const [ipA, ipB] = addresses as [string, string];
    for (const r of running) expect(r.ready).toEqual({ fastdp: true, mtu: 1376 });
    await eventually(
      () => connections(running[0]!),
      (t) => /established fastdp 0a:00:00:00:00:02\(host2\) mtu=1376/.test(t),
    );
    expect(await connections(running[1]!)).toMatch(/established fastdp 0a:00:00:00:00:01\(host1\) mtu=1376/);
    // The container side got the fastdp MTU.
    expect((await cA.exec('cat', ['/sys/class/net/ethwe/mtu'])).stdout.trim()).toBe('1376');
    await pingUntilReply(cA, ipB);
    await pingUntilReply(cB, ipA);
    const { sent, received } = await tcpTransfer(cA, cB, ipB, MB10);
    expect(received).toEqual({ n: MB10, sha: sent });
    const [rA, rB] = [await report(running[0]!), await report(running[1]!)];
    // 10 MB is ~7600 full frames (fewer, larger skbs with GSO/GRO): nearly all went kernel to
    // kernel; the router saw only each flow's first frames (and ARP).
    expect(rA.kernel.kernelSent).toBeGreaterThan(100);
    expect(rB.kernel.kernelDelivered).toBeGreaterThan(100);
    expect(rA.kernel.kernelSent).toBeGreaterThan(5 * rA.kernel.missesOut);
    expect(rB.counters.framesReceived).toBeLessThan(100);
    expect(rA.flows).toBeGreaterThan(0);
    expect(rA.kernel.errors + rB.kernel.errors).toBe(0);
    expect(rA.forwarders).toEqual([expect.objectContaining({ established: true, healthy: true })]);
  }, 180_000);

  it('three hosts, full mesh and a line A–B–C: ping and 10 MB over TCP between the far ends', async () => {
    for (const line of [false, true]) {
      const { containers, addresses } = await meshOf(3, { line });
      const [cA, , cC] = containers as [TestHost, TestHost, TestHost];
      const [ipA, , ipC] = addresses as [string, string, string];
      const expected = line ? [1, 2, 1] : [2, 2, 2];
      for (const [i, r] of running.entries()) {
        await eventually(
          () => connections(r),
          (t) => (t.match(/established fastdp .* mtu=1376/g) ?? []).length === expected[i],
        );
      }
      if (line) expect(await connections(running[0]!)).not.toContain('host3');
      await pingUntilReply(cA, ipC, { timeoutMs: 30_000 });
      await pingUntilReply(cC, ipA);
      const { sent, received } = await tcpTransfer(cA, cC, ipC, MB10);
      expect(received).toEqual({ n: MB10, sha: sent });
      // In the line B relays in userspace (its misses); C delivers A's frames in the kernel either way.
      const [rB, rC] = [await report(running[1]!), await report(running[2]!)];
      expect(rC.kernel.kernelDelivered).toBeGreaterThan(100);
      if (line) expect(rB.counters.framesReceived).toBeGreaterThan(1000);
      else expect(rB.counters.framesReceived).toBeLessThan(100);
      await Promise.all(running.map((r) => r.stop()));
      running = [];
      await hosts?.destroy();
      hosts = undefined;
    }
  }, 400_000);

  it('with a password the connection stays on the encrypted sleeve and says why', async () => {
    const { containers, addresses } = await meshOf(2, { password: 's3cret' });
    const [cA] = containers as [TestHost, TestHost];
    await pingUntilReply(cA, addresses[1]!);
    const text = await connections(running[0]!);
    expect(text).toMatch(
      /established encrypted {3}sleeve 0a:00:00:00:00:02\(host2\) encrypted=truefastdp=encryption needs IPsec ESP, not available: using sleevemtu=/,
    );
    expect((await report(running[0]!)).forwarders).toEqual([]);
  }, 120_000);

  it('a sleeve-only peer (--no-fastdp) and a fastdp peer talk over sleeve', async () => {
    const { containers, addresses } = await meshOf(2, { extra: (i) => (i === 1 ? ['--no-fastdp'] : []) });
    const [cA, cB] = containers as [TestHost, TestHost];
    expect(running.map((r) => r.ready.fastdp)).toEqual([true, false]);
    await pingUntilReply(cA, addresses[1]!);
    await pingUntilReply(cB, addresses[0]!);
    expect(await connections(running[0]!)).toMatch(/established sleeve 0a:00:00:00:00:02\(host2\) mtu=/);
    expect(await connections(running[1]!)).toMatch(/established sleeve 0a:00:00:00:00:01\(host1\) mtu=/);
  }, 120_000);

  it('falls back to sleeve when UDP 6784 is blocked, and returns to fastdp when unblocked', async () => {
    const timing = ['--fastdp-heartbeat-timeout-ms', '3000', '--fastdp-slow-heartbeat-ms', '500'];
    const { containers, addresses } = await meshOf(2, { extra: () => timing });
    const [cA, cB] = containers as [TestHost, TestHost];
    const [ipA, ipB] = addresses as [string, string];
    await eventually(
      () => connections(running[0]!),
      (t) => t.includes('established fastdp'),
    );
    await pingUntilReply(cA, ipB);
    const rule = ['INPUT', '-p', 'udp', '--dport', '6784', '-j', 'DROP'];
    const hs = hosts!.hosts;
    for (const h of hs) await h.exec('iptables', ['-A', ...rule]);
    try {
      const switched = Date.now();
      await eventually(
        () => connections(running[0]!),
        (t) => /established sleeve .*fastdp=timed out waiting for vxlan heartbeat/.test(t),
        15_000,
      );
      expect(Date.now() - switched).toBeLessThan(10_000);
      await pingUntilReply(cA, ipB, { timeoutMs: 10_000 });
      const { sent, received } = await tcpTransfer(cB, cA, ipA, 2 * 1024 * 1024);
      expect(received.sha).toBe(sent);
    } finally {
      for (const h of hs) await h.exec('iptables', ['-D', ...rule]).catch(() => {});
    }
    for (const r of running) {
      await eventually(
        () => connections(r),
        (t) => /established fastdp .*mtu=1376/.test(t),
        15_000,
      );
    }
    const before = (await report(running[0]!)).kernel.kernelSent;
    const { sent, received } = await tcpTransfer(cA, cB, ipB, 2 * 1024 * 1024);
    expect(received.sha).toBe(sent);
    expect((await report(running[0]!)).kernel.kernelSent).toBeGreaterThan(before + 10);
  }, 180_000);

  it('after kill -9 a restarted host replaces what the dead one left and is on fastdp again', async () => {
    const { containers, addresses } = await meshOf(2);
    const [cA] = containers as [TestHost, TestHost];
    const hB = hosts!.hosts[1]!;
    await eventually(
      () => connections(running[0]!),
      (t) => t.includes('established fastdp'),
    );
    await running[1]!.kill();
    // The crash leaves the VXLAN device behind (the TAPs die with the process).
    expect(await vxlanDevices(hB)).toEqual(['vxlan-6784']);
    running[1] = await startHost(hB, running[1]!.args as string[]);
    expect(running[1].ready.fastdp).toBe(true);
    expect(await vxlanDevices(hB)).toEqual(['vxlan-6784']);
    const filters = (await hB.exec('tc', ['filter', 'show', 'dev', 'vethwe-tap', 'egress'])).stdout;
    expect(filters.match(/direct-action/g)).toHaveLength(1);
    expect(filters).toContain('fdp_egress');
    await eventually(
      () => connections(running[1]!),
      (t) => /established fastdp .*mtu=1376/.test(t),
      30_000,
    );
    await pingUntilReply(cA, addresses[1]!);
    await running[1]!.stop();
    expect(await vxlanDevices(hB)).toEqual([]);
  }, 180_000);
});

/** Names of the VXLAN devices in `host`'s namespace. */
async function vxlanDevices(host: TestHost): Promise<string[]> {
  const out = (await host.exec('ip', ['-j', 'link', 'show', 'type', 'vxlan'])).stdout;
  return (JSON.parse(out || '[]') as { ifname: string }[]).map((l) => l.ifname);
}
