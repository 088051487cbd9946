import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Clock } from '@weave-ts/core';
import dnsPacket from 'dns-packet';
import { FLAG_QR, HEADER_SIZE } from './message.js';

/**
 * Sends queries to upstream resolvers and waits for their replies: over UDP (one connected socket per
 * query, so an ICMP "port unreachable" fails it at once) or TCP (2-byte length framing), with a
 * timeout. Every exchange in flight is cancelled by {@link close}.
 */
export class Forwarder {
  readonly #clock: Clock;
  readonly #cancels = new Set<() => void>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** How many exchanges are in flight. */
  get inflight(): number {
    return this.#cancels.size;
  }

  /**
   * Sends `query` to `server`:`port` and resolves with the reply whose id matches, or `undefined` on
   * timeout, error, a reply that does not parse, or cancellation. Never rejects.
   */
  exchange(
    server: string,
    port: number,
    query: Buffer,
    tcp: boolean,
    timeoutMs: number,
  ): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      let done = false;
      let cleanup = () => {};
      const finish = (reply: Buffer | undefined) => {
        if (done) return;
        done = true;
        this.#clock.clearTimeout(timer);
        this.#cancels.delete(cancel);
        cleanup();
        resolve(reply);
      };
      const cancel = () => finish(undefined);
      const timer = this.#clock.setTimeout(cancel, timeoutMs);
      this.#cancels.add(cancel);
      const id = query.readUInt16BE(0);
      const accept = (reply: Buffer) => {
        if (isReplyTo(reply, id)) finish(reply);
      };
      try {
        cleanup = tcp
          ? this.#tcp(server, port, query, accept, cancel)
          : this.#udp(server, port, query, accept, cancel);
      } catch {
        finish(undefined);
      }
    });
  }

  #udp(
    server: string,
    port: number,
    query: Buffer,
    accept: (b: Buffer) => void,
    fail: () => void,
  ): () => void {
    const sock = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
    sock.on('error', fail);
    sock.on('message', accept);
    sock.connect(port, server, () => sock.send(query, (err: Error | null) => err && fail()));
    return () => sock.close();
  }

  #tcp(
    server: string,
    port: number,
    query: Buffer,
    accept: (b: Buffer) => void,
    fail: () => void,
  ): () => void {
    const framed = Buffer.allocUnsafe(query.length + 2);
    framed.writeUInt16BE(query.length, 0);
    query.copy(framed, 2);
    let pending: Buffer = Buffer.alloc(0);
    const sock = net.connect({ host: server, port }, () => sock.write(framed));
    sock.on('error', fail);
    sock.on('close', fail);
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const n = pending.readUInt16BE(0);
        if (pending.length < n + 2) break;
        accept(pending.subarray(2, n + 2));
        pending = pending.subarray(n + 2);
      }
    });
    return () => sock.destroy();
  }

  /** Cancels every exchange in flight (each resolves `undefined`). */
  close(): void {
    for (const cancel of [...this.#cancels]) cancel();
  }
}

/** Whether `reply` is a well-formed response with id `id`. */
function isReplyTo(reply: Buffer, id: number): boolean {
  if (reply.length < HEADER_SIZE || reply.readUInt16BE(0) !== id || (reply.readUInt16BE(2) & FLAG_QR) === 0) {
    return false;
  }
  try {
    dnsPacket.decode(reply);
    return true;
  } catch {
    return false;
  }
}
