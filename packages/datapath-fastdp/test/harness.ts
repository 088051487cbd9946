// Drives test/fastdp-host.ts processes inside test namespaces (root only), through @weave-ts/host's
// startHostProcess like examples/weave-host-harness.ts does for the sleeve-only example: start a
// host, send it commands, attach containers (namespaces with an `ethwe` on the host's bridge), move
// data, clean up.
import { fileURLToPath } from 'node:url';
import {
  createTestHosts,
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
