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
import { createTestHosts } from '@weave-ts/host';
import { startWeaveHost } from '../examples/weave-host-harness.js';
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

const PASSWORD = 'sleeve-bench-password';
const PROF_DIR = process.env.SLEEVE_BENCH_CPU_PROF_DIR;
const PATHS = new Set((process.env.SLEEVE_BENCH_PATHS ?? 'vxlan,plain,encrypted').split(','));
const OPTIONS: RunOptions = { runs: Number(process.env.SLEEVE_BENCH_RUNS ?? 3), labelWidth: 16 };

function sleeveSetup(password?: string, noFastPath = false): Promise<Setup> {
  return hostProcessSetup({
    makeHosts: () => createTestHosts({ count: 2 }),
    start: (host, i, peer) => {
      const args = ['--name', `a::${i + 1}`, '--nickname', `host${i + 1}`];
      if (peer) args.push('--peer', peer);
      if (password) args.push('--password', password);
      if (noFastPath) args.push('--no-fast-path');
      return startWeaveHost(host, args, 20_000, PROF_DIR === undefined ? {} : { cpuProfDir: PROF_DIR });
    },
    // Established, and PMTU discovery done (until then the sleeve MTU is 65535).
    established: / established .*mtu=14\d\d/,
  });
}

export async function bench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('sleeve: skipped (needs root: network namespaces, TAP devices)');
    return;
  }
  const tool = missingTool(['iperf3', 'ping']);
  if (tool) {
    console.log(`sleeve: skipped (${tool} not installed: apt-get install -y iperf3 iputils-ping)`);
    return;
  }
  const vxlan = PATHS.has('vxlan')
    ? await run('kernel vxlan', () => vxlanSetup(() => createTestHosts({ count: 2 }), 1450), OPTIONS)
    : undefined;
  const plain = PATHS.has('plain') ? await run('sleeve', () => sleeveSetup(), OPTIONS) : undefined;
  const encrypted = PATHS.has('encrypted')
    ? await run('sleeve encrypted', () => sleeveSetup(PASSWORD), OPTIONS)
    : undefined;
  const js = PATHS.has('js')
    ? await run('sleeve, all JS', () => sleeveSetup(undefined, true), OPTIONS)
    : undefined;
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
