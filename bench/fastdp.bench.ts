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
import { createFastdpTestHosts, startHost } from '../packages/datapath-fastdp/test/harness.js';
import { probeFastdp } from '../packages/datapath-fastdp/src/index.js';
import {
  hostProcessSetup,
  missingTool,
  pct,
  type RunOptions,
  run,
  type Setup,
  verdict,
  vxlanSetup,
} from './overlay-bench.js';

const MTU = 1376;
const OPTIONS: RunOptions = { runs: Number(process.env.FASTDP_BENCH_RUNS ?? 3), labelWidth: 14 };

function fastdpSetup(): Promise<Setup> {
  return hostProcessSetup({
    makeHosts: () => createFastdpTestHosts(2),
    start: (host, i, peer) =>
      startHost(host, [
        ...['--name', `0a:00:00:00:00:0${i + 1}`, '--nickname', `host${i + 1}`],
        ...(peer ? ['--peer', peer] : []),
      ]),
    established: / established fastdp .*mtu=1376/,
    timeoutMs: 30_000,
    report: async (running) => {
      const reports = await Promise.all(
        running.map((r) => r.request<{ kernel: object; flows: number }>('fastdp')),
      );
      return reports.map((r, i) => `host${i + 1} flows=${r.flows} ${JSON.stringify(r.kernel)}`).join('\n');
    },
  });
}

/** Runs the comparison (called by bench/run.ts as `pnpm bench fastdp`). */
export async function bench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('fastdp: skipped (needs root: network namespaces, VXLAN, BPF)');
    return;
  }
  const tool = missingTool(['iperf3', 'ping', 'bpftool', 'tc']);
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
  const vxlan = await run('kernel vxlan', () => vxlanSetup(() => createFastdpTestHosts(2), MTU), OPTIONS);
  const fastdp = await run('fastdp', fastdpSetup, OPTIONS);
  const tcp = fastdp.tcpBps / vxlan.tcpBps;
  const p99 = fastdp.rttP99Ms / vxlan.rttP99Ms;
  console.log(`fastdp / vxlan tcp: ${pct(tcp)} (target ≥ 95 %: ${verdict(tcp >= 0.95)})`);
  console.log(`fastdp / vxlan udp-64 pps: ${pct(fastdp.udpPps / vxlan.udpPps)}`);
  console.log(`fastdp / vxlan rtt p99: ${p99.toFixed(2)}× (target ≤ 1.1×: ${verdict(p99 <= 1.1)})`);
}
