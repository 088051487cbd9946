// End to end on the real kernel (root): host namespaces joined by a veth underlay, one weave host
// process per namespace (router + sleeve + TAP on bridge `weave`), one container namespace per host.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestHosts, pingUntilReply, type TestHost, type TestHosts, tcpTransfer } from '@weave-ts/host';
import { addContainer, eventually, type RunningHost, startWeaveHost } from './weave-host-harness.js';

const isRoot = process.getuid?.() === 0;
let hosts: TestHosts | undefined;
let running: RunningHost[] = [];

afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
  await hosts?.destroy();
  hosts = undefined;
});

interface MeshOptions {
  mtu?: number;
  password?: string;
  line?: boolean;
  /** Run every frame through JavaScript (`--no-fast-path`). */
  noFastPath?: boolean;
}

async function meshOf(count: number, options: MeshOptions = {}) {
  hosts = await createTestHosts({ count, ...(options.mtu ? { mtu: options.mtu } : {}) });
  const list = hosts.hosts;
  for (const [i, host] of list.entries()) {
    const args = ['--name', `a::${i + 1}`, '--nickname', `host${i + 1}`];
    if (i > 0) args.push('--peer', list[options.line ? i - 1 : 0]!.address!);
    if (options.password) args.push('--password', options.password);
    if (options.noFastPath) args.push('--no-fast-path');
    // In a line, the far ends may only learn the whole topology from periodic gossip (topology changes
    // go to log2(3) = 1 random neighbour, as upstream): gossip every 2 s instead of 30 s here.
    if (options.line) args.push('--no-discovery', '--gossip-interval-ms', '2000');
    running.push(await startWeaveHost(host, args));
  }
  const established = options.line ? [1, 2, 1] : list.map(() => count - 1);
  await Promise.all(
    running.map((r, i) =>
      eventually(
        () => r.request<string>('connections'),
        (text) => text.split('\n').filter((l) => l.includes(' established ')).length === established[i],
      ),
    ),
  );
  // Each container gets its address from IPAM (10.32.0.0/12 by default), with the subnet's mask.
  const containers: TestHost[] = [];
  const addresses: string[] = [];
  for (const [i, host] of list.entries()) {
    const cidr = await running[i]!.request<string>('allocate', { container: `container${i}` });
    expect(cidr).toMatch(/^10\.(3[2-9]|4[0-7])\.\d+\.\d+\/12$/);
    addresses.push(cidr.split('/')[0]!);
    containers.push(await addContainer(hosts, host, `c${i}`, cidr));
  }
  expect(new Set(addresses).size).toBe(count);
  return { containers, addresses };
}

interface SleeveReport {
  counters: { duplicates: number };
  fastPath?: { framesSent: number; framesReceived: number; duplicates: number };
}

/** Each host's sleeve diagnostics. */
function sleeveReports(): Promise<SleeveReport[]> {
  return Promise.all(running.map((r) => r.request<SleeveReport>('sleeve')));
}

describe.runIf(isRoot)('sleeve between host namespaces (root)', () => {
  it.each([
    ['through the native fast path', false],
    ['with every frame through JavaScript', true],
  ])(
    'containers on two hosts ping both ways and move 10 MB over TCP intact, %s',
    async (_, noFastPath) => {
      const { containers, addresses } = await meshOf(2, { noFastPath });
      const [cA, cB] = containers as [TestHost, TestHost];
      const [ipA, ipB] = addresses as [string, string];
      await pingUntilReply(cA, ipB);
      await pingUntilReply(cB, ipA);
      const { sent, received } = await tcpTransfer(cA, cB, ipB, 10 * 1024 * 1024);
      expect(received).toEqual({ n: 10 * 1024 * 1024, sha: sent });
      const text = await running[0]!.request<string>('connections');
      expect(text).toMatch(/established sleeve 0a:00:00:00:00:02\(host2\) mtu=1438/);
      const [{ fastPath: statsA }, { fastPath: statsB }] = (await sleeveReports()) as [
        SleeveReport,
        SleeveReport,
      ];
      if (noFastPath) {
        expect(statsA).toBeUndefined();
      } else {
        // 10 MB is ~7000 full frames: nearly all of them (and their ACKs) skipped JavaScript.
        expect(statsA!.framesSent).toBeGreaterThan(5000);
        expect(statsB!.framesReceived).toBeGreaterThan(5000);
        expect(statsB!.framesSent).toBeGreaterThan(100);
      }
    },
    120_000,
  );

  it('works encrypted with a password, sharing nonces and replay windows with the fast path', async () => {
    const { containers, addresses } = await meshOf(2, { password: 's3cret' });
    const [cA, cB] = containers as [TestHost, TestHost];
    const [ipA, ipB] = addresses as [string, string];
    await pingUntilReply(cA, ipB);
    const { sent, received } = await tcpTransfer(cB, cA, ipA, 10 * 1024 * 1024);
    expect(received.sha).toBe(sent);
    const text = await running[1]!.request<string>('connections');
    expect(text).toMatch(/established encrypted {3}sleeve 0a:00:00:00:00:01\(host1\) encrypted=truemtu=1414/);
    const reports = await sleeveReports();
    const [statsA, statsB] = reports.map((r) => r.fastPath!) as [
      NonNullable<SleeveReport['fastPath']>,
      NonNullable<SleeveReport['fastPath']>,
    ];
    expect(statsB.framesSent).toBeGreaterThan(5000);
    expect(statsA.framesReceived).toBeGreaterThan(5000);
    // Each flow's first frames, and heartbeats, were sealed in JS: had JS and C numbered datagrams
    // separately, the receiver would have dropped C's reuses of those numbers as replays.
    for (const r of reports) expect(r.counters.duplicates + r.fastPath!.duplicates).toBe(0);
  }, 120_000);

  it('relays between A and C through B in a line A–B–C', async () => {
    const { containers, addresses } = await meshOf(3, { line: true });
    const [cA, , cC] = containers as [TestHost, TestHost, TestHost];
    const [ipA, , ipC] = addresses as [string, string, string];
    const peersOfA = await running[0]!.request<string>('connections');
    expect(peersOfA).not.toContain('host3');
    await pingUntilReply(cA, ipC, { timeoutMs: 30_000 });
    await pingUntilReply(cC, ipA);
    const { sent, received } = await tcpTransfer(cA, cC, ipC, 2 * 1024 * 1024);
    expect(received.sha).toBe(sent);
  }, 120_000);

  it('with an underlay MTU of 1000, large pings and TCP work and the verified MTU is reported', async () => {
    const { containers, addresses } = await meshOf(2, { mtu: 1000 });
    const [cA, cB] = containers as [TestHost, TestHost];
    const [ipA, ipB] = addresses as [string, string];
    await eventually(
      () => running[0]!.request<string>('connections'),
      (text) => text.includes('mtu=938'),
    );
    await pingUntilReply(cA, ipB, { size: 3000 });
    await pingUntilReply(cB, ipA, { size: 3000 });
    const { sent, received } = await tcpTransfer(cA, cB, ipB, 2 * 1024 * 1024);
    expect(received.sha).toBe(sent);
  }, 120_000);
});
