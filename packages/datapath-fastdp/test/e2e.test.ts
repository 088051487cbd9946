// End to end on the real kernel (root): host namespaces joined by a veth underlay (or a switch
// bridge for three), one fastdp-host process per host (router + switch [fastdp, sleeve] + TAP on
// bridge `weave`), one container namespace per host. Everything is named `wf…` and removed again.
import { afterEach, describe, expect, it } from 'vitest';
import { findLeftovers, type TestHost, type TestHosts } from '@weave-ts/host';
import {
  addContainer,
  createFastdpTestHosts,
  eventually,
  type FastdpReport,
  ping,
  type RunningHost,
  startHost,
  tcpTransfer,
} from './harness.js';
import { probeFastdp } from '../src/index.js';

const isRoot = process.getuid?.() === 0;
const supported = isRoot && (await probeFastdp()).supported;
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
    await ping(cA, ipB);
    await ping(cB, ipA);
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
});
