// weaveDNS queries/s on 127.0.0.1, from a UDP load generator in a worker thread (bounded in queries
// and time), against our server with and without the fast path and, when installed, dnsmasq serving
// the same 200 names from a hosts file (baselines.md: dnsmasq ~99k, dns-packet ~26k, hand-written
// ~46k qps with dnsperf).
import { type ChildProcess, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parsePeerName } from '@weave-ts/core';
import { DnsServer, Nameserver } from '@weave-ts/dns';

const NAMES = 200;
const DURATION_MS = 3000;
const WARMUP_MS = 500;
const MAX_QUERIES = 2_000_000;
// Two generator threads: one Node thread cannot saturate dnsmasq on this machine.
const GENERATORS = Number(process.env.DNS_BENCH_GENERATORS ?? 2);

const name = (i: number) => `svc-${String(i).padStart(3, '0')}.weave.local`;
const addr = (i: number) => `10.32.${i >> 8}.${(i & 255) + 1}`;

// Plain JS so the worker needs no TypeScript loader. It keeps WINDOW queries in flight on each of
// SOCKETS sockets, re-filling a socket whose replies stall (lost datagrams), and counts replies
// that arrive between warm-up and the end.
const LOADGEN = `
const dgram = require('node:dgram');
const { workerData, parentPort } = require('node:worker_threads');
const { port, names, durationMs, warmupMs, maxQueries } = workerData;
const SOCKETS = 4, WINDOW = 32;
const queries = names.map((n, i) => {
  const labels = n.split('.');
  const len = 12 + labels.reduce((a, l) => a + l.length + 1, 0) + 1 + 4;
  const b = Buffer.alloc(len);
  b.writeUInt16BE(i, 0); b.writeUInt16BE(0x0100, 2); b.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) { b[o++] = l.length; b.write(l, o, 'latin1'); o += l.length; }
  b[o++] = 0; b.writeUInt16BE(1, o); b.writeUInt16BE(1, o + 2);
  return b;
});
let sent = 0, counted = 0, answered = 0, bad = 0, measuring = false, stopped = false, next = 0;
const socks = [];
const send = (s) => { if (stopped || sent >= maxQueries) return; sent++; s.send(queries[next++ % queries.length], port, '127.0.0.1'); };
for (let k = 0; k < SOCKETS; k++) {
  const s = dgram.createSocket('udp4');
  s.lastReply = Date.now();
  s.on('message', (m) => {
    s.lastReply = Date.now();
    answered++;
    if ((m[3] & 0x0f) !== 0 || m.readUInt16BE(6) === 0) bad++;
    if (measuring) counted++;
    send(s);
  });
  s.bind(0, '127.0.0.1', () => { for (let w = 0; w < WINDOW; w++) send(s); });
  socks.push(s);
}
const refill = setInterval(() => {
  const now = Date.now();
  for (const s of socks) if (now - s.lastReply > 50) { s.lastReply = now; for (let w = 0; w < WINDOW; w++) send(s); }
}, 25);
setTimeout(() => { measuring = true; }, warmupMs);
setTimeout(() => {
  measuring = false; stopped = true; clearInterval(refill);
  for (const s of socks) s.close();
  parentPort.postMessage({ qps: counted / (durationMs / 1000), sent, answered, bad });
}, warmupMs + durationMs);
`;

interface LoadResult {
  qps: number;
  sent: number;
  answered: number;
  bad: number;
  /** The server's CPU use over the run, in cores (1 = one core busy all the time). */
  cpu?: number;
}

async function load(port: number): Promise<LoadResult> {
  const parts = await Promise.all(Array.from({ length: GENERATORS }, () => loadOne(port)));
  return parts.reduce((a, b) => ({
    qps: a.qps + b.qps,
    sent: a.sent + b.sent,
    answered: a.answered + b.answered,
    bad: a.bad + b.bad,
  }));
}

function loadOne(port: number): Promise<LoadResult> {
  const names = Array.from({ length: NAMES }, (_, i) => name(i));
  return new Promise((resolve, reject) => {
    const w = new Worker(LOADGEN, {
      eval: true,
      workerData: { port, names, durationMs: DURATION_MS, warmupMs: WARMUP_MS, maxQueries: MAX_QUERIES },
    });
    w.once('message', (r: LoadResult) => {
      void w.terminate();
      resolve(r);
    });
    w.once('error', reject);
  });
}

async function ourServer(fastPath: boolean): Promise<LoadResult> {
  const ns = new Nameserver({ ourName: parsePeerName('0a:00:00:00:00:01'), isKnownPeer: () => true });
  for (let i = 0; i < NAMES; i++) ns.add(`c${i}`, addr(i), `${name(i)}.`);
  const server = new DnsServer({
    nameserver: ns,
    host: '127.0.0.1',
    port: 0,
    upstream: { servers: () => [] },
    fastPath,
  });
  const { udpPort } = await server.start();
  try {
    // The server runs on this thread; its event-loop utilisation is its CPU share.
    const before = performance.eventLoopUtilization();
    const result = await load(udpPort);
    return { ...result, cpu: performance.eventLoopUtilization(before).utilization };
  } finally {
    await server.stop();
  }
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function haveCommand(cmd: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    p.on('exit', (code) => resolve(code === 0));
  });
}

async function dnsmasq(): Promise<LoadResult | undefined> {
  if (!(await haveCommand('dnsmasq'))) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'weave-dns-bench-'));
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, Array.from({ length: NAMES }, (_, i) => `${addr(i)} ${name(i)}\n`).join(''));
  const port = await freeUdpPort();
  let child: ChildProcess | undefined;
  try {
    child = spawn(
      'dnsmasq',
      [
        '--keep-in-foreground',
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        `--addn-hosts=${hosts}`,
        '--no-poll',
        '--cache-size=1000',
        '--user=root',
        `--pid-file=${join(dir, 'dnsmasq.pid')}`,
        '--log-facility=-',
      ],
      { stdio: 'ignore' },
    );
    // Wait until it answers.
    for (let i = 0; i < 50; i++) {
      if (await answers(port)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const pid = child.pid;
    const cpu0 = pid === undefined ? undefined : cpuSeconds(pid);
    const t0 = performance.now();
    const result = await load(port);
    const cpu1 = pid === undefined ? undefined : cpuSeconds(pid);
    const wall = (performance.now() - t0) / 1000;
    return { ...result, cpu: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / wall };
  } finally {
    if (child?.pid !== undefined && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child?.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** utime + stime of a process in seconds, from /proc (Linux; clock ticks are 100 Hz there). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const q = Buffer.from(
      '000101000001000000000000077376632d303030057765617665056c6f63616c0000010001',
      'hex',
    );
    const t = setTimeout(() => {
      s.close();
      resolve(false);
    }, 100);
    s.on('message', () => {
      clearTimeout(t);
      s.close();
      resolve(true);
    });
    s.send(q, port, '127.0.0.1');
  });
}

const fmt = (r: LoadResult) =>
  `${Math.round(r.qps).toLocaleString('en-US')} qps, server CPU ${r.cpu === undefined ? '?' : `${Math.round(r.cpu * 100)} %`}` +
  ` (sent ${r.sent}, answered ${r.answered}, non-NOERROR ${r.bad})`;
const perCore = (r: LoadResult) => (r.cpu ? r.qps / r.cpu : undefined);

/** Runs the measurements and prints one line each, then the ratio to dnsmasq if it ran. */
export async function bench(): Promise<void> {
  const fast = await ourServer(true);
  console.log(`weaveDNS fast path  : ${fmt(fast)}`);
  const slow = await ourServer(false);
  console.log(`weaveDNS dns-packet : ${fmt(slow)}`);
  console.log(`fast path speed-up  : ${(fast.qps / slow.qps).toFixed(2)}x`);
  const ref = await dnsmasq();
  if (!ref) {
    console.log('dnsmasq             : not installed (apt-get install -y dnsmasq-base), no ratio');
    return;
  }
  console.log(`dnsmasq             : ${fmt(ref)}`);
  console.log(
    `ratio to dnsmasq    : ${((fast.qps / ref.qps) * 100).toFixed(1)} % of its qps (target >= 50 %)`,
  );
  const ours = perCore(fast);
  const theirs = perCore(ref);
  if (ours && theirs) {
    console.log(
      `per busy core       : weaveDNS ${Math.round(ours)} qps, dnsmasq ${Math.round(theirs)} qps ` +
        `(${((ours / theirs) * 100).toFixed(1)} %)`,
    );
  }
}
