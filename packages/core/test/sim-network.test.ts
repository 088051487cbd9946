import type { Endpoint, StreamConnection } from '@weave-ts/core';
import {
  SeededRandom,
  SimHostKilledError,
  SimNetwork,
  SimNetworkBusyError,
  VirtualClock,
} from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const ep = (host: string, port: number): Endpoint => ({ host, port });

/** Records everything a connection reports, with virtual timestamps. */
function record(conn: StreamConnection, clock: VirtualClock) {
  const log: string[] = [];
  conn.on('data', (d) => log.push(`${clock.now()} data ${text(d)}`));
  conn.on('close', (e) => log.push(`${clock.now()} close ${e?.message ?? '-'}`));
  return log;
}

async function serve(sim: SimNetwork, ip: string, port = 6783) {
  const accepted: StreamConnection[] = [];
  const listener = await sim.transport(ip).listen(ep('0.0.0.0', port), (c) => accepted.push(c));
  return { accepted, listener };
}

describe('SimNetwork streams', () => {
  it('connects, reports endpoints and carries bytes both ways with the configured latency', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0), latencyMs: 5 });
    const { accepted } = await serve(sim, '10.0.0.2');
    const dialling = sim.transport('10.0.0.1').dial(ep('10.0.0.2', 6783));
    await sim.runUntilQuiet();
    const client = await dialling;
    const server = accepted[0]!;
    expect(client.local.host).toBe('10.0.0.1');
    expect(client.remote).toEqual(ep('10.0.0.2', 6783));
    expect(server.remote).toEqual(client.local);
    expect(server.local).toEqual(ep('10.0.0.2', 6783));
    expect(sim.clock.now()).toBe(10); // SYN + SYN-ACK
    const serverLog = record(server, sim.clock);
    const clientLog = record(client, sim.clock);
    client.write(bytes('hello'));
    client.write(bytes('world'));
    server.write(bytes('back'));
    await sim.runUntilQuiet();
    expect(serverLog).toEqual(['15 data hello', '15 data world']);
    expect(clientLog).toEqual(['15 data back']);
    expect(sim.connectionCount('10.0.0.1')).toBe(1);
  });

  it('copies written chunks and splits them by maxSegmentSize', async () => {
    const sim = new SimNetwork({ maxSegmentSize: 4 });
    const { accepted } = await serve(sim, 'b');
    const p = sim.transport('a').dial(ep('b', 6783));
    await sim.runUntilQuiet();
    const client = await p;
    const got: string[] = [];
    accepted[0]!.on('data', (d) => got.push(text(d)));
    const buf = bytes('0123456789');
    client.write(buf);
    buf.fill(0);
    await sim.runUntilQuiet();
    expect(got).toEqual(['0123', '4567', '89']);
  });

  it('holds data that arrives before a data listener is attached', async () => {
    const sim = new SimNetwork();
    await sim.transport('s').listen(ep('', 1), (c) => {
      c.write(bytes('greeting'));
      c.close();
    });
    const p = sim.transport('c').dial(ep('s', 1));
    await sim.runUntilQuiet();
    const client = await p;
    const log = record(client, sim.clock);
    await Promise.resolve();
    expect(log.map((l) => l.split(' ').slice(1).join(' '))).toEqual(['data greeting', 'close -']);
  });

  it('refuses a dial to a closed port like Node does, after one round trip', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0), latencyMs: 2 });
    sim.transport('10.0.0.1');
    const p = sim.transport('10.0.0.9').dial(ep('10.0.0.1', 6783));
    const outcome = p.then(
      () => 'connected',
      (e: NodeJS.ErrnoException) => `${sim.clock.now()} ${e.code} ${e.syscall} ${e.message}`,
    );
    await sim.runUntilQuiet();
    expect(await outcome).toBe('4 ECONNREFUSED connect connect ECONNREFUSED 10.0.0.1:6783');
  });

  it('times out a dial to an unknown host after dialTimeoutMs', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0), dialTimeoutMs: 3_000 });
    const p = sim.transport('10.0.0.9').dial(ep('10.9.9.9', 6783));
    const outcome = p.catch((e: Error) => `${sim.clock.now()} ${e.message}`);
    await sim.runUntilQuiet();
    expect(await outcome).toBe('3000 connect ETIMEDOUT 10.9.9.9:6783');
  });

  it('binds port 0 to an ephemeral port, rejects a port in use, refuses after the listener closes', async () => {
    const sim = new SimNetwork();
    const t = sim.transport('h');
    const a = await t.listen(ep('0.0.0.0', 0), () => {});
    expect(a.local.port).toBeGreaterThan(1023);
    await t.listen(ep('0.0.0.0', 6783), () => {});
    await expect(t.listen(ep('0.0.0.0', 6783), () => {})).rejects.toMatchObject({
      code: 'EADDRINUSE',
      message: 'listen EADDRINUSE: address already in use 0.0.0.0:6783',
    });
    await expect(t.listen(ep('192.0.2.1', 7000), () => {})).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
    await a.close();
    const p = sim.transport('x').dial(ep('h', a.local.port));
    const outcome = p.catch((e: NodeJS.ErrnoException) => e.code);
    await sim.runUntilQuiet();
    expect(await outcome).toBe('ECONNREFUSED');
  });

  it('dials itself over 127.0.0.1', async () => {
    const sim = new SimNetwork();
    const { accepted } = await serve(sim, '10.1.1.1');
    const p = sim.transport('10.1.1.1').dial(ep('127.0.0.1', 6783));
    await sim.runUntilQuiet();
    const c = await p;
    expect(c.local.host).toBe('127.0.0.1');
    expect(accepted).toHaveLength(1);
  });

  it('closes cleanly after pending data, resets with an error, and reports close exactly once', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    const { accepted } = await serve(sim, 'b');
    const p1 = sim.transport('a').dial(ep('b', 6783));
    const p2 = sim.transport('a').dial(ep('b', 6783));
    await sim.runUntilQuiet();
    const [c1, c2] = [await p1, await p2];
    const [s1, s2] = accepted as [StreamConnection, StreamConnection];
    const log1 = record(c1, sim.clock);
    const logS1 = record(s1, sim.clock);
    const logS2 = record(s2, sim.clock);
    const log2 = record(c2, sim.clock);
    c1.write(bytes('last words'));
    c1.close();
    c1.close(new Error('ignored'));
    c1.write(bytes('dropped'));
    c2.close(new Error('protocol violation'));
    await sim.runUntilQuiet();
    expect(log1).toEqual(['2 close -']);
    expect(logS1).toEqual(['3 data last words', '3 close -']);
    expect(log2).toEqual(['2 close protocol violation']);
    expect(logS2).toEqual(['3 close read ECONNRESET']);
    s1.close(new Error('late'));
    s1.write(bytes('after close'));
    await sim.runUntilQuiet();
    expect(logS1).toHaveLength(2);
    expect(sim.connectionCount('a') + sim.connectionCount('b')).toBe(0);
  });

  it('breaks streams across a partition, times out dials across it, and works again after heal', async () => {
    const sim = new SimNetwork({
      clock: new VirtualClock(0),
      brokenStreamTimeoutMs: 500,
      dialTimeoutMs: 1_000,
    });
    const { accepted } = await serve(sim, 'b');
    const p = sim.transport('a').dial(ep('b', 6783));
    await sim.runUntilQuiet();
    const client = await p;
    const logC = record(client, sim.clock);
    const logS = record(accepted[0]!, sim.clock);
    client.write(bytes('in flight'));
    sim.partition(['a'], ['b', 'c']);
    expect(sim.reachable('a', 'b')).toBe(false);
    expect(sim.reachable('b', 'c')).toBe(true);
    client.write(bytes('after'));
    const dial = sim.transport('a').dial(ep('b', 6783));
    const dialOutcome = dial.catch((e: Error) => `${sim.clock.now()} ${e.message}`);
    await sim.runUntilQuiet();
    expect(logC).toEqual(['502 close read ETIMEDOUT']);
    expect(logS).toEqual(['502 close read ETIMEDOUT']);
    expect(await dialOutcome).toBe('1002 connect ETIMEDOUT b:6783');
    sim.heal();
    const again = sim.transport('a').dial(ep('b', 6783));
    await sim.runUntilQuiet();
    await expect(again).resolves.toBeDefined();
  });

  it('kill closes the host connections (locally with SimHostKilledError, remotely with a reset)', async () => {
    const sim = new SimNetwork();
    const { accepted } = await serve(sim, 'b');
    await serve(sim, 'a', 6783);
    const p = sim.transport('a').dial(ep('b', 6783));
    await sim.runUntilQuiet();
    const client = await p;
    const errors: (Error | undefined)[] = [];
    client.on('close', (e) => errors.push(e));
    accepted[0]!.on('close', (e) => errors.push(e));
    sim.kill('a');
    await sim.runUntilQuiet();
    expect(errors[0]).toBeInstanceOf(SimHostKilledError);
    expect(errors[0]?.message).toBe('host a was killed');
    expect(errors[1]?.message).toBe('read ECONNRESET');
    const d = sim.transport('b').dial(ep('a', 6783));
    const outcome = d.catch((e: NodeJS.ErrnoException) => e.code);
    await sim.runUntilQuiet();
    expect(await outcome).toBe('ECONNREFUSED');
  });
});

describe('SimNetwork pump', () => {
  /** An async request/response exchange that needs promise continuations between deliveries. */
  async function pingPong(seed: number) {
    const sim = new SimNetwork({ clock: new VirtualClock(0), latencyMs: 3 });
    const random = new SeededRandom(seed);
    const trace: string[] = [];
    const hosts = ['h0', 'h1', 'h2', 'h3'];
    for (const h of hosts) {
      await sim.transport(h).listen(ep('0.0.0.0', 6783), (c) => {
        c.on('data', async (d) => {
          await Promise.resolve();
          await Promise.resolve();
          trace.push(`${sim.clock.now()} ${h} got ${text(d)}`);
          const n = Number(text(d));
          if (n < 6) c.write(bytes(String(n + 1)));
        });
      });
    }
    const run = (async () => {
      for (const h of hosts) {
        const other = hosts[random.int(hosts.length)]!;
        const conn = await sim.transport(h).dial(ep(other, 6783));
        conn.on('data', async (d) => {
          await Promise.resolve();
          trace.push(`${sim.clock.now()} ${h}->${other} reply ${text(d)}`);
          const n = Number(text(d));
          if (n < 6) conn.write(bytes(String(n + 1)));
        });
        conn.write(bytes('0'));
      }
    })();
    await sim.runUntilQuiet();
    await run;
    return trace;
  }

  it('drives async code deterministically: same seed, same trace', async () => {
    const a = await pingPong(11);
    const b = await pingPong(11);
    expect(a.length).toBe(4 * 7);
    expect(b).toEqual(a);
  });

  it('runs other timers only up to the horizon once the network is quiet', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    const ticks: number[] = [];
    const tick = () => {
      ticks.push(sim.clock.now());
      sim.clock.setTimeout(tick, 1_000);
    };
    sim.clock.setTimeout(tick, 1_000);
    expect(await sim.runUntilQuiet()).toBe(0);
    expect(ticks).toEqual([]);
    expect(await sim.runUntilQuiet({ horizonMs: 3_500 })).toBe(3_500);
    expect(ticks).toEqual([1_000, 2_000, 3_000]);
  });

  it('keeps running timers due within settleMs of the last activity', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0), settleMs: 1_000 });
    const fired: number[] = [];
    const chain = (n: number) => {
      fired.push(sim.clock.now());
      if (n > 0) sim.clock.setTimeout(() => chain(n - 1), 800);
    };
    sim.clock.setTimeout(() => chain(3), 500);
    sim.clock.setTimeout(() => fired.push(-1), 30_000);
    expect(await sim.runUntilQuiet()).toBe(2_900);
    expect(fired).toEqual([500, 1_300, 2_100, 2_900]);
    expect(await sim.runUntilQuiet({ settleMs: 0 })).toBe(2_900);
    expect(fired).toHaveLength(4);
  });

  it('gives up when the network never goes quiet', async () => {
    const sim = new SimNetwork();
    const { accepted } = await serve(sim, 'b');
    const p = sim.transport('a').dial(ep('b', 6783));
    await sim.runUntilQuiet();
    const client = await p;
    accepted[0]!.on('data', (d) => accepted[0]!.write(d));
    client.on('data', (d) => client.write(d));
    client.write(bytes('forever'));
    await expect(sim.runUntilQuiet({ limitMs: 50 })).rejects.toBeInstanceOf(SimNetworkBusyError);
  });

  it('surfaces an exception thrown by a handler', async () => {
    const sim = new SimNetwork();
    await sim.transport('b').listen(ep('', 1), () => {
      throw new Error('handler blew up');
    });
    void sim.transport('a').dial(ep('b', 1));
    await expect(sim.runUntilQuiet()).rejects.toThrow('handler blew up');
  });

  it('scales: 200 hosts exchanging 20 000 chunks', async () => {
    const sim = new SimNetwork();
    const n = 200;
    let received = 0;
    for (let i = 0; i < n; i++) {
      await sim.transport(`10.0.${i >> 8}.${i & 255}`).listen(ep('', 6783), (c) => {
        c.on('data', () => received++);
      });
    }
    const conns: Promise<StreamConnection>[] = [];
    for (let i = 0; i < n; i++) {
      for (let k = 1; k <= 10; k++) {
        const j = (i + k) % n;
        conns.push(sim.transport(`10.0.${i >> 8}.${i & 255}`).dial(ep(`10.0.${j >> 8}.${j & 255}`, 6783)));
      }
    }
    await sim.runUntilQuiet();
    const open = await Promise.all(conns);
    for (const c of open) for (let m = 0; m < 10; m++) c.write(bytes('x'));
    await sim.runUntilQuiet();
    expect(received).toBe(20_000);
    expect(sim.stats.chunks).toBe(20_000);
  });
});

describe('SimNetwork datagrams', () => {
  it('gathers buffers, batches same-instant datagrams per socket and reports the sender', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(0) });
    const a = await sim.datagramTransport('10.0.0.1').bind(ep('0.0.0.0', 6783));
    const b = await sim.datagramTransport('10.0.0.2').bind(ep('0.0.0.0', 6783));
    const batches: { at: number; items: { data: string; from: Endpoint }[] }[] = [];
    b.onReceive((batch) =>
      batches.push({ at: sim.clock.now(), items: batch.map((d) => ({ data: text(d.data), from: d.from })) }),
    );
    a.send([[bytes('he'), bytes('ad')], [bytes('two')]], ep('10.0.0.2', 6783));
    await sim.runUntilQuiet();
    expect(batches).toEqual([
      {
        at: 1,
        items: [
          { data: 'head', from: ep('10.0.0.1', 6783) },
          { data: 'two', from: ep('10.0.0.1', 6783) },
        ],
      },
    ]);
    expect(sim.stats.datagrams).toBe(2);
  });

  it('drops datagrams to nowhere, across partitions, above the size limit, by loss rate and after close', async () => {
    const sim = new SimNetwork({ maxDatagramSize: 10, datagramLoss: 0.5, random: new SeededRandom(5) });
    const a = await sim.datagramTransport('a').bind(ep('', 0));
    const b = await sim.datagramTransport('b').bind(ep('', 6783));
    let got = 0;
    b.onReceive((batch) => {
      got += batch.length;
    });
    a.send([[new Uint8Array(11)]], ep('b', 6783));
    a.send([[bytes('x')]], ep('b', 9999));
    const many = Array.from({ length: 1000 }, () => [bytes('y')]);
    a.send(many, ep('b', 6783));
    await sim.runUntilQuiet();
    expect(got).toBeGreaterThan(400);
    expect(got).toBeLessThan(600);
    const before = got;
    sim.partition(['a'], ['b']);
    a.send(many, ep('b', 6783));
    await sim.runUntilQuiet();
    expect(got).toBe(before);
    sim.heal();
    await b.close();
    a.send(many, ep('b', 6783));
    await sim.runUntilQuiet();
    expect(got).toBe(before);
    expect(sim.stats.droppedDatagrams + sim.stats.datagrams).toBe(3 * 1000 + 2);
    await expect(sim.datagramTransport('b').bind(ep('', 6783))).resolves.toBeDefined();
  });

  it('rejects binding a port in use', async () => {
    const sim = new SimNetwork();
    await sim.datagramTransport('a').bind(ep('', 6783));
    await expect(sim.datagramTransport('a').bind(ep('0.0.0.0', 6783))).rejects.toMatchObject({
      message: 'bind EADDRINUSE 0.0.0.0:6783',
    });
  });
});
