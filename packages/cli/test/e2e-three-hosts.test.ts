// Seed walkthrough 1, end to end through `weave` only: three hosts share 172.16.16.0/24 (.128, .1,
// then a donated range), containers ping across hosts, a host with another range is refused with
// upstream's text, `weave ps`, and `weave expose` / `weave hide` from the host namespace.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weaverCommand } from '../src/daemon.js';
import {
  createWeaveHosts,
  extraLaunchArgs,
  pings,
  until,
  type WeaveHost,
  type WeaveHosts,
} from './e2e-hosts.js';

const RANGE = '172.16.16.0/24';
const canRun = process.getuid?.() === 0 && weaverCommand() !== undefined;

describe.skipIf(!canRun)('weave walkthrough: three hosts on 172.16.16.0/24', () => {
  let w: WeaveHosts;
  let A: WeaveHost;
  let B: WeaveHost;
  let C: WeaveHost;
  let D: WeaveHost;
  let cA: string;
  let cB: string;
  let cC: string;

  beforeAll(async () => {
    w = await createWeaveHosts(4);
    [A, B, C, D] = w.hosts as [WeaveHost, WeaveHost, WeaveHost, WeaveHost];
    cA = await w.container('ca');
    cB = await w.container('cb');
    cC = await w.container('cc');
  }, 60_000);

  afterAll(async () => {
    await w?.destroy();
  }, 60_000);

  const launch = async (h: WeaveHost, n: number, range: string, ...peers: string[]) => {
    const r = await h.weave(
      'launch',
      '--ipalloc-range',
      range,
      '--name',
      `0a:00:00:00:00:0${n}`,
      '--nickname',
      `host${n}`,
      ...extraLaunchArgs(),
      ...peers,
    );
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\n$/) });
  };
  const established = (h: WeaveHost, n: number) =>
    until(`${n} established connection(s) on ${h.ns}`, async () => {
      const s = (await h.weave('status')).stdout;
      return s.includes(`Connections: ${n} (${n} established)`);
    });

  it('gives .128 on the second host, .1 on the first, a donated range on the third; containers ping', async () => {
    await launch(A, 1, RANGE);
    await launch(B, 2, RANGE, A.address);
    await established(A, 1);

    expect(await B.weave('attach', cB)).toMatchObject({ code: 0, stdout: '172.16.16.128\n' });
    expect(await A.weave('attach', cA)).toMatchObject({ code: 0, stdout: '172.16.16.1\n' });

    await launch(C, 3, RANGE, A.address);
    await established(C, 2);
    const c = await C.weave('attach', cC);
    expect(c.code, c.stderr).toBe(0);
    const last = Number(c.stdout.trim().split('.')[3]);
    // Donated by host1 ([.96,.128)) or host2 ([.224,.256)), weighted by free space (brief §7.4).
    expect((last >= 96 && last < 128) || last >= 224, c.stdout).toBe(true);

    await until('cB → cA', () => pings(cB, '172.16.16.1'));
    await until('cA → cB', () => pings(cA, '172.16.16.128'));
    await until('cC → cA', () => pings(cC, '172.16.16.1'));
    await until('cB → cC', () => pings(cB, c.stdout.trim()));

    // `weave status` on host1 line for line as upstream's (hostA in the golden capture), names,
    // version, DNS upstream and entry count aside; the script frames it with blank lines.
    const golden = readFileSync(
      fileURLToPath(new URL('../../../fixtures/weaver-2.8.1/hostA_status.txt', import.meta.url)),
      'utf8',
    );
    const norm = (t: string) => t.replace(/^( +(?:Version|Name|Upstream|Entries): ).*$/gm, '$1…');
    const status = await until('the mesh of three on host1', async () => {
      const r = await A.weave('status');
      return r.stdout.includes('Peers: 3 (with 6 established connections)') ? r.stdout : undefined;
    });
    expect(status.startsWith('\n') && status.endsWith('\n\n')).toBe(true);
    expect(norm(status.slice(1, -1))).toBe(norm(golden));

    const ps = await A.weave('ps');
    expect(ps.stdout).toMatch(/^weave:expose ([0-9a-f]{2}:){5}[0-9a-f]{2}\n/);
    expect(ps.stdout).toMatch(
      new RegExp(`^${cA.slice(0, 12)} ([0-9a-f]{2}:){5}[0-9a-f]{2} 172\\.16\\.16\\.1/24$`, 'm'),
    );
    expect(ps.stdout).not.toContain(cB.slice(0, 12));
  }, 90_000);

  it('a host with another range shows "Incompatible IP allocation ranges" in status connections', async () => {
    await launch(D, 4, '172.64.65.0/24', A.address);
    const line = await until('the range refusal', async () => {
      const s = (await D.weave('status', 'connections')).stdout;
      return s.split('\n').find((l) => l.includes('Incompatible IP allocation ranges'));
    });
    expect(line).toMatch(
      /^-> 10\.250\.0\.1:6783\s+failed\s+Incompatible IP allocation ranges \(received: 172\.16\.16\.0\/24, ours: 172\.64\.65\.0\/24\), retry: /,
    );
  }, 60_000);

  it('weave expose lets the host namespace ping containers; weave hide stops it', async () => {
    expect(await pings(A.ns, '172.16.16.1')).toBe(false);
    const e = await A.weave('expose');
    expect(e.code, e.stderr).toBe(0);
    const ip = e.stdout.trim();
    expect(ip).toMatch(/^172\.16\.16\.\d+$/);
    await until('host A → cA', () => pings(A.ns, '172.16.16.1'));
    await until('host A → cB (on B)', () => pings(A.ns, '172.16.16.128'));
    expect((await A.weave('ps')).stdout).toMatch(
      new RegExp(`^weave:expose \\S+ ${ip.replace(/\./g, '\\.')}/24$`, 'm'),
    );

    const h = await A.weave('hide');
    expect(h).toMatchObject({ code: 0, stdout: `${ip}\n` });
    await until('host A no longer reaching cA', async () => !(await pings(A.ns, '172.16.16.1')));
    expect((await A.weave('ps')).stdout).not.toContain(ip);
  }, 60_000);

  it('detach takes the address off the container and releases it', async () => {
    const d = await C.weave('detach', cC);
    expect(d.code, d.stderr).toBe(0);
    expect((await C.weave('ps', cC)).stdout).toBe('');
    // Released: the next attach gets an address again (the lowest free one).
    const again = await C.weave('attach', cC);
    expect(again.code, again.stderr).toBe(0);
  }, 30_000);

  it('weave stop stops the weaver', async () => {
    expect(await D.weave('stop')).toMatchObject({ code: 0, stderr: '' });
    expect(await D.weave('status', 'targets')).toMatchObject({
      code: 1,
      stderr: 'weave container is not present. Have you launched it?\n',
    });
    expect(await D.weave('stop')).toMatchObject({ code: 0, stderr: 'Weave is not running.\n' });
  }, 30_000);
});
