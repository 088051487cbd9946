import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpApi, type HttpApi, text } from '../src/index.js';
import { createFakeBackend, type FakeBackend } from './fake-backend.js';

// Every row of the HTTP API table (brief §9.3) over a real loopback listener, against a fake
// backend that records calls: paths, verbs, status codes, bodies and content types as upstream's.

let fake: FakeBackend;
let api: HttpApi;
let server: Server;
let base: string;

async function call(
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(init.body !== undefined ? { body: init.body } : {}),
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...init.headers,
    },
  });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

beforeAll(async () => {
  server = createServer((req, res) => api.listener(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  fake = createFakeBackend('weave_connections{state="established"} 1\n');
  api = createHttpApi(fake);
});

describe('status, report, metrics', () => {
  it('GET /status and /status/<section>: text, 503 until ready', async () => {
    expect(await call('GET', '/status')).toEqual({
      status: 200,
      type: 'text/plain; charset=utf-8',
      body: 'status all\n',
    });
    for (const s of ['targets', 'connections', 'peers', 'dns', 'ipam']) {
      expect((await call('GET', `/status/${s}`)).body).toBe(`status ${s}\n`);
    }
    fake.ready = false;
    expect(await call('GET', '/status')).toMatchObject({ status: 503, body: 'status all\n' });
    expect((await call('GET', '/status/peers')).status).toBe(503);
    expect((await call('GET', '/status/nonsense')).status).toBe(404);
    expect((await call('POST', '/status')).status).toBe(405);
  });

  it('GET /report: JSON with Accept, UIDs as bare numbers', async () => {
    const r = await call('GET', '/report', { headers: { Accept: 'application/json' } });
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.body).toContain('"UID": 11206339565063037629');
    expect(r.body.startsWith('{\n    "Ready": true,')).toBe(true);
    expect(JSON.parse(r.body).Router.NickName).toBe('hostA');
  });

  it('GET /report?format=: templates; missing or bad format is a 400, a failing one a 500', async () => {
    const fmt = (f: string) => call('GET', `/report?format=${encodeURIComponent(f)}`);
    expect(await fmt('{{.Router.Name}}')).toEqual({
      status: 200,
      type: 'text/plain; charset=utf-8',
      body: '0a:00:00:00:00:01',
    });
    expect((await fmt('{{.DNS.Address}}')).body).toBe('127.0.0.1:5353');
    expect((await fmt('{{range .Router.Targets}}{{.}} {{end}}')).body).toBe('10.0.0.2 ');
    expect((await fmt('{{json .IPAM.PendingAllocates}}')).body).toBe('["c9 10.32.0.0/12"]');
    expect(await call('GET', '/report')).toMatchObject({
      status: 400,
      body: 'error: must supply one format parameter\n',
    });
    expect((await call('GET', '/report?format=a&format=b')).body).toBe(
      'error: must supply one format parameter\n',
    );
    expect(await fmt('{{.Router.Name')).toMatchObject({
      status: 400,
      body: 'template: format:1: unclosed action\n',
    });
    expect(await fmt('{{.Proxy.Address}}')).toMatchObject({
      status: 500,
      body: 'error during template execution\n',
    });
  });

  it('GET /metrics: the backend exposition with its content type', async () => {
    const r = await call('GET', '/metrics');
    expect(r).toEqual({
      status: 200,
      type: 'text/plain; version=0.0.4; charset=utf-8',
      body: 'weave_connections{state="established"} 1\n',
    });
  });
});

describe('router routes', () => {
  it('POST /connect: repeated peer fields, replace, errors as a 400', async () => {
    expect(await call('POST', '/connect', { body: 'peer=10.0.0.2&peer=10.0.0.3:6783' })).toMatchObject({
      status: 200,
      body: '',
    });
    expect(await call('POST', '/connect?replace=true', { body: 'peer=10.0.0.4' })).toMatchObject({
      status: 200,
    });
    expect(fake.calls.connect).toEqual([
      { peers: ['10.0.0.2', '10.0.0.3:6783'], replace: false },
      { peers: ['10.0.0.4'], replace: true },
    ]);
    expect(await call('POST', '/connect', { body: 'peer=bad%20one' })).toMatchObject({
      status: 400,
      body: 'bad peer bad one\n',
    });
    expect(await call('POST', '/connect', { body: 'peer=%zz' })).toMatchObject({
      status: 400,
      body: 'unable to parse form: invalid URL escape "%zz"\n',
    });
    expect((await call('GET', '/connect')).status).toBe(405);
  });

  it('POST /forget', async () => {
    expect((await call('POST', '/forget', { body: 'peer=10.0.0.2&peer=10.0.0.3' })).status).toBe(200);
    expect(fake.calls.forget).toEqual([['10.0.0.2', '10.0.0.3']]);
  });

  it('POST /expose/{ip}/{len}: 204, skipNAT, bad CIDR, failures; DELETE hides', async () => {
    expect(await call('POST', '/expose/10.32.0.1/12')).toMatchObject({ status: 204, body: '' });
    expect((await call('POST', '/expose/10.32.0.2/12?skipNAT=true')).status).toBe(204);
    expect(fake.calls.expose).toEqual([
      { cidr: '10.32.0.1/12', skipNAT: false },
      { cidr: '10.32.0.2/12', skipNAT: true },
    ]);
    expect(await call('POST', '/expose/10.32.0.300/12')).toMatchObject({
      status: 400,
      body: 'unable to parse ip addr: invalid CIDR address: 10.32.0.300/12\n',
    });
    expect(await call('POST', '/expose/10.32.0.1/12?skipNAT=maybe')).toMatchObject({
      status: 400,
      body: 'unable to parse skipNAT option: strconv.ParseBool: parsing "maybe": invalid syntax\n',
    });
    fake.failExpose = 'adding address: permission denied';
    expect(await call('POST', '/expose/10.32.0.1/12')).toMatchObject({
      status: 500,
      body: 'unable to expose: adding address: permission denied\n',
    });
    expect((await call('DELETE', '/expose/10.32.0.1/12')).status).toBe(204);
    expect(fake.calls.hide).toEqual(['10.32.0.1/12']);
    expect((await call('DELETE', '/expose/10.32.0.1/99')).status).toBe(400);
  });

  it('DELETE /peer resets; DELETE /peer/{id} takes over ranges', async () => {
    expect(await call('DELETE', '/peer')).toMatchObject({ status: 204, body: '' });
    expect(fake.calls.reset).toBe(1);
    expect(await call('DELETE', '/peer/gone')).toMatchObject({
      status: 200,
      body: '7 IPs taken over from gone\n',
    });
    expect(await call('DELETE', '/peer/0a:00:00:00:00:01')).toMatchObject({
      status: 400,
      body: 'cannot take over from ourselves\n',
    });
  });

  it('GET /proxyaddrs: 404 without a proxy, one address a line with one', async () => {
    expect(await call('GET', '/proxyaddrs')).toMatchObject({ status: 404, body: '404 page not found\n' });
    fake.proxy = ['tcp://127.0.0.1:12375', 'unix:///var/run/weave/weave.sock'];
    expect((await call('GET', '/proxyaddrs')).body).toBe(
      'tcp://127.0.0.1:12375\nunix:///var/run/weave/weave.sock\n',
    );
  });
});

describe('IPAM routes', () => {
  it('POST /ip/{id} and /ip/{id}/{subnet}: an address; bad subnets are 400s', async () => {
    expect(await call('POST', '/ip/c1')).toEqual({
      status: 200,
      type: 'text/plain; charset=utf-8',
      body: '10.32.0.1/12',
    });
    expect((await call('POST', '/ip/c1/10.40.0.0/24?check-alive=true')).body).toBe('10.40.0.2/24');
    expect(await call('POST', '/ip/c1/10.40.0.1/24')).toMatchObject({
      status: 400,
      body: 'invalid subnet - bits after network prefix are not all zero: 10.40.0.1/24\n',
    });
    expect(await call('POST', '/ip/c1/10.40.0.0/33')).toMatchObject({
      status: 400,
      body: 'invalid CIDR address: 10.40.0.0/33\n',
    });
  });

  it('a pending allocation answers "cancelled" when the client goes away', async () => {
    fake.hangIdent = 'slow';
    const controller = new AbortController();
    const pending = api.handle({ method: 'POST', url: '/ip/slow', signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    expect(await pending).toMatchObject({ status: 200, body: 'cancelled' });
    // Over the socket: the backend sees the abort when the client disconnects.
    const ac = new AbortController();
    const req = fetch(`${base}/ip/slow`, { method: 'POST', signal: ac.signal }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await req;
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.calls.allocateSignals.at(-1)?.aborted).toBe(true);
  });

  it('GET /ip/{id}[/{subnet}] and GET /ip', async () => {
    await call('POST', '/ip/c1');
    await call('POST', '/ip/c1/10.40.0.0/24');
    expect((await call('GET', '/ip/c1')).body).toBe('10.32.0.1/12 10.40.0.2/24');
    expect((await call('GET', '/ip/c1/10.40.0.0/24')).body).toBe('10.40.0.2/24');
    expect(await call('GET', '/ip/unknown')).toMatchObject({ status: 200, body: '' });
    expect((await call('GET', '/ip/c1/10.40.0.1/24')).status).toBe(400);
    const all = await call('GET', '/ip');
    expect(all.type).toBe('application/json');
    expect(JSON.parse(all.body)).toEqual({
      owned: [{ containerid: 'c1', addrs: ['10.32.0.1/12', '10.40.0.2/24'] }],
    });
  });

  it('GET /ip with nothing owned is {"owned":null}', async () => {
    expect((await call('GET', '/ip')).body).toBe('{"owned":null}\n');
  });

  it('PUT /ip/{id}/{ip}/{len} claims: 204, 400 "Unable to claim: …" for an owned address, bad CIDR', async () => {
    expect(await call('PUT', '/ip/c1/10.32.0.9/12')).toMatchObject({ status: 204 });
    expect(await call('PUT', '/ip/c2/10.32.0.9/12?noErrorOnUnknown=true')).toMatchObject({
      status: 400,
      body: 'Unable to claim: address 10.32.0.9/12 is already owned by c1\n',
    });
    expect(await call('PUT', '/ip/c2/10.32.0.999/12')).toMatchObject({
      status: 400,
      body: 'invalid CIDR address: 10.32.0.999/12\n',
    });
  });

  it('DELETE /ip/{id}/{ip} and /ip/{id}: 204, unknown containers and addresses are 400s', async () => {
    await call('POST', '/ip/c1');
    await call('POST', '/ip/c1/10.40.0.0/24');
    expect(await call('DELETE', '/ip/c1/10.32.0.1')).toMatchObject({ status: 204, body: '' });
    expect(await call('DELETE', '/ip/c1/10.32.0.1')).toMatchObject({
      status: 400,
      body: 'Unable to free: Free: address 10.32.0.1 not found for c1\n',
    });
    expect(await call('DELETE', '/ip/c1/nonsense')).toMatchObject({
      status: 400,
      body: 'invalid IP Address: nonsense\n',
    });
    expect(await call('DELETE', '/ip/c1')).toMatchObject({ status: 204 });
    expect(await call('DELETE', '/ip/c1')).toMatchObject({
      status: 400,
      body: 'Delete: no addresses for c1\n',
    });
  });

  it('GET /ring, /ipinfo/defaultsubnet, /ipinfo/tracker', async () => {
    expect(await call('GET', '/ring')).toMatchObject({ status: 200, body: '' });
    expect((await call('GET', '/ipinfo/defaultsubnet')).body).toBe('10.32.0.0/12');
    expect((await call('GET', '/ipinfo/tracker')).body).toBe('\n');
  });

  it('every IPAM route is a 404 with IPAM disabled (the script reads that as "IPAM disabled")', async () => {
    fake.ipamEnabled = false;
    for (const [m, p] of [
      ['POST', '/ip/c1'],
      ['GET', '/ip/c1'],
      ['GET', '/ip'],
      ['PUT', '/ip/c1/10.32.0.1/12'],
      ['DELETE', '/ip/c1'],
      ['GET', '/ring'],
      ['GET', '/ipinfo/defaultsubnet'],
    ] as const) {
      expect(await call(m, p)).toMatchObject({ status: 404, body: '404 page not found\n' });
    }
  });
});

describe('DNS routes', () => {
  it('GET /domain, /dns-address, /dns-address-port', async () => {
    expect((await call('GET', '/domain')).body).toBe('weave.local.');
    expect((await call('GET', '/dns-address')).body).toBe('127.0.0.1');
    expect((await call('GET', '/dns-address-port')).body).toBe('127.0.0.1:5353');
  });

  it('PUT /name/{cid}/{ip} with fqdn: 204; bad IP and missing fqdn are 400s', async () => {
    expect(await call('PUT', '/name/c1/10.32.0.1', { body: 'fqdn=web.weave.local.' })).toMatchObject({
      status: 204,
    });
    expect(fake.calls.dnsAdd).toEqual([['c1', '10.32.0.1', 'web.weave.local.']]);
    expect(await call('PUT', '/name/c1/10.32.0', { body: 'fqdn=web.weave.local.' })).toMatchObject({
      status: 400,
      body: 'invalid IP Address: 10.32.0\n',
    });
    expect((await call('PUT', '/name/c1/10.32.0.1')).status).toBe(400);
  });

  it('DELETE /name/{cid}/{ip}, /name/{cid}, /name with optional fqdn; * is a wildcard', async () => {
    for (const p of ['/name/c1/10.32.0.1?fqdn=web.weave.local', '/name/c1', '/name', '/name/*/*?fqdn=*']) {
      expect((await call('DELETE', p)).status).toBe(204);
    }
    expect(fake.calls.dnsRemove).toEqual([
      ['c1', '10.32.0.1', 'web.weave.local.'],
      ['c1', undefined, undefined],
      [undefined, undefined, undefined],
      [undefined, undefined, undefined],
    ]);
    expect((await call('DELETE', '/name/c1/bad')).status).toBe(400);
  });

  it('GET /name only with Accept: application/json', async () => {
    const r = await call('GET', '/name', { headers: { Accept: 'application/json' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)[0]).toMatchObject({ ContainerID: 'c1', Hostname: 'web.weave.local.' });
    expect((await call('GET', '/name')).status).toBe(405);
  });

  it('DNS routes are 404s with DNS disabled', async () => {
    fake.dnsEnabled = false;
    expect((await call('GET', '/domain')).status).toBe(404);
    expect((await call('PUT', '/name/c1/10.32.0.1', { body: 'fqdn=x' })).status).toBe(404);
  });
});

describe('routing', () => {
  it('unknown paths are 404 "404 page not found"; known paths with another verb 405', async () => {
    expect(await call('GET', '/nope')).toEqual({
      status: 404,
      type: 'text/plain; charset=utf-8',
      body: '404 page not found\n',
    });
    expect((await call('GET', '/ip/a/b/c/d/e')).status).toBe(404);
    expect((await call('PATCH', '/ip/c1')).status).toBe(405);
    // Like Go, a bad escape only fails the routes that read the form.
    expect((await call('GET', '/status?x=%zz')).status).toBe(200);
    expect((await call('POST', '/forget?peer=%zz')).status).toBe(400);
  });

  it('the status role serves only /status*, /report, /metrics', async () => {
    const status = createHttpApi(fake, { role: 'status' });
    expect((await status.handle({ method: 'GET', url: '/status' })).status).toBe(200);
    expect((await status.handle({ method: 'GET', url: '/metrics' })).status).toBe(200);
    expect((await status.handle({ method: 'POST', url: '/connect', body: 'peer=x' })).status).toBe(404);
    expect((await status.handle({ method: 'POST', url: '/ip/c1' })).status).toBe(404);
  });

  it('seams: services add routes and mount prefixes', async () => {
    api.addRoute('GET', '/hello/{who}', (ctx) => text(`hi ${ctx.params.who}`));
    api.mount('/NetworkDriver.', (ctx) => text(`driver ${ctx.request.url}`));
    expect((await call('GET', '/hello/there')).body).toBe('hi there');
    expect((await call('POST', '/NetworkDriver.CreateNetwork', { body: '{}' })).body).toBe(
      'driver /NetworkDriver.CreateNetwork',
    );
  });

  it('//host/path stays a path on our origin', async () => {
    expect((await api.handle({ method: 'GET', url: '//example.org/status' })).status).toBe(404);
    expect((await api.handle({ method: 'GET', url: 'status' })).status).toBe(200);
  });

  it('any request gets an answer with a known status, never an exception', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'status',
        'ip',
        'name',
        'expose',
        'peer',
        'report',
        'connect',
        '10.32.0.1',
        '12',
        '%',
        '%zz',
        '*',
        '',
      ),
      fc.string({ maxLength: 12 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'),
        fc.array(segment, { minLength: 1, maxLength: 6 }),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 60 }),
        async (method, segments, query, body) => {
          const url = `/${segments.join('/')}${query ? `?${query}` : ''}`;
          const res = await api.handle({ method, url, body, headers: { accept: 'application/json' } });
          expect([200, 204, 400, 404, 405, 500]).toContain(res.status);
          if (res.status >= 400 && res.status !== 405) expect(res.body.endsWith('\n')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a throwing backend is a 500, never a crash', async () => {
    fake.statusText = () => {
      throw new Error('boom');
    };
    expect(await call('GET', '/status')).toMatchObject({
      status: 500,
      body: 'error during template execution\n',
    });
    fake.report = () => {
      throw new Error('kaput');
    };
    expect(await call('GET', '/report', { headers: { Accept: 'application/json' } })).toMatchObject({
      status: 500,
      body: 'kaput\n',
    });
  });
});
