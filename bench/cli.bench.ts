// Wall time of `weave status` (target < 150 ms), the way a user runs it: `node weave.js status`
// against an API answering /status with upstream's golden text. Reported with the environment as
// given and without NODE_EXTRA_CA_CERTS (which adds ~90 ms to every Node start, baselines.md),
// next to bare `node -e 0`. CPU time (user + system, from /usr/bin/time) is printed too: unlike wall
// time it hardly moves when other work loads the machine. Uses the built CLI (packages/cli/dist);
// run `pnpm build` first.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.CLI_BENCH_RUNS ?? 30);
const WARMUP = 3;
const CLI = fileURLToPath(new URL('../packages/cli/dist/bin/weave.js', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../fixtures/weaver-2.8.1/hostA_status.txt', import.meta.url));

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** One run: wall milliseconds, and CPU milliseconds (user + system, via /usr/bin/time) when available. */
function once(args: string[], env: NodeJS.ProcessEnv): Promise<{ wall: number; cpu?: number }> {
  const start = process.hrtime.bigint();
  const [file, argv] = TIME
    ? [TIME, ['-f', 'cpu %U %S', process.execPath, ...args]]
    : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
      const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      resolve(m ? { wall, cpu: (Number(m[1]) + Number(m[2])) * 1000 } : { wall });
    });
  });
}

async function measure(label: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  for (let i = 0; i < WARMUP; i++) await once(args, env);
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await once(args, env);
    walls.push(r.wall);
    if (r.cpu !== undefined) cpus.push(r.cpu);
  }
  const q = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
  };
  const cpu = cpus.length > 0 ? `   cpu median ${q(cpus, 0.5).padStart(5)} ms` : '';
  console.log(
    `${label.padEnd(42)} wall median ${q(walls, 0.5).padStart(6)} ms  p10 ${q(walls, 0.1).padStart(6)}  p90 ${q(walls, 0.9).padStart(6)}${cpu}`,
  );
}

export async function bench(): Promise<void> {
  if (!existsSync(CLI)) {
    console.log(`skipped: ${CLI} missing (pnpm build)`);
    return;
  }
  const status = existsSync(GOLDEN) ? readFileSync(GOLDEN, 'utf8') : 'Version: x\n';
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/status' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/status' ? status : '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const asGiven: NodeJS.ProcessEnv = { ...process.env, WEAVE_HTTP_ADDR: addr };
  const { NODE_EXTRA_CA_CERTS: extra, ...quiet } = asGiven;
  console.log(
    `${RUNS} runs each (after ${WARMUP} warm-up), wall time per process; target: weave status < 150 ms`,
  );
  try {
    await measure('node -e 0 (no NODE_EXTRA_CA_CERTS)', ['-e', '0'], quiet);
    await measure('weave status (no NODE_EXTRA_CA_CERTS)', [CLI, 'status'], quiet);
    if (extra !== undefined) {
      await measure('node -e 0 (environment as given)', ['-e', '0'], asGiven);
      await measure('weave status (environment as given)', [CLI, 'status'], asGiven);
    }
  } finally {
    server.close();
  }
}
