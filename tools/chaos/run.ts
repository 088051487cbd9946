// The IPAM/DNS fault-schedule explorer.
//
//   pnpm chaos [--schedules N] [--seed S] [--jobs J] [--steps K] [--no-shrink] [--verbose]
//   pnpm chaos --replay '<schedule JSON>' | --replay-file path.json   (one schedule, verbose)
//
// Schedules S, S+1, … S+N-1 are generated and run in J worker processes (default: 2). Prints
// schedules run, operations, invariant violations and allocation latency (virtual time) after heal;
// exits 1 if any schedule broke an invariant, after printing its shrunk, replayable form.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateSchedule, type Schedule } from './schedule.js';
import { failsWith, shrinkSchedule } from './shrink.js';
import { runSchedule, type Violation } from './world.js';

interface Args {
  schedules: number;
  seed: number;
  jobs: number;
  steps: number | undefined;
  shrink: boolean;
  verbose: boolean;
  replay: Schedule | undefined;
  worker: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    schedules: 1000,
    seed: 1,
    jobs: 2,
    steps: undefined,
    shrink: true,
    verbose: false,
    replay: undefined,
    worker: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--schedules') args.schedules = int();
    else if (a === '--seed') args.seed = int();
    else if (a === '--jobs') args.jobs = Math.max(1, int());
    else if (a === '--steps') args.steps = int();
    else if (a === '--no-shrink') args.shrink = false;
    else if (a === '--verbose') args.verbose = true;
    else if (a === '--replay') args.replay = JSON.parse(value()) as Schedule;
    else if (a === '--replay-file') args.replay = JSON.parse(readFileSync(value(), 'utf8')) as Schedule;
    else if (a === '--worker') args.worker = true;
    else if (a === '--') continue;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** What a worker reports per schedule. */
interface Outcome {
  seed: number;
  ops: number;
  allocations: number;
  latencies: number[];
  violations: Violation[];
  wallMs: number;
}

async function runOne(seed: number, steps: number | undefined): Promise<Outcome> {
  const started = performance.now();
  const schedule = generateSchedule(seed, steps === undefined ? {} : { steps });
  const r = await runSchedule(schedule);
  return {
    seed,
    ops: r.ops,
    allocations: r.allocations,
    latencies: r.latencies,
    violations: r.violations,
    wallMs: performance.now() - started,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function worker(): Promise<void> {
  // Connection failures create many errors; their stack traces are never read here.
  Error.stackTraceLimit = 2;
  // Seeds arrive over IPC, one at a time; outcomes go back the same way.
  process.on('message', async (msg: { seed?: number; steps?: number; done?: boolean }) => {
    if (msg.done) process.exit(0);
    if (msg.seed !== undefined) process.send!(await runOne(msg.seed, msg.steps));
  });
  process.send!({ ready: true });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.worker) return worker();
  if (args.replay) {
    const r = await runSchedule(args.replay, { verbose: true });
    console.log(`ops ${r.ops}, allocations ${r.allocations}, violations ${r.violations.length}`);
    for (const v of r.violations) console.log(`  ${v.kind} at ${v.at} ms: ${v.message}`);
    process.exitCode = r.violations.length > 0 ? 1 : 0;
    return;
  }

  const started = performance.now();
  const seeds = Array.from({ length: args.schedules }, (_, i) => args.seed + i);
  const outcomes: Outcome[] = [];
  const self = fileURLToPath(import.meta.url);
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let live = Math.min(args.jobs, seeds.length);
    if (live === 0) resolve();
    for (let j = 0; j < Math.min(args.jobs, seeds.length); j++) {
      const child = fork(self, ['--worker'], {
        execArgv: ['--import', 'tsx'],
        env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
      });
      const feed = () => {
        if (next < seeds.length) child.send({ seed: seeds[next++], steps: args.steps });
        else child.send({ done: true });
      };
      child.on('message', (msg: Outcome | { ready: true }) => {
        if ('ready' in msg) return feed();
        outcomes.push(msg);
        const bad =
          msg.violations.length > 0 ? ` VIOLATIONS ${msg.violations.map((v) => v.kind).join(',')}` : '';
        if (bad || args.verbose || outcomes.length % 50 === 0) {
          const elapsed = ((performance.now() - started) / 1000).toFixed(0);
          console.log(
            `[${elapsed}s] ${outcomes.length}/${seeds.length} seed ${msg.seed}: ${msg.ops} ops${bad}`,
          );
        }
        feed();
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code !== 0 && next <= seeds.length && outcomes.length < seeds.length) {
          reject(new Error(`worker exited with ${code}`));
        }
        if (--live === 0) resolve();
      });
    }
  });

  const wall = (performance.now() - started) / 1000;
  const latencies = outcomes.flatMap((o) => o.latencies).sort((a, b) => a - b);
  const failed = outcomes.filter((o) => o.violations.length > 0).sort((a, b) => a.seed - b.seed);
  const ops = outcomes.reduce((s, o) => s + o.ops, 0);
  const allocations = outcomes.reduce((s, o) => s + o.allocations, 0);
  const violations = outcomes.reduce((s, o) => s + o.violations.length, 0);
  console.log('');
  console.log(
    `chaos: seeds ${args.seed}..${args.seed + args.schedules - 1}, ${args.jobs} jobs, ${wall.toFixed(0)} s wall`,
  );
  console.log(`schedules run:        ${outcomes.length}`);
  console.log(`operations:           ${ops}`);
  console.log(`allocations answered: ${allocations}`);
  console.log(
    `invariant violations: ${violations}${failed.length ? ` (in ${failed.length} schedules)` : ''}`,
  );
  console.log(
    `allocation latency after heal (virtual): p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1] ?? Number.NaN} ms (${latencies.length} probes)`,
  );
  if (failed.length === 0) return;
  process.exitCode = 1;
  const first = failed[0]!;
  for (const f of failed.slice(0, 10)) {
    console.log(
      `seed ${f.seed}: ${f.violations.map((v) => `${v.kind}: ${v.message.split('\n')[0]}`).join('; ')}`,
    );
  }
  const schedule = generateSchedule(first.seed, args.steps === undefined ? {} : { steps: args.steps });
  if (!args.shrink) {
    console.log(`\nreplay: pnpm chaos --replay '${JSON.stringify(schedule)}'`);
    return;
  }
  console.log(`\nshrinking seed ${first.seed} (${schedule.ops.length} ops)…`);
  const kinds = new Set(first.violations.map((v) => v.kind));
  const small = await shrinkSchedule(schedule, failsWith(kinds), 150, (s) =>
    console.log(`  still failing with ${s.ops.length} ops, ${s.peers} peers`),
  );
  console.log(`\nminimal schedule (${small.ops.length} ops, ${small.peers} peers):`);
  console.log(JSON.stringify(small));
  console.log(`\nreplay: pnpm chaos --replay '${JSON.stringify(small)}'`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(2);
});
