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
    // Addresses come from IPAM: the first request runs Paxos and creates the ring.
    const cidrA = await running[0]!.request<string>('allocate', { container: 'containerA' });
    const cidrB = await running[1]!.request<string>('allocate', { container: 'containerB' });
    const cA = await addContainer(hosts, hA, 'cA', cidrA);
    const cB = await addContainer(hosts, hB, 'cB', cidrB);
    const [ipA, ipB] = [cidrA.split('/')[0]!, cidrB.split('/')[0]!];
    const reachable = () =>
      pingOutput(cA, ipB).then(
        () => true,
        () => false,
      );
    await eventually(reachable, (ok) => ok, 15_000);
    console.log(`container on hostA (${cidrA}) pings ${ipB} on hostB:\n${await pingOutput(cA, ipB)}`);
    console.log(`container on hostB (${cidrB}) pings ${ipA} on hostA:\n${await pingOutput(cB, ipA)}`);
    console.log(`hostA: weave status ipam\n${await running[0]!.request<string>('ipam')}`);
    console.log(`hostA: weave status connections\n${await running[0]!.request<string>('connections')}`);
    console.log(await running[0]!.request<string>('status'));
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    await hosts.destroy();
  }
}
