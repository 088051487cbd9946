// attach / detach / expose / hide / ps in real namespaces: the CLI runs inside a test host (its
// own `weave` bridge) against a stand-in weaver API (fake-weaver-server.mjs), so what the CLI does
// to the kernel is checked without the daemon.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createBridge,
  createTestHosts,
  findLeftovers,
  getLink,
  listAddresses,
  listLinks,
  listRoutes,
  setLinkUp,
  type TestHosts,
} from '@weave-ts/host';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgv, runIn } from './e2e-hosts.js';

const FAKE = fileURLToPath(new URL('./fake-weaver-server.mjs', import.meta.url));
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('weave attach/detach/expose/hide/ps in namespaces', () => {
  let set: TestHosts;
  let hostNs: string;
  let c1: string;
  let c2: string;
  let dir: string;
  let fake: ChildProcess;
  let sleeper: ChildProcess;
  let hostnameDir: string;
  const argv = cliArgv();
  const logLines = () =>
    readFileSync(join(dir, 'api.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { method: string; path: string; query: string; body: string });
  const weave = (...args: string[]) =>
    runIn(hostNs, argv[0] as string, [...argv.slice(1), ...args], { WEAVE_STATE_DIR: join(dir, 'state') });

  beforeAll(async () => {
    set = await createTestHosts({ count: 1 });
    hostNs = set.hosts[0]!.netns;
    c1 = (await set.addNetns('c1')).netns;
    c2 = (await set.addNetns('c2')).netns;
    // c1 has a hostname with a domain part, the way `ip netns exec` shows one.
    hostnameDir = `/etc/netns/${c1}`;
    mkdirSync(hostnameDir, { recursive: true });
    writeFileSync(join(hostnameDir, 'hostname'), 'db1.weave.local\n');
    await createBridge('weave', { netns: hostNs, mtu: 1376 });
    await setLinkUp('weave', { netns: hostNs });
    dir = mkdtempSync(join(tmpdir(), `${set.prefix}-`));
    writeFileSync(join(dir, 'api.log'), '');
    fake = spawn(
      'ip',
      ['netns', 'exec', hostNs, process.execPath, FAKE, '127.0.0.1:6784', join(dir, 'api.log')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) => fake.stdout?.once('data', () => resolve()));
    // A process inside c2, to name that container by pid.
    sleeper = spawn('ip', ['netns', 'exec', c2, 'sleep', '300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
  }, 30_000);

  afterAll(async () => {
    fake?.kill('SIGTERM');
    sleeper?.kill('SIGKILL');
    rmSync(hostnameDir, { recursive: true, force: true });
    await set?.destroy();
    rmSync(dir, { recursive: true, force: true });
    expect(await findLeftovers(set.prefix)).toEqual([]);
  }, 30_000);

  it('attach gives ethwe with the subnet mask, bridge MTU and multicast route, registers the FQDN', async () => {
    const r = await weave('attach', c1);
    expect(r).toMatchObject({ code: 0, stdout: '10.32.0.1\n', stderr: '' });
    expect(await listAddresses('ethwe', { netns: c1 })).toEqual(['10.32.0.1/12']);
    expect((await getLink('ethwe', { netns: c1 })).mtu).toBe(1376);
    expect(await listRoutes('ethwe', { netns: c1 })).toContain('224.0.0.0/4');
    const veths = (await listLinks({ netns: hostNs })).filter((l) => l.name.startsWith('vethwepl'));
    expect(veths).toHaveLength(1);
    expect(veths[0]?.master).toBe('weave');
    const calls = logLines().filter((l) => l.path !== '/status');
    expect(calls).toEqual([
      expect.objectContaining({ method: 'POST', path: `/ip/${c1}` }),
      expect.objectContaining({ method: 'PUT', path: `/name/${c1}/10.32.0.1`, body: 'fqdn=db1.weave.local' }),
    ]);
  });

  it('attach by pid with a given address and -h, without multicast route; ps lists both', async () => {
    const r = await weave(
      'attach',
      'ip:10.2.1.7/24',
      '--no-multicast-route',
      '-h',
      'pidbox.weave.local',
      String(sleeper.pid),
    );
    // sleeper.pid is `ip netns exec`'s pid, which runs in c2 after setns.
    expect(r).toMatchObject({ code: 0, stdout: '10.2.1.7\n' });
    expect(await listAddresses('ethwe', { netns: c2 })).toEqual(['10.2.1.7/24']);
    expect(await listRoutes('ethwe', { netns: c2 })).not.toContain('224.0.0.0/4');
    const calls = logLines().filter((l) => l.method === 'PUT');
    expect(calls.map((l) => l.path)).toContain(`/ip/${c2}/10.2.1.7/24`);
    expect(calls.map((l) => `${l.path} ${l.body}`)).toContain(`/name/${c2}/10.2.1.7 fqdn=pidbox.weave.local`);

    const ps = await weave('ps');
    expect(ps.code, ps.stderr).toBe(0);
    const lines = ps.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^weave:expose ([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${c1.slice(0, 12)} \\S+ 10\\.32\\.0\\.1/12$`)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${c2.slice(0, 12)} \\S+ 10\\.2\\.1\\.7/24$`)),
    );
  });

  it('a second attach adds an address; detach of one keeps the interface, detach of the last removes it', async () => {
    expect(await weave('attach', 'net:default', 'ip:10.2.1.8/24', c2)).toMatchObject({
      code: 0,
      stdout: '10.32.0.2 10.2.1.8\n',
    });
    expect((await listAddresses('ethwe', { netns: c2 })).sort()).toEqual([
      '10.2.1.7/24',
      '10.2.1.8/24',
      '10.32.0.2/12',
    ]);
    expect(await weave('detach', '10.2.1.8/24', c2)).toMatchObject({ code: 0, stdout: '10.2.1.8\n' });
    expect((await listAddresses('ethwe', { netns: c2 })).sort()).toEqual(['10.2.1.7/24', '10.32.0.2/12']);
    expect(await weave('detach', 'net:default', '10.2.1.7/24', c2)).toMatchObject({
      code: 0,
      stdout: '10.32.0.2 10.2.1.7\n',
    });
    expect((await listLinks({ netns: c2 })).map((l) => l.name)).not.toContain('ethwe');
    const deletes = logLines().filter((l) => l.method === 'DELETE');
    expect(deletes.map((l) => l.path)).toEqual(
      expect.arrayContaining([`/name/${c2}/10.2.1.8`, `/ip/${c2}/10.32.0.2`, `/name/${c2}/10.32.0.2`]),
    );
  });

  it('expose puts an address on the bridge and hide removes it', async () => {
    const e = await weave('expose');
    expect(e).toMatchObject({ code: 0, stdout: '10.32.0.3\n' });
    expect(await listAddresses('weave', { netns: hostNs })).toEqual(['10.32.0.3/12']);
    const ping = await runIn(hostNs, 'ping', ['-c', '1', '-W', '1', '10.32.0.1']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    expect(await weave('hide')).toMatchObject({ code: 0, stdout: '10.32.0.3\n' });
    expect(await listAddresses('weave', { netns: hostNs })).toEqual([]);
    const paths = logLines().map((l) => `${l.method} ${l.path}`);
    expect(paths).toContain('DELETE /expose/10.32.0.3/12');
    expect(paths).toContain('DELETE /ip/weave:expose/10.32.0.3');
  });

  it('unknown containers and the host namespace are refused with upstream text', async () => {
    expect(await weave('attach', 'no-such-netns-wc')).toMatchObject({
      code: 1,
      stderr: 'Error: No such container: no-such-netns-wc\n',
    });
    const self = await weave('attach', '/proc/self/ns/net');
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('Container is running in the host network namespace');
  });

  it('the default state directory is per network namespace', async () => {
    const stateDir = fileURLToPath(new URL('../dist/state-dir.js', import.meta.url));
    if (!argv[1]?.endsWith('dist/bin/weave.js')) return; // running from source: nothing built to import
    const script = `import('${stateDir}').then((m) => console.log(m.stateDir({})))`;
    const r = await runIn(hostNs, process.execPath, ['-e', script]);
    expect(r.stdout.trim()).toBe(`/var/lib/weave/netns/${hostNs}`);
  });

  it('detach of c1 removes its veth from the bridge', async () => {
    expect(await weave('detach', c1)).toMatchObject({ code: 0, stdout: '10.32.0.1\n' });
    expect((await listLinks({ netns: hostNs })).filter((l) => l.name.startsWith('vethwepl'))).toEqual([]);
  });
});
