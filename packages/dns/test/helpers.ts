// Shared test helpers for @weave-ts/dns: seeded randomness, an in-memory gossip
// fan-out, and a raw DNS client over UDP/TCP.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import {
  type Clock,
  type GossipChannel,
  type GossipData,
  type Gossiper,
  type GossipReceiver,
  type PeerName,
  parsePeerName,
  type Random,
  systemClock,
  type TimerHandle,
} from '@weave-ts/core';
import dnsPacket, { type DecodedPacket, type RecordType } from 'dns-packet';

/** Real timers, but `now()` can be pushed forward (for the resolv.conf re-check interval). */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return systemClock.setTimeout(fn, ms);
  }
  clearTimeout(handle: TimerHandle): void {
    systemClock.clearTimeout(handle);
  }
}

/** A reproducible Random (xorshift32). */
export function seededRandom(seed = 0x9e3779b9): Random {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return {
    float: next,
    int: (n) => Math.floor(next() * n),
    bytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
  };
}

/** The test peer name number `i` (`0i:00:00:02:00:00`, as upstream's tests). */
export function peer(i: number): PeerName {
  return parsePeerName(`${i.toString(16).padStart(2, '0')}:00:00:02:00:00`);
}

/**
 * Full-mesh gossip in memory: a broadcast from one member is queued for every other member and
 * delivered, in order, by `flush()` (what each receiver returns is not relayed: everyone hears
 * everyone directly). `gossipRound()` sends each member's full state to all others, like the periodic
 * gossip. Nothing is encoded differently from the wire: payloads go through `encode()`.
 */
export class FakeGossipNetwork {
  readonly #members = new Map<PeerName, GossipReceiver>();
  readonly #queue: Array<() => void> = [];
  /** Errors receivers threw, in order. */
  readonly errors: Error[] = [];

  gossiper(name: PeerName): Gossiper {
    return {
      registerChannel: (_channel: string, receiver: GossipReceiver): GossipChannel => {
        this.#members.set(name, receiver);
        return {
          name: _channel,
          gossipUnicast: () => {},
          gossipBroadcast: (update: GossipData) => this.#fanOut(name, update, true),
          gossipNeighbourSubset: (update: GossipData) => this.#fanOut(name, update, false),
        };
      },
    };
  }

  #fanOut(from: PeerName, update: GossipData, broadcast: boolean): void {
    const payloads = update.encode();
    for (const [name, receiver] of this.#members) {
      if (name === from) continue;
      for (const p of payloads) {
        this.#queue.push(() => {
          try {
            if (broadcast) receiver.onGossipBroadcast(from, p);
            else receiver.onGossip(p);
          } catch (err) {
            this.errors.push(err as Error);
          }
        });
      }
    }
  }

  /** Delivers queued messages (and those they cause) until none are left. */
  flush(): void {
    for (let i = 0; i < 100_000 && this.#queue.length > 0; i++) this.#queue.shift()!();
  }

  /** Every member gossips its full state to every other one; then flush. */
  gossipRound(): void {
    for (const [name, receiver] of this.#members) {
      const data = receiver.gossip();
      if (data) this.#fanOut(name, data, false);
    }
    this.flush();
  }
}

/** Sends one DNS query over UDP and returns the raw reply (rejects after `timeoutMs`). */
export function udpQuery(port: number, query: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('UDP query timed out'));
    }, timeoutMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(query, port, '127.0.0.1');
  });
}

/** Sends DNS queries over one TCP connection and returns the raw replies, in arrival order. */
export function tcpQueries(port: number, queries: Buffer[], timeoutMs = 2000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const replies: Buffer[] = [];
    let pending: Buffer = Buffer.alloc(0);
    const sock = net.connect({ port, host: '127.0.0.1' }, () => {
      for (const q of queries) {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(q.length);
        sock.write(Buffer.concat([len, q]));
      }
    });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`TCP queries timed out with ${replies.length}/${queries.length} replies`));
    }, timeoutMs);
    sock.on('error', reject);
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= pending.readUInt16BE(0) + 2) {
        const n = pending.readUInt16BE(0);
        replies.push(pending.subarray(2, n + 2));
        pending = pending.subarray(n + 2);
      }
      if (replies.length === queries.length) {
        clearTimeout(timer);
        sock.end();
        resolve(replies);
      }
    });
  });
}

/** A standard query for `name`/`type` with id `id` (RD set), optionally with an EDNS0 OPT size. */
export function query(name: string, type: RecordType, id = 4321, ednsSize?: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals:
      ednsSize === undefined
        ? []
        : [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: ednsSize,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ],
  });
}

/** A decoded reply; dns-packet decodes `rcode` (e.g. `NXDOMAIN`) but its types omit it. */
export type Reply = DecodedPacket & { rcode: string };

/** Decodes a reply. */
export function decode(reply: Buffer): Reply {
  return dnsPacket.decode(reply) as Reply;
}

/** The A addresses in a decoded reply, sorted. */
export function addressesOf(reply: DecodedPacket): string[] {
  return (reply.answers ?? [])
    .filter((a) => a.type === 'A')
    .map((a) => String((a as { data: string }).data))
    .sort();
}
