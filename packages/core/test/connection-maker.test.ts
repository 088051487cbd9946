import type { PeerName } from '@weave-ts/core';
import {
  ConnectionMaker,
  type ConnectionMakerOptions,
  formatGoTime,
  type KnownPeer,
  type MakerConnection,
  MAX_RETRY_INTERVAL_MS,
  Peer,
  parsePeerAddress,
} from '@weave-ts/core/protocol';
import { SeededRandom, SimNetwork, VirtualClock } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { ConnectToSelfError, PeerNameCollisionError } from '../src/connection-errors.js';

const US = '00:00:00:00:00:01' as PeerName;
const P = '00:00:00:00:00:0a' as PeerName;
const Q = '00:00:00:00:00:0b' as PeerName;
const R = '00:00:00:00:00:0c' as PeerName;
const S = '00:00:00:00:00:0d' as PeerName;
const START = Date.UTC(2026, 10, 22, 19, 21, 38, 550);

const refused = (address: string) =>
  Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });

function conn(name: PeerName, remoteTcpAddr: string, outbound: boolean): MakerConnection {
  return { remote: { name }, remoteTcpAddr, outbound };
}

function peer(name: PeerName, connections: [PeerName, string, boolean][]): KnownPeer {
  return {
    name,
    connections: new Map(connections.map(([n, addr, outbound]) => [n, { remoteTcpAddr: addr, outbound }])),
  };
}

/** A maker on a virtual clock whose attempts are recorded and settled by `outcome`. */
function setup(options: Partial<ConnectionMakerOptions> = {}) {
  const clock = new VirtualClock(START);
  const attempts: { address: string; acceptNewPeer: boolean; at: number }[] = [];
  const topology: KnownPeer[] = [];
  let outcome: (address: string) => Promise<void> = (a) => Promise.reject(refused(a));
  const cm = new ConnectionMaker({
    ourName: US,
    port: 6783,
    clock,
    random: new SeededRandom(7),
    peers: () => topology,
    attemptConnection: (address, acceptNewPeer) => {
      attempts.push({ address, acceptNewPeer, at: clock.now() });
      return outcome(address);
    },
    ...options,
  });
  /** Runs timers up to `ms` from now, letting promise callbacks run in between. */
  const run = async (ms: number) => {
    const end = clock.now() + ms;
    for (;;) {
      for (let i = 0; i < 5; i++) await Promise.resolve();
      const next = clock.nextTimerAt();
      if (next === undefined || next > end) break;
      clock.runNext();
    }
    clock.advanceTo(end);
  };
  return {
    clock,
    cm,
    attempts,
    topology,
    run,
    setOutcome: (fn: (address: string) => Promise<void>) => {
      outcome = fn;
    },
  };
}

describe('parsePeerAddress / connect', () => {
  it('accepts host[:port] and reports malformed entries with upstream wording', () => {
    expect(parsePeerAddress('10.0.0.1')).toEqual({ host: '10.0.0.1', port: 0 });
    expect(parsePeerAddress('host-a.example:7000')).toEqual({ host: 'host-a.example', port: 7000 });
    expect(parsePeerAddress('10.0.0.1:')).toEqual({ host: '10.0.0.1', port: 0 });
    const { cm } = setup();
    const errors = cm.connect(['10.0.0.1', ':6783', 'a:b:c', 'h:http', 'h:70000', '10.0.0.2:7000']);
    expect(errors.map((e) => e.message)).toEqual([
      'invalid peer name ":6783", should be host[:port]',
      'invalid peer name "a:b:c", should be host[:port]',
      'invalid peer name "h:http", should be host[:port]',
      'invalid peer name "h:70000", should be host[:port]',
    ]);
    expect(errors[0]?.name).toBe('InvalidPeerAddressError');
    expect(cm.targets()).toEqual(['10.0.0.1', '10.0.0.2:7000']);
    expect(cm.connect(['10.0.0.3'], true)).toEqual([]);
    expect(cm.targets()).toEqual(['10.0.0.3']);
  });

  it('dials direct targets at once, completing a missing port with ours', async () => {
    const { cm, attempts, run } = setup();
    cm.connect(['10.0.0.1', '10.0.0.2:7000']);
    await run(0);
    expect(attempts.map((a) => [a.address, a.acceptNewPeer])).toEqual([
      ['10.0.0.1:6783', true],
      ['10.0.0.2:7000', true],
    ]);
  });
});

describe('ConnectionMaker back-off', () => {
  it('grows the interval ×1.5 from 2 s, jitters within [i/2, 3i/2) and caps at 6 min', async () => {
    const { cm, attempts, run, clock } = setup();
    cm.connect(['10.0.0.1']);
    await run(0);
    let interval = 2_000;
    for (let n = 0; n < 25; n++) {
      const last = attempts.at(-1)!;
      const t = cm.target('10.0.0.1:6783')!;
      expect(t.state).toBe('waiting');
      const delay = t.tryAfter! - last.at;
      expect(delay).toBeGreaterThanOrEqual(interval / 2);
      expect(delay).toBeLessThan((interval * 3) / 2);
      interval = Math.min(interval * 1.5, MAX_RETRY_INTERVAL_MS);
      expect(t.tryIntervalMs).toBeCloseTo(interval, 6);
      await run(delay);
      expect(attempts).toHaveLength(n + 2);
      expect(attempts.at(-1)!.at).toBeCloseTo(last.at + delay, 6);
    }
    expect(cm.target('10.0.0.1:6783')!.tryIntervalMs).toBe(MAX_RETRY_INTERVAL_MS);
    expect(clock.now() - START).toBeGreaterThan(25 * 60_000);
  });

  it('draws different delays (jitter) for targets failing at the same time', async () => {
    const { cm, run } = setup();
    const addrs = Array.from({ length: 30 }, (_, i) => `10.1.0.${i + 1}`);
    cm.connect(addrs);
    await run(0);
    const delays = addrs.map((a) => cm.target(`${a}:6783`)!.tryAfter! - START);
    for (const d of delays) expect(d >= 1_000 && d < 3_000).toBe(true);
    expect(new Set(delays).size).toBe(30);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(1_000);
  });

  it('retries at once when the connection outlived its attempt by more than a minute, else backs off', async () => {
    const { cm, attempts, run, setOutcome } = setup();
    setOutcome(() => Promise.resolve());
    cm.connect(['10.0.0.1', '10.0.0.2']);
    await run(0);
    const long = conn(P, '10.0.0.1:6783', true);
    const short = conn(Q, '10.0.0.2:6783', true);
    cm.connectionCreated(long);
    cm.connectionCreated(short);
    expect(cm.target('10.0.0.1:6783')!.state).toBe('connected');
    expect(cm.connectionStatus()).toEqual([]);
    await run(10_000);
    cm.connectionTerminated(short, new Error('read tcp: i/o timeout'));
    await run(51_000);
    cm.connectionTerminated(long, new Error('EOF'));
    await run(0);
    const times = (address: string) => attempts.filter((a) => a.address === address).map((a) => a.at - START);
    expect(times('10.0.0.1:6783')).toEqual([0, 61_000]);
    const shortRetries = times('10.0.0.2:6783');
    expect(shortRetries).toHaveLength(2);
    expect(shortRetries[1]).toBeGreaterThanOrEqual(11_000);
    expect(shortRetries[1]).toBeLessThan(13_000);
    expect(cm.connectionStatus()).toContainEqual({
      address: '10.0.0.1:6783',
      outbound: true,
      state: 'retrying',
      info: 'EOF',
    });
  });

  it('never retries a permanent error; activeOnly targets leave it out', async () => {
    const { cm, attempts, run, setOutcome } = setup();
    setOutcome(() => Promise.resolve());
    cm.connect(['10.0.0.1', '10.0.0.2']);
    await run(0);
    const c1 = conn(P, '10.0.0.1:6783', true);
    const c2 = conn(Q, '10.0.0.2:6783', true);
    cm.connectionCreated(c1);
    cm.connectionCreated(c2);
    cm.connectionTerminated(c1, new PeerNameCollisionError('a', 'b'));
    cm.connectionTerminated(c2, new ConnectToSelfError());
    await run(24 * 3_600_000);
    expect(attempts).toHaveLength(2);
    const rows = cm.connectionStatus();
    expect(rows.map((r) => `${r.address} ${r.state} ${r.info}`)).toEqual([
      '10.0.0.1:6783 failed local "a" and remote "b" peer names collision, retry: never',
      '10.0.0.2:6783 failed cannot connect to ourself, retry: never',
    ]);
    expect(cm.targets(true)).toEqual([]);
    expect(cm.targets(false)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(cm.terminationCount).toBe(1); // connecting to ourselves is not counted
    cm.connect(['10.0.0.1']); // an explicit connect revives it
    await run(0);
    expect(attempts).toHaveLength(3);
  });

  it('honours a custom permanence predicate for failed dials', async () => {
    const { cm, attempts, run } = setup({ isPermanent: (e) => e.message.includes('ECONNREFUSED') });
    cm.connect(['10.0.0.1']);
    await run(3_600_000);
    expect(attempts).toHaveLength(1);
    expect(cm.target('10.0.0.1:6783')!.tryAfter).toBeUndefined();
  });
});

describe('ConnectionMaker discovery', () => {
  it('targets the gossiped address of outbound connections and ip:ourPort of inbound ones', async () => {
    const { cm, attempts, run, topology, setOutcome } = setup();
    setOutcome(() => new Promise(() => {}));
    topology.push(
      peer(US, [[P, '10.0.0.10:6783', true]]),
      peer(P, [
        [Q, '10.0.0.3:6783', true],
        [R, '10.0.0.4:51234', false],
        [US, '10.0.0.1:6783', false],
        [S, '10.0.0.5:6783', true],
      ]),
    );
    cm.connectionCreated(conn(P, '10.0.0.10:6783', true));
    cm.connectionCreated(conn(S, '10.0.0.99:40000', false));
    cm.refresh();
    cm.refresh();
    await run(0);
    expect(attempts.map((a) => [a.address, a.acceptNewPeer])).toEqual([
      ['10.0.0.3:6783', false],
      ['10.0.0.4:6783', false],
    ]);
    expect(cm.connectionStatus().map((r) => [r.address, r.state, r.info])).toEqual([
      ['10.0.0.3:6783', 'connecting', ''],
      ['10.0.0.4:6783', 'connecting', ''],
    ]);
  });

  it('reads the topology straight from Peer objects', async () => {
    const summary = (name: PeerName) => ({
      name,
      nickname: 'n',
      uid: 1n,
      version: 1,
      shortId: 0,
      hasShortId: false,
    });
    const p = new Peer(summary(P), [
      { remoteName: Q, remoteTcpAddr: '10.0.0.3:41234', outbound: false, established: true },
    ]);
    const { cm, attempts, run, setOutcome } = setup({ peers: () => [p] });
    setOutcome(() => new Promise(() => {}));
    cm.refresh();
    await run(0);
    expect(attempts.map((a) => a.address)).toEqual(['10.0.0.3:6783']);
  });

  it('drops discovered targets that are no longer valid but suspends direct ones', async () => {
    const { cm, attempts, run, topology } = setup();
    topology.push(peer(P, [[Q, '10.0.0.3:6783', true]]));
    cm.connect(['10.0.0.7']);
    await run(0);
    expect(cm.target('10.0.0.3:6783')?.state).toBe('waiting');
    topology.length = 0;
    cm.refresh();
    await run(0);
    expect(cm.target('10.0.0.3:6783')).toBeUndefined();
    // An inbound connection from a port-less direct target's IP suspends it.
    const inbound = conn(R, '10.0.0.7:41000', false);
    cm.connectionCreated(inbound);
    cm.refresh();
    await run(0);
    expect(cm.target('10.0.0.7:6783')?.state).toBe('suspended');
    expect(cm.connectionStatus()).toEqual([]);
    const before = attempts.length;
    await run(3_600_000);
    expect(attempts).toHaveLength(before);
    cm.connectionTerminated(inbound, new Error('EOF'));
    await run(0);
    expect(attempts).toHaveLength(before + 1);
    expect(attempts.at(-1)?.address).toBe('10.0.0.7:6783');
  });

  it('does not dial addresses we are connected with, nor anything with discovery off', async () => {
    const { cm, attempts, run, topology, setOutcome } = setup();
    setOutcome(() => new Promise(() => {}));
    topology.push(peer(P, [[Q, '10.0.0.9:6783', true]]));
    cm.connectionCreated(conn(R, '10.0.0.9:6783', true));
    cm.refresh();
    await run(0);
    expect(attempts).toEqual([]);
    const off = setup({ discovery: false });
    off.topology.push(peer(P, [[Q, '10.0.0.3:6783', true]]));
    off.cm.refresh();
    await off.run(0);
    expect(off.attempts).toEqual([]);
  });

  it('forget removes a direct target; stop ends all activity', async () => {
    const { cm, attempts, run } = setup();
    cm.connect(['10.0.0.1', '10.0.0.2']);
    await run(0);
    cm.forget(['10.0.0.1']);
    await run(0);
    expect(cm.target('10.0.0.1:6783')).toBeUndefined();
    expect(cm.targets()).toEqual(['10.0.0.2']);
    cm.stop();
    await run(3_600_000);
    expect(attempts.map((a) => a.address)).toEqual(['10.0.0.1:6783', '10.0.0.2:6783']);
  });
});

describe('ConnectionMaker status', () => {
  it('formats rows like weave status connections', async () => {
    const { cm, run, setOutcome } = setup();
    cm.connect(['10.250.0.1']);
    await run(0);
    const [row] = cm.connectionStatus();
    expect(row?.state).toBe('failed');
    expect(row?.info).toMatch(
      /^connect ECONNREFUSED 10\.250\.0\.1:6783, retry: 2026-11-22 19:21:\d\d(\.\d{1,9})? \+0000 UTC m=\+\d+\.\d{9}$/,
    );
    const t = cm.target('10.250.0.1:6783')!;
    expect(row?.info.endsWith(formatGoTime(t.tryAfter!, START))).toBe(true);
    // Attempting again after an error: "retrying <err>".
    setOutcome(() => new Promise(() => {}));
    await run(t.tryAfter! - START);
    expect(cm.connectionStatus()).toEqual([
      {
        address: '10.250.0.1:6783',
        outbound: true,
        state: 'retrying',
        info: 'connect ECONNREFUSED 10.250.0.1:6783',
      },
    ]);
  });

  it('shows "waiting until" for a target that ended without an error', async () => {
    const { cm, run, setOutcome } = setup();
    setOutcome(() => Promise.resolve());
    cm.connect(['10.0.0.1']);
    await run(0);
    const c = conn(P, '10.0.0.1:6783', true);
    cm.connectionCreated(c);
    cm.connectionTerminated(c);
    await run(0);
    const [row] = cm.connectionStatus();
    expect(row?.state).toBe('waiting');
    expect(row?.info).toBe(`until: ${formatGoTime(cm.target('10.0.0.1:6783')!.tryAfter!, START)}`);
  });

  it('prints Go time.Time.String() shapes', () => {
    const t = Date.UTC(2026, 10, 22, 19, 21, 49, 345) + 0.5;
    expect(formatGoTime(t, t - 10_795.5)).toBe('2026-11-22 19:21:49.3455 +0000 UTC m=+10.795500000');
    expect(formatGoTime(Date.UTC(2015, 7, 6, 18, 55, 38))).toBe('2015-08-06 18:55:38 +0000 UTC');
    expect(formatGoTime(Date.UTC(2015, 7, 6, 18, 55, 38, 120), Date.UTC(2015, 7, 6, 18, 55, 38, 120))).toBe(
      '2015-08-06 18:55:38.12 +0000 UTC m=+0.000000000',
    );
  });
});

describe('ConnectionMaker on a SimNetwork', () => {
  it('retries a refused dial with back-off until the peer listens, then stays connected', async () => {
    const sim = new SimNetwork({ clock: new VirtualClock(START) });
    const transport = sim.transport('10.0.0.1');
    const live: MakerConnection[] = [];
    const cm: ConnectionMaker = new ConnectionMaker({
      ourName: US,
      port: 6783,
      clock: sim.clock,
      random: new SeededRandom(1),
      peers: () => [],
      attemptConnection: async (address) => {
        const [host = '', port = '0'] = address.split(':');
        const stream = await transport.dial({ host, port: Number(port) });
        const c = conn(P, address, true);
        live.push(c);
        cm.connectionCreated(c);
        stream.on('close', (error) => cm.connectionTerminated(c, error));
      },
    });
    sim.transport('10.0.0.2');
    cm.connect(['10.0.0.2']);
    await sim.runUntilQuiet({ settleMs: 1 });
    expect(cm.connectionStatus()[0]?.info).toMatch(/^connect ECONNREFUSED 10\.0\.0\.2:6783, retry: /);
    await sim.transport('10.0.0.2').listen({ host: '0.0.0.0', port: 6783 }, () => {});
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    expect(live).toHaveLength(1);
    expect(cm.target('10.0.0.2:6783')?.state).toBe('connected');
    expect(cm.connectionStatus()).toEqual([]);
    cm.stop();
  });
});
