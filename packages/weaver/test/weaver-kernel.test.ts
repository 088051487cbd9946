import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestHosts, findLeftovers, getLink, runCommand, type TestHosts } from '@weave-ts/host';
import { call, format, killAll, startWeaver } from './weaver-process-helpers.js';

// The `weaver` bin with the sleeve datapath inside a throw-away network namespace (root): bridge
// `weave` with the peer name as MAC, expose/hide with iptables over HTTP, and a killed weaver
// restarting on the same bridge with the same name.

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'wwkern'));
const prefix = `ww${Math.random().toString(36).slice(2, 6)}`;
let hosts: TestHosts | undefined;

afterEach(killAll);
afterAll(async () => {
  killAll();
  await hosts?.destroy();
  if (hosts) expect(await findLeftovers(prefix)).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(isRoot)('weaver process, sleeve datapath in a network namespace (root)', () => {
  it('creates bridge weave, exposes and hides, and a killed weaver restarts on the same bridge with the same name', async () => {
    hosts = await createTestHosts({ count: 1, prefix });
    const ns = hosts.hosts[0]!.netns;
    await runCommand('ip', ['link', 'set', 'lo', 'up'], { netns: ns });
    const db = join(dir, 'sleeve', 'weave');
    const args = [
      ...['--port', '0', '--dns-listen-address', '127.0.0.1:0', '--datapath', 'sleeve'],
      ...['--http-addr', join(dir, 'http.sock'), '--status-addr', join(dir, 'status.sock')],
      ...['--ipalloc-range', '10.32.0.0/12', '--db-prefix', db],
    ];
    const w1 = await startWeaver(args, ns);
    const name = await format(w1.http, '{{.Router.Name}}');
    const bridge = await getLink('weave', { netns: ns });
    expect(bridge.kind).toBe('bridge');
    expect(bridge.mac).toBe(name);

    expect(await call(w1.http, 'POST', '/expose/10.32.0.1/12')).toEqual({ status: 204, body: '' });
    expect((await runCommand('ip', ['-o', 'addr', 'show', 'dev', 'weave'], { netns: ns })).stdout).toContain(
      'inet 10.32.0.1/12',
    );
    const nat = (await runCommand('iptables', ['-t', 'nat', '-S', 'WEAVE'], { netns: ns })).stdout;
    expect(nat).toContain('-A WEAVE ! -s 10.32.0.0/12 -d 10.32.0.0/12 -j MASQUERADE');
    expect((await runCommand('iptables', ['-S', 'WEAVE-EXPOSE'], { netns: ns })).stdout).toContain(
      '-A WEAVE-EXPOSE -d 10.32.0.0/12 -j ACCEPT',
    );
    // Someone flushes iptables: the canary notices (10 s checks) and the rules come back.
    for (const table of ['nat', 'filter', 'mangle']) {
      await runCommand('iptables', ['-t', table, '-F'], { netns: ns });
      await runCommand('iptables', ['-t', table, '-X'], { netns: ns });
    }
    const natRules = async () =>
      (await runCommand('iptables', ['-t', 'nat', '-S'], { netns: ns })).stdout.split('\n');
    expect(await natRules()).not.toContain('-A WEAVE ! -s 10.32.0.0/12 -d 10.32.0.0/12 -j MASQUERADE');
    const deadline = Date.now() + 40_000;
    while (!(await natRules()).includes('-A WEAVE ! -s 10.32.0.0/12 -d 10.32.0.0/12 -j MASQUERADE')) {
      if (Date.now() > deadline) throw new Error(`rules not re-applied after a flush:\n${w1.log()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await natRules()).toContain('-A POSTROUTING -j WEAVE');
    expect(w1.log()).toContain('Re-configuring iptables');

    expect((await call(w1.http, 'DELETE', '/expose/10.32.0.1/12')).status).toBe(204);
    expect(
      (await runCommand('ip', ['-o', 'addr', 'show', 'dev', 'weave'], { netns: ns })).stdout,
    ).not.toContain('10.32.0.1');
    expect((await runCommand('iptables', ['-t', 'nat', '-S', 'WEAVE'], { netns: ns })).stdout).not.toContain(
      '10.32.0.0/12',
    );

    w1.child.kill('SIGKILL');
    await w1.exited;
    const w2 = await startWeaver(args, ns);
    expect(await format(w2.http, '{{.Router.Name}}')).toBe(name);
    expect((await getLink('weave', { netns: ns })).mac).toBe(name);
    w2.child.kill('SIGTERM');
    expect((await w2.exited).code).toBe(0);
    // The bridge outlives the daemon (containers stay attached)…
    expect((await getLink('weave', { netns: ns })).mac).toBe(name);

    // …until `weave reset`: DELETE /peer removes it and our chains, and the process exits 0.
    const w3 = await startWeaver(args, ns);
    expect((await call(w3.http, 'DELETE', '/peer')).status).toBe(204);
    expect(await w3.exited).toEqual({ code: 0, signal: null });
    expect((await runCommand('ip', ['-o', 'link', 'show'], { netns: ns })).stdout).not.toMatch(/: weave[:@]/);
    expect((await runCommand('iptables', ['-t', 'nat', '-S'], { netns: ns })).stdout).not.toContain('WEAVE');
    expect((await runCommand('iptables', ['-S'], { netns: ns })).stdout).not.toContain('WEAVE');
  }, 240_000);
});
