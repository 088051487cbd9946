// weaver's HTTP API: latency of the requests `weave` makes (GET /status, /status/ipam, /report
// JSON and template, /metrics, POST /ip + DELETE /ip) against an in-process weaver (datapath none,
// loopback, keep-alive), and the wall time from spawning the bin to its first 200 on /status
// (built dist when present, else tsx from the sources). No upstream baseline is recorded here; the
// CLI's own budget (weave status < 150 ms) is in cli.bench.ts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDaemonLogger, parseWeaverArgs, Weaver } from '../packages/weaver/src/index.js';

const RUNS = Number(process.env.WEAVER_BENCH_RUNS ?? 300);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'packages/weaver/dist/bin/weaver.js');
const SRC = join(ROOT, 'packages/weaver/src/bin/weaver.ts');

function quantiles(times: number[]): string {
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(2);
  return `median ${q(0.5).padStart(7)} ms   p90 ${q(0.9).padStart(7)}   p99 ${q(0.99).padStart(7)}`;
}

async function timed(label: string, runs: number, f: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < 10; i++) await f(-1 - i);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f(i);
    times.push(performance.now() - t0);
  }
  console.log(`${label.padEnd(34)} ${quantiles(times)}`);
}

async function inProcess(dir: string): Promise<void> {
  const parsed = parseWeaverArgs(
    [
      ...['--datapath', 'none', '--port', '0', '--host', '127.0.0.1', '--nickname', 'bench'],
      ...[
        '--http-addr',
        '127.0.0.1:0',
        '--status-addr',
        '127.0.0.1:0',
        '--dns-listen-address',
        '127.0.0.1:0',
      ],
      ...[
        '--ipalloc-range',
        '10.32.0.0/12',
        '--ipalloc-init',
        'consensus=1',
        '--db-prefix',
        join(dir, 'weave'),
      ],
    ],
    {},
  );
  if (parsed.kind !== 'run') throw new Error(parsed.output);
  const weaver = new Weaver(parsed.config, { logger: createDaemonLogger({ level: 'error' }) });
  await weaver.start();
  const base = `http://${weaver.bound.http}`;
  const get = async (path: string, accept?: string) => {
    const res = await fetch(`${base}${path}`, accept ? { headers: { accept } } : {});
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    await res.text();
  };
  try {
    console.log(`in-process weaver (datapath none), ${RUNS} sequential requests each, keep-alive:`);
    await timed('GET /status', RUNS, () => get('/status'));
    await timed('GET /status/ipam', RUNS, () => get('/status/ipam'));
    await timed('GET /report (JSON)', RUNS, () => get('/report', 'application/json'));
    await timed('GET /report?format={{.DNS.Address}}', RUNS, () =>
      get(`/report?format=${encodeURIComponent('{{.DNS.Address}}')}`),
    );
    await timed('GET /metrics', RUNS, () => get('/metrics'));
    await timed('POST /ip/c + DELETE /ip/c', RUNS, async (i) => {
      const id = `c${i + 20}`;
      const res = await fetch(`${base}/ip/${id}`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`POST /ip: ${res.status} ${await res.text()}`);
      await res.text();
      const del = await fetch(`${base}/ip/${id}`, { method: 'DELETE' });
      if (del.status !== 204) throw new Error(`DELETE /ip: ${del.status}`);
    });
  } finally {
    await weaver.stop();
  }
}

async function startup(dir: string, runs: number): Promise<void> {
  const built = existsSync(DIST);
  const args = built ? [DIST] : ['--import', 'tsx', SRC];
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...args,
        ...['--datapath', 'none', '--port', '0', '--http-addr', '127.0.0.1:0', '--status-addr', ''],
        ...['--dns-listen-address', '127.0.0.1:0', '--db-prefix', join(dir, `s${i}`, 'weave')],
      ],
      { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      for (;;) {
        const addr = /Listening for HTTP control messages on (\S+)/.exec(err)?.[1];
        if (addr) {
          const res = await fetch(`http://${addr}/status`).catch(() => undefined);
          if (res?.status === 200) break;
        }
        if (child.exitCode !== null) throw new Error(`weaver exited:\n${err}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      times.push(performance.now() - t0);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  console.log(`${`spawn → /status 200 (${built ? 'dist' : 'tsx'})`.padEnd(34)} ${quantiles(times)}`);
}

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wwbench'));
  try {
    await inProcess(dir);
    await startup(dir, Number(process.env.WEAVER_BENCH_STARTS ?? 5));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
