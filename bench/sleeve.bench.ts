// Container↔container over the sleeve (plain and with --password) against a kernel VXLAN pair built
// in the same run (baselines.md row B): TCP throughput (iperf3, 1 stream), small-packet rate (iperf3
// UDP, 64-byte payload, -b 0, delivered packets/s) and ping RTT (p50/p99). Root only; everything
// lives in namespaces this bench creates and deletes again.
//
//   VXLAN:  [c0] eth0 ─ veth ─ br0 ─ vx0 ══ underlay veth ══ vx0 ─ br0 ─ veth ─ eth0 [c1]
//   sleeve: [c0] ethwe ─ veth ─ weave ─ TAP ─ node (router + sleeve) ══ UDP ══ node ─ TAP ─ … [c1]
//           (established flows take the addon's fast path inside node: no JavaScript per frame)
//
// Each path is set up once and measured SLEEVE_BENCH_RUNS times (default 3); every figure printed is
// the median over the runs, as in baselines.md (single runs on this 2-vCPU VM spread by ±20 %).
// SLEEVE_BENCH_CPU_PROF_DIR=<dir> writes a .cpuprofile of every weave host process into <dir>;
// SLEEVE_BENCH_PATHS=vxlan,plain,encrypted (the default) picks which paths run (ratios need both sides);
// add `js` for the plain sleeve with every frame through JavaScript (`--no-fast-path`), for comparison.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createTestHosts, runIp, type TestHost, type TestHosts } from '@weave-ts/host';
import {
  addContainer,
  eventually,
  type RunningHost,
  startWeaveHost,
} from '../examples/weave-host-harness.js';

const TCP_SECONDS = 5;
const UDP_SECONDS = 4;
const PING_PROBES = 200;
const IPERF_PORT = 5201;
const PASSWORD = 'sleeve-bench-password';
const PROF_DIR = process.env.SLEEVE_BENCH_CPU_PROF_DIR;
const PATHS = new Set((process.env.SLEEVE_BENCH_PATHS ?? 'vxlan,plain,encrypted').split(','));
const RUNS = Number(process.env.SLEEVE_BENCH_RUNS ?? 3);

/** What one path measured. */
interface PathResult {
  readonly label: string;
  readonly tcpBps: number;
  readonly retransmits: number;
  readonly udpPps: number;
  readonly udpOfferedPps: number;
  readonly rttP50Ms: number;
  readonly rttP99Ms: number;
  /** CPU of the datapath processes during the TCP test (100 = one core), when there are any. */
  readonly datapathCpu?: number;
}

/** Two containers on two hosts, ready for traffic; `close` removes everything. */
interface Setup {
  readonly client: TestHost;
  readonly server: TestHost;
  readonly serverIp: string;
  readonly datapathPids: readonly number[];
  close(): Promise<void>;
}

async function vxlanSetup(): Promise<Setup> {
  const hosts = await createTestHosts({ count: 2 });
  try {
    const [h0, h1] = hosts.hosts as [TestHost, TestHost];
    const containers: TestHost[] = [];
    for (const [i, h] of [h0, h1].entries()) {
      const peer = (i === 0 ? h1 : h0).address!;
      const ns = h.netns;
      await runIp(
        ['link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'local', h.address!, 'remote', peer].concat([
          'dstport',
          '4789',
          'dev',
          h.ifName!,
        ]),
        ns,
      );
      await runIp(['link', 'add', 'br0', 'type', 'bridge'], ns);
      await runIp(['link', 'set', 'vx0', 'master', 'br0'], ns);
      const c = await hosts.addNetns(`c${i}`);
      const hostSide = `${hosts.prefix}c${i}`;
      await runIp(['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c.netns], ns);
      await runIp(['link', 'set', hostSide, 'master', 'br0', 'mtu', '1450'], ns);
      await runIp(['link', 'set', 'eth0', 'mtu', '1450'], c.netns);
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

async function sleeveSetup(password?: string, noFastPath = false): Promise<Setup> {
  const hosts: TestHosts = await createTestHosts({ count: 2 });
  const running: RunningHost[] = [];
  const close = async () => {
    await Promise.all(running.map((r) => r.stop()));
    await hosts.destroy();
  };
  try {
    const list = hosts.hosts as [TestHost, TestHost];
    for (const [i, host] of list.entries()) {
      const args = ['--name', `a::${i + 1}`, '--nickname', `host${i + 1}`];
      if (i > 0) args.push('--peer', list[0].address!);
      if (password) args.push('--password', password);
      if (noFastPath) args.push('--no-fast-path');
      running.push(
        await startWeaveHost(host, args, 20_000, PROF_DIR === undefined ? {} : { cpuProfDir: PROF_DIR }),
      );
    }
    // Established, and PMTU discovery done (until then the sleeve MTU is 65535).
    await Promise.all(
      running.map((r) =>
        eventually(
          () => r.request<string>('connections'),
          (text) => / established .*mtu=14\d\d/.test(text),
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
    `${r.label.padEnd(16)} tcp ${gbit} Gbit/s (${r.retransmits} retr${cpu})  ` +
      `udp-64 ${k(r.udpPps)} pps delivered (${k(r.udpOfferedPps)} offered)  ` +
      `rtt p50 ${r.rttP50Ms.toFixed(3)} ms p99 ${r.rttP99Ms.toFixed(3)} ms`,
  );
}

function missingTool(): string | undefined {
  for (const tool of ['iperf3', 'ping']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return tool;
    }
  }
  return undefined;
}

export async function bench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('sleeve: skipped (needs root: network namespaces, TAP devices)');
    return;
  }
  const tool = missingTool();
  if (tool) {
    console.log(`sleeve: skipped (${tool} not installed: apt-get install -y iperf3 iputils-ping)`);
    return;
  }
  const vxlan = PATHS.has('vxlan') ? await run('kernel vxlan', vxlanSetup) : undefined;
  const plain = PATHS.has('plain') ? await run('sleeve', () => sleeveSetup()) : undefined;
  const encrypted = PATHS.has('encrypted')
    ? await run('sleeve encrypted', () => sleeveSetup(PASSWORD))
    : undefined;
  const js = PATHS.has('js') ? await run('sleeve, all JS', () => sleeveSetup(undefined, true)) : undefined;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  if (plain && vxlan) {
    const ratio = plain.tcpBps / vxlan.tcpBps;
    console.log(
      `sleeve / vxlan tcp: ${pct(ratio)} (target ≥ 5 %: ${verdict(ratio >= 0.05)}; upstream Weave sleeve ≈ 1.6 %)`,
    );
    console.log(`sleeve / vxlan udp-64 pps: ${pct(plain.udpPps / vxlan.udpPps)}`);
  }
  for (const r of [plain, encrypted]) {
    if (r)
      console.log(
        `${r.label} rtt p99: ${r.rttP99Ms.toFixed(3)} ms (target ≤ 1 ms: ${verdict(r.rttP99Ms <= 1)})`,
      );
  }
  if (plain && encrypted) {
    const ratio = encrypted.tcpBps / plain.tcpBps;
    console.log(`encrypted / plain tcp: ${pct(ratio)} (target ≥ 70 %: ${verdict(ratio >= 0.7)})`);
    console.log(`encrypted / plain udp-64 pps: ${pct(encrypted.udpPps / plain.udpPps)}`);
  }
  if (plain && js) {
    console.log(
      `fast path / all JS tcp: ${pct(plain.tcpBps / js.tcpBps)}, udp-64 pps: ${pct(plain.udpPps / js.udpPps)}`,
    );
  }
}
