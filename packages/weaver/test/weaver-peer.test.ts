import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDaemonLogger, parseWeaverArgs, Weaver } from '../src/index.js';

// The HTTP API over real loopback listeners, backed by real peers (createPeer, datapath none, no
// root): two weavers A and B on 127.0.0.1 with free ports, IPAM over 10.32.0.0/12, DNS on 127.0.0.1:0.

const dir = mkdtempSync(join(tmpdir(), 'wwpeer'));
const logs: string[] = [];
let a: Weaver;
let b: Weaver;
let resetCalled = 0;

function makeWeaver(name: string, nickname: string, extra: string[] = []): Weaver {
  const parsed = parseWeaverArgs(
    [
      '--name',
      name,
      '--nickname',
      nickname,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--datapath',
      'none',
      '--http-addr',
      '127.0.0.1:0',
      '--status-addr',
      '127.0.0.1:0',
      '--dns-listen-address',
      '127.0.0.1:0',
      '--ipalloc-range',
      '10.32.0.0/12',
      '--db-prefix',
      join(dir, `${nickname}-`),
      ...extra,
    ],
    {},
  );
  if (parsed.kind !== 'run') throw new Error(parsed.output);
  return new Weaver(parsed.config, {
    logger: createDaemonLogger({ level: 'debug', write: (l) => logs.push(`${nickname} ${l}`) }),
    onReset: () => resetCalled++,
  });
}

async function call(
  w: Weaver,
  method: string,
  path: string,
  init: { body?: string; accept?: string; status?: boolean } = {},
) {
  const addr = init.status ? w.bound.status : w.bound.http;
  const res = await fetch(`http://${addr}${path}`, {
    method,
    ...(init.body !== undefined ? { body: init.body } : {}),
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...(init.accept ? { accept: init.accept } : {}),
    },
  });
  return { status: res.status, body: await res.text() };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  a = makeWeaver('0a:00:00:00:00:01', 'hostA');
  b = makeWeaver('0a:00:00:00:00:02', 'hostB');
  await a.start();
  await b.start();
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('weaver over real peers', () => {
  it('serves /status on both addresses, ready once the peer listens', async () => {
    expect(a.ready).toBe(true);
    const s = await call(a, 'GET', '/status');
    expect(s.status).toBe(200);
    expect(s.body).toContain('        Service: router\n');
    expect(s.body).toContain('           Name: 0a:00:00:00:00:01(hostA)\n');
    expect(s.body).toContain('          Range: 10.32.0.0/12\n');
    expect(await call(a, 'GET', '/status', { status: true })).toEqual(s);
    expect((await call(a, 'POST', '/connect', { status: true })).status).toBe(404);
  });

  it('POST /connect adds a target that connects; /status/targets and /status/connections show it', async () => {
    const bPort = b.peer.port;
    expect((await call(a, 'POST', '/connect', { body: `peer=127.0.0.1:${bPort}` })).status).toBe(200);
    expect((await call(a, 'GET', '/status/targets')).body).toBe(`127.0.0.1:${bPort}\n`);
    const conns = await until('A→B established', async () => {
      const t = (await call(a, 'GET', '/status/connections')).body;
      return t.includes('established') ? t : undefined;
    });
    expect(conns).toMatch(new RegExp(`^-> 127\\.0\\.0\\.1:${bPort} +established `));
    expect((await call(a, 'POST', '/connect', { body: 'peer=127.0.0.1:99999' })).status).toBe(400);
  });

  it('/report as JSON and as a template; /metrics parses', async () => {
    const r = await call(a, 'GET', '/report', { accept: 'application/json' });
    const report = JSON.parse(r.body);
    expect(report.Router.Name).toBe('0a:00:00:00:00:01');
    expect(report.Ready).toBe(true);
    expect(r.body).toMatch(/"UID": \d+/);
    expect(
      (await call(a, 'GET', `/report?format=${encodeURIComponent('{{.Router.NickName}} {{.IPAM.Range}}')}`))
        .body,
    ).toBe('hostA 10.32.0.0/12');
    const dnsAddr = (await call(a, 'GET', `/report?format=${encodeURIComponent('{{.DNS.Address}}')}`)).body;
    expect(dnsAddr).toBe((await call(a, 'GET', '/dns-address-port')).body);
    const m = (await call(a, 'GET', '/metrics', { status: true })).body;
    expect(m).toMatch(/^# HELP weave_connections Number of peer-to-peer connections\.$/m);
    expect(m).toMatch(/^weave_connections\{state="established",type="[^"]*",encryption=""\} 1$/m);
    expect(m).toMatch(/^weave_max_ips 1048576$/m);
    expect(m).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('IPAM: allocate, look up, claim, free — and the errors', async () => {
    const cidr = (await call(a, 'POST', '/ip/c1')).body;
    expect(cidr).toMatch(/^10\.(3[2-9]|4[0-7])\.\d+\.\d+\/12$/);
    expect((await call(a, 'GET', '/ip/c1')).body).toBe(cidr);
    expect(JSON.parse((await call(a, 'GET', '/ip')).body)).toEqual({
      owned: [{ containerid: 'c1', addrs: [cidr] }],
    });
    const sub = (await call(a, 'POST', '/ip/c1/10.32.8.0/24')).body;
    expect(sub).toMatch(/^10\.32\.8\.\d+\/24$/);
    expect((await call(a, 'GET', '/ip/c1/10.32.8.0/24')).body).toBe(sub);
    expect(await call(a, 'POST', '/ip/c1/10.32.8.1/24')).toEqual({
      status: 400,
      body: 'invalid subnet - bits after network prefix are not all zero: 10.32.8.1/24\n',
    });
    const claim = await call(a, 'PUT', `/ip/c2/${cidr}`);
    expect(claim.status).toBe(400);
    expect(claim.body).toMatch(/^Unable to claim: address 10\.\S+ is already owned by c1\n$/);
    expect((await call(a, 'PUT', '/ip/c2/10.32.9.9/12')).status).toBe(204);
    expect((await call(a, 'GET', '/ip/c2')).body).toBe('10.32.9.9/12');
    const ip = cidr.split('/')[0];
    expect((await call(a, 'DELETE', `/ip/c1/${ip}`)).status).toBe(204);
    expect(await call(a, 'DELETE', `/ip/c1/${ip}`)).toEqual({
      status: 400,
      body: `Unable to free: Free: address ${ip} not found for c1\n`,
    });
    expect(await call(a, 'DELETE', '/ip/nobody')).toEqual({
      status: 400,
      body: 'Delete: no addresses for nobody\n',
    });
    expect((await call(a, 'DELETE', '/ip/c2')).status).toBe(204);
    expect((await call(a, 'GET', '/ring')).status).toBe(200);
    expect((await call(a, 'GET', '/ipinfo/defaultsubnet')).body).toBe('10.32.0.0/12');
  });

  it('B gets its own space after consensus; /status/ipam lists both peers', async () => {
    const cidr = (await call(b, 'POST', '/ip/cb')).body;
    expect(cidr).toMatch(/\/12$/);
    const ipam = (await call(a, 'GET', '/status/ipam')).body;
    expect(ipam).toMatch(/^0a:00:00:00:00:01\(hostA\) +\d+ IPs/);
    expect(ipam).toContain('0a:00:00:00:00:02(hostB)');
  });

  it('DNS: add, list, remove', async () => {
    expect((await call(a, 'GET', '/domain')).body).toBe('weave.local.');
    expect((await call(a, 'PUT', '/name/c9/10.32.0.9', { body: 'fqdn=web.weave.local.' })).status).toBe(204);
    expect((await call(a, 'GET', '/status/dns')).body).toMatch(
      /^web +10\.32\.0\.9 +c9 +0a:00:00:00:00:01\n$/,
    );
    const raw = JSON.parse((await call(a, 'GET', '/name', { accept: 'application/json' })).body);
    expect(raw).toContainEqual(
      expect.objectContaining({ ContainerID: 'c9', Hostname: 'web.weave.local.', Tombstone: 0 }),
    );
    expect((await call(a, 'PUT', '/name/c9/10.32.0', { body: 'fqdn=x' })).status).toBe(400);
    expect((await call(a, 'DELETE', '/name/c9?fqdn=web.weave.local')).status).toBe(204);
    expect((await call(a, 'GET', '/status/dns')).body).toBe('');
  });

  it('the remaining rows: /status/peers, /ipinfo/tracker, /dns-address, DELETE /name forms, /proxyaddrs', async () => {
    const peers = (await call(a, 'GET', '/status/peers')).body;
    expect(peers).toMatch(
      /^0a:00:00:00:00:01\(hostA\)\n {3}-> 127\.0\.0\.1:\d+ +0a:00:00:00:00:02\(hostB\) +established\n/,
    );
    expect(peers).toContain('0a:00:00:00:00:02(hostB)\n');
    expect(await call(a, 'GET', '/ipinfo/tracker')).toEqual({ status: 200, body: '\n' });
    expect((await call(a, 'GET', '/dns-address')).body).toBe('127.0.0.1');
    for (const [cid, ip, name] of [
      ['d1', '10.32.1.1', 'one'],
      ['d2', '10.32.1.2', 'two'],
      ['d3', '10.32.1.3', 'three'],
    ]) {
      expect((await call(a, 'PUT', `/name/${cid}/${ip}`, { body: `fqdn=${name}.weave.local.` })).status).toBe(
        204,
      );
    }
    const names = async () =>
      (await call(a, 'GET', '/status/dns')).body
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/ +/)[0]);
    expect((await names()).sort()).toEqual(['one', 'three', 'two']);
    expect((await call(a, 'DELETE', '/name/d1/10.32.1.1')).status).toBe(204);
    expect((await names()).sort()).toEqual(['three', 'two']);
    expect((await call(a, 'DELETE', '/name?fqdn=two.weave.local')).status).toBe(204);
    expect(await names()).toEqual(['three']);
    expect((await call(a, 'DELETE', '/name')).status).toBe(204);
    expect(await names()).toEqual([]);
    expect(await call(a, 'GET', '/proxyaddrs')).toEqual({ status: 404, body: '404 page not found\n' });
  });

  it('check-alive=true asks the container liveness hook (the Docker service sets it)', async () => {
    a.setContainerLiveness((id) => id !== 'dead');
    try {
      expect(await call(a, 'POST', '/ip/dead?check-alive=true')).toEqual({ status: 200, body: 'cancelled' });
      expect((await call(a, 'GET', '/ip/dead')).body).toBe('');
      expect(await call(a, 'PUT', '/ip/dead/10.32.7.7/12?check-alive=true')).toEqual({
        status: 200,
        body: 'cancelled',
      });
      expect((await call(a, 'POST', '/ip/alive?check-alive=true')).body).toMatch(/\/12$/);
      expect(
        (await call(a, 'PUT', '/name/dead/10.32.7.8?check-alive=true', { body: 'fqdn=ghost.weave.local.' }))
          .status,
      ).toBe(204);
      expect(
        (await call(a, 'PUT', '/name/alive/10.32.7.9?check-alive=true', { body: 'fqdn=live.weave.local.' }))
          .status,
      ).toBe(204);
      const dns = (await call(a, 'GET', '/status/dns')).body;
      expect(dns).not.toContain('ghost');
      expect(dns).toContain('live ');
      expect((await call(a, 'DELETE', '/ip/alive')).status).toBe(204);
      expect((await call(a, 'DELETE', '/name/alive')).status).toBe(204);
    } finally {
      a.setContainerLiveness(undefined);
    }
  });

  it('expose without a kernel datapath is a clear 500', async () => {
    const r = await call(a, 'POST', '/expose/10.32.0.1/12');
    expect(r.status).toBe(500);
    expect(r.body).toMatch(/^unable to expose: .*none/);
  });

  it('rmpeer of a stopped peer takes its ranges over; POST /forget', async () => {
    await b.stop();
    // Two owners, one reachable: no majority, so the allocator wants force.
    const refused = await call(a, 'DELETE', '/peer/hostB');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatch(
      /^cannot take over the IP ranges of 0a:00:00:00:00:02: .*a majority is needed/,
    );
    const r = await call(a, 'DELETE', '/peer/hostB?force=true');
    expect(r.body).toMatch(/^\d+ IPs taken over from hostB\n$/);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^\d+ IPs taken over from hostB\n$/);
    expect(Number(r.body.split(' ')[0])).toBeGreaterThan(0);
    expect((await call(a, 'POST', '/forget', { body: `peer=127.0.0.1:${b.peer.port}` })).status).toBe(200);
    expect((await call(a, 'GET', '/status/targets')).body).toBe('');
  });

  it('services: a status block, a report field, a readiness gate, routes and stop hooks', async () => {
    const sock = join(dir, 'status.sock');
    const w = makeWeaver('0a:00:00:00:00:03', 'hostC', [
      '--no-dns',
      '--status-addr',
      sock,
      '--metrics-addr',
      '127.0.0.1:0',
    ]);
    let open!: () => void;
    const stopped: string[] = [];
    w.use({
      name: 'plugin',
      start(weaver) {
        weaver.addService({
          section: () => ({ service: 'plugin (v2)', fields: [] }),
          report: { field: 'Plugin', value: () => ({ DriverName: 'weave' }) },
        });
        weaver.addReadinessGate(new Promise<void>((r) => (open = r)));
        weaver.controlApi.addRoute('POST', '/Plugin.Activate', () => ({
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: '{"Implements":["NetworkDriver"]}',
        }));
        weaver.onStop(() => void stopped.push('hook'));
      },
      stop: () => void stopped.push('service'),
    });
    await w.start();
    try {
      const before = await call(w, 'GET', '/status');
      expect(before.status).toBe(503);
      expect(before.body.endsWith('\n        Service: plugin (v2)\n')).toBe(true);
      expect(before.body).not.toContain('Service: dns');
      open();
      await until('ready', async () => ((await call(w, 'GET', '/status')).status === 200 ? true : undefined));
      const report = JSON.parse((await call(w, 'GET', '/report', { accept: 'application/json' })).body);
      expect(report.Plugin).toEqual({ DriverName: 'weave' });
      expect(report.Ready).toBe(true);
      expect((await call(w, 'POST', '/Plugin.Activate')).body).toBe('{"Implements":["NetworkDriver"]}');
      expect((await call(w, 'GET', '/domain')).status).toBe(404);
      // --metrics-addr serves /metrics only.
      const metrics = await fetch(`http://${w.bound.metrics}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^weave_connection_terminations_total 0$/m);
      expect((await fetch(`http://${w.bound.metrics}/status`)).status).toBe(404);
      // The status address may be a unix socket (an absolute path), as upstream's.
      expect(w.bound.status).toBe(sock);
      const viaSocket = await new Promise<string>((resolve, reject) =>
        httpGet({ socketPath: sock, path: '/status' }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(`${res.statusCode} ${body}`));
        }).on('error', reject),
      );
      expect(viaSocket).toBe(`200 ${(await call(w, 'GET', '/status')).body}`);
    } finally {
      await w.stop();
    }
    expect(stopped).toEqual(['service', 'hook']);
  });

  it('DELETE /peer resets and stops the daemon', async () => {
    expect(await call(a, 'DELETE', '/peer')).toEqual({ status: 204, body: '' });
    await until('reset', async () => (resetCalled > 0 ? true : undefined));
    await expect(fetch(`http://${a.bound.http}/status`)).rejects.toThrow();
  });
});
