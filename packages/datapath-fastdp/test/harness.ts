// Drives test/fastdp-host.ts processes inside test namespaces (root only), through @weave-ts/host's
// startHostProcess like examples/weave-host-harness.ts does for the sleeve-only example: start a
// host, send it commands, attach containers (namespaces with an `ethwe` on the host's bridge), move
// data, clean up.
import { fileURLToPath } from 'node:url';
import {
  createTestHosts,
  eventually,
  type HostProcess,
  startHostProcess,
  type TestHost,
  type TestHosts,
  uniqueTestPrefix,
} from '@weave-ts/host';

export { addTestContainer as addContainer, eventually } from '@weave-ts/host';

const RUNNER = fileURLToPath(new URL('./fastdp-host.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A running test/fastdp-host.ts process. */
export interface RunningHost extends Omit<HostProcess, 'ready'> {
  /** What the ready line said. */
  readonly ready: { fastdp: boolean; mtu: number };
}

/** Test hosts named with this package's prefix `wf` (`wf` + 5 random characters). */
export function createFastdpTestHosts(count: number, mtu?: number): Promise<TestHosts> {
  const prefix = `wf${uniqueTestPrefix().slice(2)}`;
  return createTestHosts({ count, prefix, ...(mtu ? { mtu } : {}) });
}

/** Starts the runner in `host`'s namespace with `args`. */
export async function startHost(host: TestHost, args: string[], timeoutMs = 30_000): Promise<RunningHost> {
  const running = await startHostProcess(host, {
    script: RUNNER,
    args: ['--host', host.address!, ...args],
    cwd: ROOT,
    timeoutMs,
    stopTimeoutMs: 8_000,
  });
  // `args` as given (without --host), so a test can start the host again with them.
  return {
    ...running,
    args,
    ready: { fastdp: running.ready.fastdp === true, mtu: Number(running.ready.mtu ?? 0) },
  };
}

/** Pings until one reply arrives. */
export async function ping(from: TestHost, to: string, timeoutMs = 20_000): Promise<void> {
  await eventually(
    () =>
      from.exec('ping', ['-c', '1', '-W', '1', to]).then(
        () => true,
        () => false,
      ),
    (ok) => ok,
    timeoutMs,
  );
}

/** Sends `bytes` random bytes over TCP from `from` to `to`'s listener; returns both sides' sha256. */
export async function tcpTransfer(from: TestHost, to: TestHost, toIp: string, bytes: number) {
  const server = to.spawn(process.execPath, [
    '-e',
    `const s=require('net').createServer(c=>{const h=require('crypto').createHash('sha256');let n=0;
     c.on('data',d=>{n+=d.length;h.update(d)});c.on('end',()=>{console.log(JSON.stringify({n,sha:h.digest('hex')}));c.end();s.close()})});
     s.listen(5201,'${toIp}',()=>console.log('listening'))`,
  ]);
  const out: string[] = [];
  server.stdout!.on('data', (d) => out.push(String(d)));
  try {
    await eventually(
      async () => out.join(''),
      (s) => s.includes('listening'),
      10_000,
    );
    const client = await from.exec(
      process.execPath,
      [
        '-e',
        `const d=require('crypto').randomBytes(${bytes});const c=require('net').connect(5201,'${toIp}',()=>{c.end(d)});
       c.on('close',()=>console.log(require('crypto').createHash('sha256').update(d).digest('hex')))`,
      ],
      { timeoutMs: 90_000 },
    );
    const received = await eventually(
      async () => out.join(''),
      (s) => s.includes('sha'),
      90_000,
    );
    return { sent: client.stdout.trim(), received: JSON.parse(received.slice(received.indexOf('{'))) };
  } finally {
    server.kill('SIGKILL');
  }
}

/** What the `fastdp` command returns (the parts the tests read). */
export interface FastdpReport {
  flows: number;
  devices: Record<string, string>;
  forwarders: { peer: string; established: boolean; healthy: boolean }[];
  counters: { framesReceived: number; heartbeats: number };
  kernel: {
    kernelSent: number;
    kernelDelivered: number;
    missesOut: number;
    missesIn: number;
    errors: number;
  };
}
