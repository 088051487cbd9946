/**
 * `pnpm fuzz [--n N] [--seed S] [--from I] [--json FILE] [target…]`: runs each fuzz target (all by
 * default, one at a time) on N mutated inputs (default 100 000) and prints executions, peak heap and
 * the slowest input (also re-timed alone, best of 5, for the 8 slowest). A target fails on a crash (an exception its parser does not document), an input
 * slower than 100 ms (re-run three times to rule out a pause of the shared machine), or memory that
 * keeps growing (heap after a full GC more than 32 MiB above the level after the first 10% of inputs,
 * or a peak above 512 MiB). Exits 1 when any target fails, printing the input (hex) to reproduce it.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mutate, Rng } from './mutator.js';
import { coreTargets, type FuzzTarget } from './targets.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  // Re-run with --expose-gc, so memory is measured after full collections.
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const HANG_MS = 100;
const GROWTH_LIMIT = 32 << 20;
const PEAK_LIMIT = 512 << 20;

interface Args {
  n: number;
  seed: number;
  from: number;
  json: string | undefined;
  names: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { n: 100_000, seed: 1, from: 0, json: undefined, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    if (v === '--n') a.n = Number(argv[++i]);
    else if (v === '--seed') a.seed = Number(argv[++i]);
    else if (v === '--from') a.from = Number(argv[++i]);
    else if (v === '--json') a.json = argv[++i];
    else a.names.push(v);
  }
  if (!Number.isSafeInteger(a.n) || a.n <= 0) throw new Error(`--n must be a positive integer`);
  return a;
}

/** What one target's run found. */
export interface FuzzResult {
  target: string;
  executions: number;
  expectedErrors: number;
  seconds: number;
  peakHeapMiB: number;
  heapGrowthMiB: number;
  slowestMs: number;
  slowestInputLength: number;
  /** Inputs whose first run took over 100 ms and were re-run (pauses of the machine, GC). */
  retried: number;
  /** The slowest of the 8 slowest inputs when each is re-timed alone (best of 5 runs). */
  slowestRetimedMs: number;
  failure?: string;
}

const heap = () => process.memoryUsage().heapUsed;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function timed(target: FuzzTarget, input: Uint8Array): Promise<{ ms: number; error?: unknown }> {
  const start = performance.now();
  try {
    const r = target.run(input);
    if (r instanceof Promise) await r;
    return { ms: performance.now() - start };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

async function fuzz(target: FuzzTarget, args: Args): Promise<FuzzResult> {
  await target.setup?.();
  const corpus = target.seeds();
  const rng = new Rng(args.seed ^ hashName(target.name));
  const result: FuzzResult = {
    target: target.name,
    executions: 0,
    expectedErrors: 0,
    seconds: 0,
    peakHeapMiB: 0,
    heapGrowthMiB: 0,
    slowestMs: 0,
    slowestInputLength: 0,
    retried: 0,
    slowestRetimedMs: 0,
  };
  const slowest: { ms: number; input: Uint8Array }[] = [];
  const began = performance.now();
  let baseline = 0;
  let peak = heap();
  let lastReport = began;
  // Seeds first (unmutated), then mutations.
  for (let i = 0; i < args.from + args.n; i++) {
    const input = i < corpus.length ? corpus[i]! : mutate(rng, corpus, target.maxLen);
    if (i < args.from) continue;
    let { ms, error } = await timed(target, input);
    if (ms > HANG_MS) {
      result.retried++;
      // A pause of the (shared) machine or a GC is not the input's fault: slow three times over is.
      for (let k = 0; k < 3 && ms > HANG_MS; k++) ms = Math.min(ms, (await timed(target, input)).ms);
    }
    result.executions++;
    if (ms > result.slowestMs) {
      result.slowestMs = ms;
      result.slowestInputLength = input.length;
    }
    if (slowest.length < 8 || ms > slowest[slowest.length - 1]!.ms) {
      slowest.push({ ms, input });
      slowest.sort((a, b) => b.ms - a.ms);
      if (slowest.length > 8) slowest.pop();
    }
    if (error !== undefined) {
      if (target.expected(error)) result.expectedErrors++;
      else {
        const e = error as Error;
        result.failure = `crash at input ${i}: ${e?.name}: ${e?.message}\n${e?.stack ?? ''}\ninput: ${hex(input)}`;
        break;
      }
    }
    if (ms > HANG_MS) {
      result.failure = `hang at input ${i}: ${ms.toFixed(1)} ms (> ${HANG_MS} ms)\ninput: ${hex(input)}`;
      break;
    }
    if (i % 1000 === 0) {
      peak = Math.max(peak, heap());
      if (peak > PEAK_LIMIT) {
        result.failure = `memory: heap peaked at ${(peak / 2 ** 20).toFixed(0)} MiB at input ${i}`;
        break;
      }
    }
    if (i === args.from + Math.floor(args.n / 10)) {
      gc!();
      baseline = heap();
    }
    const now = performance.now();
    if (now - lastReport > 30_000) {
      lastReport = now;
      console.log(
        `  ${target.name}: ${result.executions} executions, ${((now - began) / 1000).toFixed(0)} s`,
      );
    }
  }
  for (const s of slowest) {
    let best = Number.POSITIVE_INFINITY;
    for (let k = 0; k < 5; k++) best = Math.min(best, (await timed(target, s.input)).ms);
    result.slowestRetimedMs = Math.max(result.slowestRetimedMs, Math.round(best * 1000) / 1000);
  }
  gc!();
  const growth = baseline === 0 ? 0 : heap() - baseline;
  if (!result.failure && growth > GROWTH_LIMIT)
    result.failure = `memory: heap grew ${(growth / 2 ** 20).toFixed(1)} MiB after the first 10% of inputs`;
  result.seconds = (performance.now() - began) / 1000;
  result.peakHeapMiB = Math.round((peak / 2 ** 20) * 10) / 10;
  result.heapGrowthMiB = Math.round((growth / 2 ** 20) * 10) / 10;
  result.slowestMs = Math.round(result.slowestMs * 100) / 100;
  await target.teardown?.();
  return result;
}

function hashName(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const args = parseArgs(process.argv.slice(2));
/** Targets whose modules load only when chosen (the sleeve one loads the host addon). */
const lazy: Record<string, () => Promise<FuzzTarget>> = {
  sleeve: async () => (await import('./sleeve-target.js')).default,
  http: async () => (await import('./http-target.js')).default,
};
const names = [...coreTargets.map((t) => t.name), ...Object.keys(lazy)];
const wanted = args.names.length === 0 ? names : args.names;
const unknown = wanted.filter((n) => !names.includes(n));
if (unknown.length > 0) {
  console.error(`unknown target ${unknown.join(', ')}; targets: ${names.join(', ')}`);
  process.exit(2);
}
const chosen: FuzzTarget[] = [];
for (const n of wanted) chosen.push(coreTargets.find((t) => t.name === n) ?? (await lazy[n]!()));
const results: FuzzResult[] = [];
let failed = false;
for (const target of chosen) {
  console.log(`# ${target.name}: ${target.description}`);
  const r = await fuzz(target, args);
  results.push(r);
  console.log(
    `${r.failure ? 'FAIL' : 'ok  '} ${r.target}: ${r.executions} executions in ${r.seconds.toFixed(1)} s ` +
      `(${r.expectedErrors} refused), peak heap ${r.peakHeapMiB} MiB, growth ${r.heapGrowthMiB} MiB, ` +
      `slowest input ${r.slowestMs} ms (${r.slowestInputLength} bytes; ${r.slowestRetimedMs} ms re-timed alone), ` +
      `${r.retried} re-run after a pause`,
  );
  if (r.failure) {
    failed = true;
    console.log(r.failure);
  }
}
if (args.json)
  writeFileSync(args.json, `${JSON.stringify({ seed: args.seed, n: args.n, results }, null, 2)}\n`);
process.exit(failed ? 1 : 0);
