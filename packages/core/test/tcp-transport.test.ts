import { createServer } from 'node:net';
import type { StreamConnection } from '@weave-ts/core';
import { TcpTransport } from '@weave-ts/core/protocol';
import { VirtualClock } from '@weave-ts/core/testing';
import { afterEach, describe, expect, it } from 'vitest';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const LOCAL = { host: '127.0.0.1', port: 0 };

/** Resolves with everything received and the close error once the connection closes. */
function collect(
  conn: StreamConnection,
): Promise<{ data: string; error: Error | undefined; closes: number }> {
  let data = '';
  let closes = 0;
  return new Promise((resolve) => {
    conn.on('data', (chunk) => {
      expect(chunk).toBeInstanceOf(Uint8Array);
      data += text(chunk);
    });
    conn.on('close', (error) => {
      closes++;
      setTimeout(() => resolve({ data, error, closes }), 20);
    });
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function pair() {
  const transport = new TcpTransport();
  let accept!: (c: StreamConnection) => void;
  const accepted = new Promise<StreamConnection>((r) => {
    accept = r;
  });
  const listener = await transport.listen(LOCAL, accept);
  cleanups.push(() => listener.close());
  const client = await transport.dial({ host: '127.0.0.1', port: listener.local.port });
  const server = await accepted;
  return { transport, listener, client, server };
}

describe('TcpTransport', () => {
  it('listens on port 0, reports the bound port and endpoints on both ends', async () => {
    const { listener, client, server } = await pair();
    expect(listener.local.host).toBe('127.0.0.1');
    expect(listener.local.port).toBeGreaterThan(0);
    expect(client.remote).toEqual({ host: '127.0.0.1', port: listener.local.port });
    expect(server.local.port).toBe(listener.local.port);
    expect(server.remote).toEqual(client.local);
    client.close();
    server.close();
  });

  it('carries bytes both ways and ends cleanly, reporting close once', async () => {
    const { client, server } = await pair();
    const atServer = collect(server);
    const atClient = collect(client);
    client.write(bytes('hello '));
    client.write(bytes('weave'));
    server.write(bytes('ack'));
    await new Promise((r) => setTimeout(r, 30));
    client.close();
    client.close(new Error('ignored: already closing'));
    client.write(bytes('dropped'));
    const [s, c] = await Promise.all([atServer, atClient]);
    expect(s).toEqual({ data: 'hello weave', error: undefined, closes: 1 });
    expect(c).toEqual({ data: 'ack', error: undefined, closes: 1 });
  });

  it('aborts with a reset on close(error): we report our error, the peer sees ECONNRESET', async () => {
    const { client, server } = await pair();
    const atServer = collect(server);
    const atClient = collect(client);
    client.close(new Error('protocol violation'));
    const [s, c] = await Promise.all([atServer, atClient]);
    expect(c.error?.message).toBe('protocol violation');
    expect((s.error as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET');
    expect(s.closes).toBe(1);
  });

  it('rejects a dial to a closed port with Node’s ECONNREFUSED error', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await expect(new TcpTransport().dial({ host: '127.0.0.1', port })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
      message: `connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('times out a dial that does not connect, on the injected clock', async () => {
    const clock = new VirtualClock(0);
    // 192.0.2.0/24 (TEST-NET-1) is never routed; the virtual timeout fires before any network answer.
    const dialling = new TcpTransport({ connectTimeoutMs: 5_000, clock }).dial({
      host: '192.0.2.1',
      port: 6783,
    });
    clock.advance(4_999);
    clock.advance(1);
    await expect(dialling).rejects.toMatchObject({
      code: 'ETIMEDOUT',
      message: 'connect ETIMEDOUT 192.0.2.1:6783',
    });
  });

  it('rejects listening on a port in use', async () => {
    const t = new TcpTransport();
    const a = await t.listen(LOCAL, () => {});
    cleanups.push(() => a.close());
    await expect(t.listen({ host: '127.0.0.1', port: a.local.port }, () => {})).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });

  it('stops accepting on listener close but keeps open connections', async () => {
    const { listener, client, server } = await pair();
    await listener.close();
    await expect(
      new TcpTransport().dial({ host: '127.0.0.1', port: listener.local.port }),
    ).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    const got = collect(server);
    client.write(bytes('still here'));
    client.close();
    expect((await got).data).toBe('still here');
  });
});
