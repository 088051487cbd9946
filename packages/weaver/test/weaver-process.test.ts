import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { call, common, format, killAll, startWeaver } from './weaver-process-helpers.js';

// The `weaver` bin as a process, datapath none on loopback (no root needed): start, /status,
// SIGTERM → exit 0, kill -9 + restart keeps name, addresses, targets and DNS entries; a busy port
// is fatal.

const dir = mkdtempSync(join(tmpdir(), 'wwproc'));

afterEach(killAll);
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('weaver process, datapath none (no root needed)', () => {
  const db = join(dir, 'none', 'weave');
  const args = [
    ...common,
    '--datapath',
    'none',
    '--ipalloc-range',
    '10.32.0.0/12',
    '--nickname',
    'proc',
    '--db-prefix',
    db,
  ];

  it('starts, serves /status, logs upstream-style, exits 0 on SIGTERM', async () => {
    const w = await startWeaver(args);
    const s = await call(w.http, 'GET', '/status');
    expect(s.status).toBe(200);
    expect(s.body).toMatch(/ {11}Name: [0-9a-f:]{17}\(proc\)\n/);
    expect((await call(w.status, 'GET', '/status')).body).toBe(s.body);
    expect(w.log()).toMatch(/^INFO: \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} Command line options: map\[/m);
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.log()).toContain('=== received SIGTERM ===');
    await expect(fetch(`http://${w.http}/status`)).rejects.toThrow();
  }, 90_000);

  it('kill -9 and restart keep the name, the addresses, the targets and the DNS entries', async () => {
    const w1 = await startWeaver(args);
    const name = await format(w1.http, '{{.Router.Name}}');
    // Allocate first: with a target the quorum is 2, and nothing answers at 127.0.0.1:1.
    const cidr = (await call(w1.http, 'POST', '/ip/c1')).body;
    expect(cidr).toMatch(/\/12$/);
    expect((await call(w1.http, 'POST', '/connect', 'peer=127.0.0.1:1')).status).toBe(200);
    expect(
      (await call(w1.http, 'PUT', `/name/c1/${cidr.split('/')[0]}`, 'fqdn=web.weave.local.')).status,
    ).toBe(204);
    w1.child.kill('SIGKILL');
    expect((await w1.exited).signal).toBe('SIGKILL');

    const w2 = await startWeaver(args);
    expect(await format(w2.http, '{{.Router.Name}}')).toBe(name);
    expect((await call(w2.http, 'GET', '/ip/c1')).body).toBe(cidr);
    expect((await call(w2.http, 'GET', '/status/targets')).body).toBe('127.0.0.1:1\n');
    expect((await call(w2.http, 'GET', '/status/dns')).body).toMatch(/^web +10\.\S+ +c1 /);
    // A second allocation does not hand out the same address again.
    expect((await call(w2.http, 'POST', '/ip/c2')).body).not.toBe(cidr);
    w2.child.kill('SIGTERM');
    expect((await w2.exited).code).toBe(0);
  }, 120_000);

  it('DELETE /peer resets, then the process exits 0', async () => {
    const w = await startWeaver([...args.slice(0, -1), join(dir, 'reset', 'weave')]);
    expect((await call(w.http, 'POST', '/ip/c1')).status).toBe(200);
    expect((await call(w.http, 'DELETE', '/peer')).status).toBe(204);
    expect(await w.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('a busy HTTP port is fatal with Go-style text and exit 1; --password encrypts; SIGINT exits 0', async () => {
    const w1 = await startWeaver([...args.slice(0, -1), join(dir, 'pw', 'weave'), '--password', 's3cret']);
    expect((await call(w1.http, 'GET', '/status')).body).toContain('     Encryption: enabled\n');
    expect(w1.log()).toContain('Communication between peers via untrusted networks is encrypted.');
    expect(w1.log()).not.toContain('s3cret');
    const w2 = startWeaver([
      ...['--port', '0', '--http-addr', w1.http, '--status-addr', '', '--dns-listen-address', '127.0.0.1:0'],
      ...['--datapath', 'none', '--db-prefix', join(dir, 'busy', 'weave')],
    ]);
    await expect(w2).rejects.toThrow(
      /^weaver did not start \(exit 1\):\n(.|\n)*FATA: .*Unable to create http listener socket: listen tcp 127\.0\.0\.1:\d+: bind: address already in use/,
    );
    w1.child.kill('SIGINT');
    expect((await w1.exited).code).toBe(0);
  }, 120_000);
});
