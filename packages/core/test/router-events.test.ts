import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type GossipData,
  type GossipReceiver,
  NetworkError,
  type PeerName,
  Router,
  peerNameFromNumber,
  toGoDialError,
  toGoNetError,
} from '@weave-ts/core';
import { SeededRandom, SimNetwork } from '@weave-ts/core/testing';

const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.stop()));
});

const ipOf = (n: number) => `10.9.0.${n}`;
function simRouter(sim: SimNetwork, n: number): Router {
  const r = new Router({
    name: peerNameFromNumber(0x0a0000000000 + n),
    nickname: `host${n}`,
    host: ipOf(n),
    transport: sim.transport(ipOf(n)),
    clock: sim.clock,
    random: new SeededRandom(n),
  });
  routers.push(r);
  return r;
}

const nullReceiver: GossipReceiver = {
  onGossipUnicast() {},
  onGossipBroadcast: () => undefined,
  onGossip: () => undefined,
  gossip: () => undefined as unknown as GossipData,
};

describe('router events', () => {
  it('announces joined peers, removes them on GC with topologyChanged, and keeps its handlers private', async () => {
    const sim = new SimNetwork();
    const [a, b, c] = [simRouter(sim, 1), simRouter(sim, 2), simRouter(sim, 3)];
    const added: string[] = [];
    const removed: PeerName[][] = [];
    let changes = 0;
    a.on('peerAdded', (name, nickname) => added.push(`${name}(${nickname})`));
    a.on('peersRemoved', (names) => removed.push(names));
    const established: string[] = [];
    a.on('connectionEstablished', (peer, _address, overlay) => established.push(`${peer} ${overlay}`));
    for (const r of [a, b, c]) await r.start();
    b.connect([ipOf(1)]);
    c.connect([ipOf(2)]);
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    expect(added.sort()).toEqual([`${b.name}(host2)`, `${c.name}(host3)`]);
    expect(established.sort()).toEqual([`${b.name} none`, `${c.name} none`]);

    a.on('topologyChanged', () => changes++);
    await c.stop();
    await b.stop();
    await sim.runUntilQuiet({ horizonMs: 10_000 });
    expect(removed.flat().sort()).toEqual([b.name, c.name].sort());
    expect(changes).toBeGreaterThan(0);
    expect(a.peers.size).toBe(1);
    // Connection handlers are not methods of the router any more.
    for (const key of [
      'connectionReady',
      'connectionEstablished',
      'handleMessage',
      'connectionClosed',
      'handshakeOptions',
    ]) {
      expect(key in a).toBe(false);
    }
  });

  it('unregisters a gossip channel so another receiver can take it; restarts after stop', async () => {
    const sim = new SimNetwork();
    const a = simRouter(sim, 1);
    a.registerChannel('IPallocation', nullReceiver);
    expect(() => a.registerChannel('IPallocation', nullReceiver)).toThrow(/already registered/);
    expect(a.unregisterChannel('IPallocation', { ...nullReceiver })).toBe(false);
    expect(a.unregisterChannel('IPallocation', nullReceiver)).toBe(true);
    expect(a.unregisterChannel('topology')).toBe(false);
    a.registerChannel('IPallocation', nullReceiver);

    const b = simRouter(sim, 2);
    await a.start();
    await b.start();
    b.connect([ipOf(1)]);
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    expect(b.ourself.connectionCount).toBe(1);
    await b.stop();
    await sim.runUntilQuiet({ horizonMs: 5_000 });
    expect(b.ourself.connectionCount).toBe(0);
    await b.start();
    await sim.runUntilQuiet({ horizonMs: 30_000 });
    expect(b.ourself.connectionCount).toBe(1);
    expect(b.status().connections.map((c) => c.state)).toEqual(['established']);
  });
});

describe('Go-style connection errors', () => {
  it('a refused dial reads as upstream prints it, as an event and in status', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const a = new Router({ name: peerNameFromNumber(0x0a0000000001), host: '127.0.0.1', port: 0 });
    routers.push(a);
    const failed = new Promise<[string, Error]>((resolve) =>
      a.once('connectionFailed', (address, error) => resolve([address, error])),
    );
    await a.start();
    a.connect([`127.0.0.1:${port}`]);
    const [address, error] = await failed;
    expect(address).toBe(`127.0.0.1:${port}`);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toBe(`dial tcp4 127.0.0.1:${port}: connect: connection refused`);
    expect((error as NetworkError).code).toBe('ECONNREFUSED');
    expect(a.connectionsText()).toContain(
      `failed      dial tcp4 127.0.0.1:${port}: connect: connection refused, retry: `,
    );
  });

  it('maps socket errors of open connections and passes others through', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
    const local = { host: '10.250.0.1', port: 6783 };
    const remote = { host: '10.250.1.3', port: 36971 };
    expect(toGoNetError(reset, 'read', local, remote).message).toBe(
      'read tcp 10.250.0.1:6783->10.250.1.3:36971: read: connection reset by peer',
    );
    const pipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' });
    expect(toGoNetError(pipe, 'read', local, remote).message).toBe(
      'write tcp 10.250.0.1:6783->10.250.1.3:36971: write: broken pipe',
    );
    const other = new Error('Incompatible IP allocation ranges');
    expect(toGoNetError(other, 'read', local, remote)).toBe(other);
    const unreachable = Object.assign(new Error('connect EHOSTUNREACH'), { code: 'EHOSTUNREACH' });
    expect(toGoDialError(unreachable, { host: '192.0.2.15', port: 6783 }).message).toBe(
      'dial tcp4 192.0.2.15:6783: connect: no route to host',
    );
    expect(toGoDialError(unreachable, remote)).toHaveProperty('cause', unreachable);
  });
});
