// Container↔container over fastdp (VXLAN external mode + tc BPF, flows installed by the router)
// against a kernel VXLAN + bridge pair built in the same run (baselines.md row B layout): TCP
// throughput (iperf3, 1 stream), small-packet rate (iperf3 UDP, 64-byte payload, -b 0, delivered
// packets/s) and ping RTT (p50/p99). Root only; everything lives in `wf…` namespaces this bench
// creates and deletes again. Both paths use the container MTU fastdp uses (1376), so the figures
// compare the datapaths, not the MTUs.
//
//   VXLAN:  [c0] eth0 ─ veth ─ br0 ─ vx0 ══ underlay veth ══ vx0 ─ br0 ─ veth ─ eth0 [c1]
//   fastdp: [c0] ethwe ─ veth ─ weave ─ TAP(tc egress BPF) ─▶ vxlan-6784 ══ underlay ══ vxlan-6784
//           (tc ingress BPF) ─▶ TAP ingress ─ weave ─ veth ─ ethwe [c1]; the router sees only misses
//
// Each path is set up once and measured FASTDP_BENCH_RUNS times (default 3); every figure printed is
// the median over the runs. Targets (issue 15): fastdp TCP ≥ 95 % of VXLAN's, p99 RTT ≤ 1.1×.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { runIp, type TestHost } from '@weave-ts/host';
import {
  addContainer,
  createFastdpTestHosts,
  eventually,
  type RunningHost,
  startHost,
} from '../packages/datapath-fastdp/test/harness.js';
import { probeFastdp } from '../packages/datapath-fastdp/src/index.js';

const TCP_SECONDS = 5;
const UDP_SECONDS = 4;
const PING_PROBES = 200;
const IPERF_PORT = 5201;
const MTU = 1376;
const RUNS = Number(process.env.FASTDP_BENCH_RUNS ?? 3);

/** What one path measured. */
interface PathResult {
  readonly label: string;
  readonly tcpBps: number;
  readonly retransmits: number;
  readonly udpPps: number;
  readonly udpOfferedPps: number;
  readonly rttP50Ms: number;
  readonly rttP99Ms: number;
  /** CPU of the host processes during the TCP test (100 = one core), when there are any. */
  readonly datapathCpu?: number;
}

/** Two containers on two hosts, ready for traffic; `close` removes everything. */
interface Setup {
  readonly client: TestHost;
  readonly server: TestHost;
  readonly serverIp: string;
  readonly datapathPids: readonly number[];
  /** Kernel counters of the fastdp hosts, printed after the run. */
  readonly report?: () => Promise<string>;
  close(): Promise<void>;
}

async function vxlanSetup(): Promise<Setup> {
  const hosts = await createFastdpTestHosts(2);
  try {
    const [h0, h1] = hosts.hosts as [TestHost, TestHost];
    const containers: TestHost[] = [];
    for (const [i, h] of [h0, h1].entries()) {
      const peer = (i === 0 ? h1 : h0).address!;
      const ns = h.netns;
      await runIp(
        [
          'link',
          'add',
          'vx0',
          'type',
          'vxlan',
          'id',
          '42',
          'local',
          h.address!,
          'remote',
          peer,
          'dstport',
          '4789',
          'dev',
          h.ifName!,
        ],
        ns,
      );
      await runIp(['link', 'add', 'br0', 'type', 'bridge'], ns);
      await runIp(['link', 'set', 'vx0', 'master', 'br0'], ns);
      const c = await hosts.addNetns(`c${i}`);
      const hostSide = `${hosts.prefix}c${i}`;
      await runIp(['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c.netns], ns);
      await runIp(['link', 'set', hostSide, 'master', 'br0', 'mtu', String(MTU)], ns);
      await runIp(['link', 'set', 'eth0', 'mtu', String(MTU)], c.netns);
      await runIp(['addr', 'add', `10.251.0.${i + 1}/24`, 'dev', 'eth0'], c.netns);
      await runIp(['link', 'set', 'eth0', 'up'], c.netns);
      for (const link of ['vx0', 'br0', hostSide]) await runIp(['link', 'set', link, 'up'], ns);
      containers.push(c);
    }
    return {
      client: containers[1]!,
      server: containers[0]!,
      serverIp: '10.251.0.1',
      datapathPids: [],
      close: () => hosts.destroy(),
    };
  } catch (error) {
    await hosts.destroy();
    throw error;
  }
}

async function fastdpSetup(): Promise<Setup> {
  const hosts = await createFastdpTestHosts(2);
  const running: RunningHost[] = [];
  const close = async () => {
    await Promise.all(running.map((r) => r.stop()));
    await hosts.destroy();
  };
  try {
    const list = hosts.hosts as [TestHost, TestHost];
    for (const [i, host] of list.entries()) {
      const args = ['--name', `0a:00:00:00:00:0${i + 1}`, '--nickname', `host${i + 1}`];
      if (i > 0) args.push('--peer', list[0].address!);
      running.push(await startHost(host, args));
    }
    await Promise.all(
      running.map((r) =>
        eventually(
          () => r.request<string>('connections'),
          (text) => / established fastdp .*mtu=1376/.test(text),
          30_000,
        ),
      ),
    );
    const c0 = await addContainer(hosts, list[0], 'c0', '10.32.0.1/12');
    const c1 = await addContainer(hosts, list[1], 'c1', '10.32.0.2/12');
    return {
      client: c1,
      server: c0,
      serverIp: '10.32.0.1',
      datapathPids: running.map((r) => r.proc.pid!),
      report: async () => {
        const reports = await Promise.all(
          running.map((r) => r.request<{ kernel: object; flows: number }>('fastdp')),
        );
        return reports.map((r, i) => `host${i + 1} flows=${r.flows} ${JSON.stringify(r.kernel)}`).join('\n');
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** utime + stime of `pid` in clock ticks (0 when it is gone). */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The parts of `iperf3 -J` output read here (TCP runs fill `sum_*`, UDP runs `sum`). */
interface IperfReport {
  end: {
    sum_received?: { bits_per_second: number };
    sum_sent?: { retransmits?: number };
    sum?: { packets: number; lost_packets: number; seconds: number };
  };
}

async function iperf(client: TestHost, args: string[], seconds: number): Promise<IperfReport> {
  const { stdout } = await client.exec('iperf3', [...args, '-p', String(IPERF_PORT), '-J'], {
    timeoutMs: (seconds + 20) * 1000,
  });
  return JSON.parse(stdout) as IperfReport;
}

function sorted(xs: number[]): number[] {
  return xs.sort((a, b) => a - b);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Warms the path up, then measures it `RUNS` times; the result holds the median of each figure. */
async function measure(label: string, setup: Setup): Promise<PathResult> {
  const { client, server, serverIp } = setup;
  const iperfServer: ChildProcess = server.spawn('iperf3', ['-s', '-p', String(IPERF_PORT)], {
    stdio: 'ignore',
  });
  try {
    // Until a ping gets through, the routers are still learning MACs (and the server starting).
    await eventually(
      () =>
        client.exec('ping', ['-c', '1', '-W', '1', serverIp]).then(
          () => true,
          () => false,
        ),
      (ok) => ok,
      20_000,
    );
    await client.exec('ping', ['-c', '3', '-i', '0.1', serverIp]);
    // A short TCP run first: lets the container learn the path MTU (ICMP frag-needed) and warms up JIT.
    await iperf(client, ['-c', serverIp, '-t', '1'], 1);
    const runs: PathResult[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measureOnce(label, setup));
    const median = (pick: (r: PathResult) => number) => percentile(sorted(runs.map(pick)), 50);
    return {
      label,
      tcpBps: median((r) => r.tcpBps),
      retransmits: median((r) => r.retransmits),
      udpPps: median((r) => r.udpPps),
      udpOfferedPps: median((r) => r.udpOfferedPps),
      rttP50Ms: median((r) => r.rttP50Ms),
      rttP99Ms: median((r) => r.rttP99Ms),
      ...(runs[0]!.datapathCpu === undefined ? {} : { datapathCpu: median((r) => r.datapathCpu!) }),
    };
  } finally {
    iperfServer.kill('SIGTERM');
  }
}

/** One round of the three measurements, in the order of baselines.md: TCP, UDP, ping. */
async function measureOnce(label: string, setup: Setup): Promise<PathResult> {
  const { client, serverIp } = setup;
  const ticksBefore = setup.datapathPids.map(cpuTicks);
  const tcpStart = process.hrtime.bigint();
  const tcp = await iperf(client, ['-c', serverIp, '-t', String(TCP_SECONDS)], TCP_SECONDS);
  const tcpSeconds = Number(process.hrtime.bigint() - tcpStart) / 1e9;
  const ticks = setup.datapathPids.map(cpuTicks).reduce((a, t, i) => a + t - ticksBefore[i]!, 0);

  const udp = await iperf(
    client,
    ['-c', serverIp, '-u', '-l', '64', '-b', '0', '-t', String(UDP_SECONDS)],
    UDP_SECONDS,
  );
  const sum = udp.end.sum ?? { packets: 0, lost_packets: 0, seconds: 1 };

  const { stdout } = await client.exec('ping', ['-c', String(PING_PROBES), '-i', '0.005', serverIp], {
    timeoutMs: 30_000,
  });
  const rtts = sorted([...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])));

  return {
    label,
    tcpBps: tcp.end.sum_received?.bits_per_second ?? 0,
    retransmits: tcp.end.sum_sent?.retransmits ?? 0,
    udpPps: (sum.packets - sum.lost_packets) / sum.seconds,
    udpOfferedPps: sum.packets / sum.seconds,
    rttP50Ms: percentile(rtts, 50),
    rttP99Ms: percentile(rtts, 99),
    // Clock ticks are 1/100 s on Linux.
    ...(setup.datapathPids.length > 0 ? { datapathCpu: ticks / tcpSeconds } : {}),
  };
}

async function run(label: string, make: () => Promise<Setup>): Promise<PathResult> {
  const setup = await make();
  try {
    const result = await measure(label, setup);
    print(result);
    if (setup.report) console.log(await setup.report());
    return result;
  } finally {
    await setup.close();
  }
}

function print(r: PathResult): void {
  const gbit = (r.tcpBps / 1e9).toFixed(3);
  const k = (x: number) => `${(x / 1000).toFixed(1)} k`;
  const cpu = r.datapathCpu === undefined ? '' : `, node ×2 ${r.datapathCpu.toFixed(0)} %`;
  console.log(
    `${r.label.padEnd(14)} tcp ${gbit} Gbit/s (${r.retransmits} retr${cpu})  ` +
      `udp-64 ${k(r.udpPps)} pps delivered (${k(r.udpOfferedPps)} offered)  ` +
      `rtt p50 ${r.rttP50Ms.toFixed(3)} ms p99 ${r.rttP99Ms.toFixed(3)} ms`,
  );
}

function missingTool(): string | undefined {
  for (const tool of ['iperf3', 'ping', 'bpftool', 'tc']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return tool;
    }
  }
  return undefined;
}

/** Runs the comparison (called by bench/run.ts as `pnpm bench fastdp`). */
export async function bench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('fastdp: skipped (needs root: network namespaces, VXLAN, BPF)');
    return;
  }
  const tool = missingTool();
  if (tool) {
    console.log(
      `fastdp: skipped (${tool} not installed: apt-get install -y iperf3 iputils-ping bpftool iproute2)`,
    );
    return;
  }
  const probe = await probeFastdp({ devicePrefix: 'wfprobe' });
  if (!probe.supported) {
    console.log(`fastdp: skipped (${probe.reason})`);
    return;
  }
  const vxlan = await run('kernel vxlan', vxlanSetup);
  const fastdp = await run('fastdp', fastdpSetup);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const tcp = fastdp.tcpBps / vxlan.tcpBps;
  const p99 = fastdp.rttP99Ms / vxlan.rttP99Ms;
  console.log(`fastdp / vxlan tcp: ${pct(tcp)} (target ≥ 95 %: ${verdict(tcp >= 0.95)})`);
  console.log(`fastdp / vxlan udp-64 pps: ${pct(fastdp.udpPps / vxlan.udpPps)}`);
  console.log(`fastdp / vxlan rtt p99: ${p99.toFixed(2)}× (target ≤ 1.1×: ${verdict(p99 <= 1.1)})`);
}
