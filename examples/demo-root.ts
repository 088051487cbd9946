// `pnpm demo --root`: the datapath demo. Two "hosts" (network namespaces joined by a veth), each
// running a weave host process (router + sleeve + TAP on bridge `weave`), one "container" namespace
// per host; the containers ping each other across the mesh. Everything is removed afterwards.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestHosts, type TestHost } from '@weave-ts/host';
import { addContainer, eventually, type RunningHost, startWeaveHost } from './weave-host-harness.js';

const run = promisify(execFile);

async function pingOutput(from: TestHost, to: string): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', from.netns, 'ping', '-c', '3', '-i', '0.2', to]);
  return stdout;
}

export async function rootDemo(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('pnpm demo --root needs root (it creates namespaces, a bridge and a TAP)');
  const hosts = await createTestHosts({ count: 2 });
  const running: RunningHost[] = [];
  try {
    const [hA, hB] = hosts.hosts as [TestHost, TestHost];
    running.push(await startWeaveHost(hA, ['--name', 'a::1', '--nickname', 'hostA']));
    running.push(await startWeaveHost(hB, ['--name', 'a::2', '--nickname', 'hostB', '--peer', hA.address!]));
    await eventually(
      () => running[1]!.request<string>('connections'),
      (text) => text.includes(' established '),
    );
    const cA = await addContainer(hosts, hA, 'cA', '10.32.0.1/12');
    const cB = await addContainer(hosts, hB, 'cB', '10.32.0.2/12');
    await eventually(
      () =>
        pingOutput(cA, '10.32.0.2').then(
          () => true,
          () => false,
        ),
      (ok) => ok,
      15_000,
    );
    console.log(
      `container on hostA (${cA.netns}) pings 10.32.0.2 on hostB:\n${await pingOutput(cA, '10.32.0.2')}`,
    );
    console.log(
      `container on hostB (${cB.netns}) pings 10.32.0.1 on hostA:\n${await pingOutput(cB, '10.32.0.1')}`,
    );
    console.log(`hostA: weave status connections\n${await running[0]!.request<string>('connections')}`);
    console.log(await running[0]!.request<string>('status'));
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    await hosts.destroy();
  }
}
