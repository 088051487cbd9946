// The measurement harness shared by the overlay benches (sleeve.bench.ts, fastdp.bench.ts): two
// containers on two hosts (a kernel VXLAN + bridge pair as the reference, or a datapath built by the
// bench), measured with iperf3 (TCP, 1 stream; UDP, 64-byte payload, -b 0) and ping (p50/p99), each
// path `runs` times with the median of every figure reported. Not a bench itself (bench/run.ts only
// loads *.bench.ts).
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { addTestContainer, eventually, runIp, type TestHost, type TestHosts } from '@weave-ts/host';

const TCP_SECONDS = 5;
const UDP_SECONDS = 4;
const PING_PROBES = 200;
const IPERF_PORT = 5201;

/** What one path measured. */
export interface PathResult {
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
export interface Setup {
  readonly client: TestHost;
  readonly server: TestHost;
  readonly serverIp: string;
  readonly datapathPids: readonly number[];
  /** Extra figures (e.g. kernel counters) printed after the run. */
  readonly report?: () => Promise<string>;
  close(): Promise<void>;
}

/** How `run` measures and prints a path. */
export interface RunOptions {
  /** Measured rounds; every figure is the median over them. */
  readonly runs: number;
  /** Width of the label column in the printed line. */
  readonly labelWidth: number;
}

/**
 * The reference path (baselines.md row B layout): `[c0] eth0 ─ veth ─ br0 ─ vx0 ══ underlay ══ vx0 ─
 * br0 ─ veth ─ eth0 [c1]`, on two hosts made by `makeHosts`, with `mtu` on the container links.
 */
export async function vxlanSetup(makeHosts: () => Promise<TestHosts>, mtu: number): Promise<Setup> {
  const hosts = await makeHosts();
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
      await runIp(['link', 'set', hostSide, 'master', 'br0', 'mtu', String(mtu)], ns);
      await runIp(['link', 'set', 'eth0', 'mtu', String(mtu)], c.netns);
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

/** What {@link hostProcessSetup} needs of a started host process. */
export interface BenchHostProcess {
  readonly proc: { readonly pid?: number | undefined };
  request<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** How {@link hostProcessSetup} builds a path out of host processes. */
export interface HostProcessSetupOptions<H extends BenchHostProcess> {
  /** Makes the two test hosts. */
  readonly makeHosts: () => Promise<TestHosts>;
  /** Starts host `i` (host 1 peers with host 0's `address`). */
  readonly start: (host: TestHost, i: number, peerAddress: string | undefined) => Promise<H>;
  /** What every host's `connections` text must match before the path is measured. */
  readonly established: RegExp;
  /** How long to wait for that (default 20 s). */
  readonly timeoutMs?: number;
  /** Extra figures printed after the run, from the running hosts. */
  readonly report?: (running: readonly H[]) => Promise<string>;
}

/**
 * A path through two host processes (e.g. a weave host with the sleeve, or with fastdp): starts them,
 * waits until `established` holds on both, and attaches container c0 (10.32.0.1, the server) and c1
 * (10.32.0.2) to their bridges; the processes' pids are the datapath whose CPU is measured.
 */
export async function hostProcessSetup<H extends BenchHostProcess>(
  options: HostProcessSetupOptions<H>,
): Promise<Setup> {
  const hosts = await options.makeHosts();
  const running: H[] = [];
  const close = async () => {
    await Promise.all(running.map((r) => r.stop()));
    await hosts.destroy();
  };
  try {
    const list = hosts.hosts as [TestHost, TestHost];
    for (const [i, host] of list.entries()) {
      running.push(await options.start(host, i, i > 0 ? list[0].address : undefined));
    }
    await Promise.all(
      running.map((r) =>
        eventually(
          () => r.request<string>('connections'),
          (text) => options.established.test(text),
          options.timeoutMs ?? 20_000,
        ),
      ),
    );
    const c0 = await addTestContainer(hosts, list[0], 'c0', '10.32.0.1/12');
    const c1 = await addTestContainer(hosts, list[1], 'c1', '10.32.0.2/12');
    const report = options.report;
    return {
      client: c1,
      server: c0,
      serverIp: '10.32.0.1',
      datapathPids: running.map((r) => r.proc.pid!),
      ...(report ? { report: () => report(running) } : {}),
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

/** Warms the path up, then measures it `runs` times; the result holds the median of each figure. */
async function measure(label: string, setup: Setup, runs: number): Promise<PathResult> {
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
    const results: PathResult[] = [];
    for (let i = 0; i < runs; i++) results.push(await measureOnce(label, setup));
    const median = (pick: (r: PathResult) => number) => percentile(sorted(results.map(pick)), 50);
    return {
      label,
      tcpBps: median((r) => r.tcpBps),
      retransmits: median((r) => r.retransmits),
      udpPps: median((r) => r.udpPps),
      udpOfferedPps: median((r) => r.udpOfferedPps),
      rttP50Ms: median((r) => r.rttP50Ms),
      rttP99Ms: median((r) => r.rttP99Ms),
      ...(results[0]!.datapathCpu === undefined ? {} : { datapathCpu: median((r) => r.datapathCpu!) }),
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

/** Sets a path up with `make`, measures and prints it (and its `report`), and tears it down again. */
export async function run(
  label: string,
  make: () => Promise<Setup>,
  options: RunOptions,
): Promise<PathResult> {
  const setup = await make();
  try {
    const result = await measure(label, setup, options.runs);
    print(result, options.labelWidth);
    if (setup.report) console.log(await setup.report());
    return result;
  } finally {
    await setup.close();
  }
}

function print(r: PathResult, labelWidth: number): void {
  const gbit = (r.tcpBps / 1e9).toFixed(3);
  const k = (x: number) => `${(x / 1000).toFixed(1)} k`;
  const cpu = r.datapathCpu === undefined ? '' : `, node ×2 ${r.datapathCpu.toFixed(0)} %`;
  console.log(
    `${r.label.padEnd(labelWidth)} tcp ${gbit} Gbit/s (${r.retransmits} retr${cpu})  ` +
      `udp-64 ${k(r.udpPps)} pps delivered (${k(r.udpOfferedPps)} offered)  ` +
      `rtt p50 ${r.rttP50Ms.toFixed(3)} ms p99 ${r.rttP99Ms.toFixed(3)} ms`,
  );
}

/** The first of `tools` not on PATH, if any. */
export function missingTool(tools: readonly string[]): string | undefined {
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return tool;
    }
  }
  return undefined;
}

/** A ratio as a percentage, one decimal. */
export const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** How a target reads in the summary. */
export const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
