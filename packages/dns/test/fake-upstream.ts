// A tiny upstream DNS server on loopback (UDP and TCP on one port) for forwarding tests.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import dnsPacket, { type Answer } from 'dns-packet';

export interface FakeUpstream {
  port: number;
  /** Ids of the queries it received, in order. */
  seenIds: number[];
  /** Names it was asked, in order. */
  seenNames: string[];
  close(): Promise<void>;
}

/**
 * Answers `records` (lower-case name without trailing dot → answers); other names get NXDOMAIN.
 * With `silent`, it receives but never answers (to exercise timeouts).
 */
export async function startFakeUpstream(
  records: Record<string, Answer[]>,
  silent = false,
): Promise<FakeUpstream> {
  const seenIds: number[] = [];
  const seenNames: string[] = [];
  const answer = (msg: Buffer): Buffer | undefined => {
    const q = dnsPacket.decode(msg);
    seenIds.push(q.id ?? -1);
    const name = q.questions?.[0]?.name.toLowerCase() ?? '';
    seenNames.push(name);
    if (silent) return undefined;
    const answers = records[name];
    return dnsPacket.encode({
      id: q.id,
      type: 'response',
      flags: dnsPacket.RECURSION_AVAILABLE | (answers ? 0 : 3),
      questions: q.questions,
      answers: answers ?? [],
    });
  };
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const out = answer(msg);
    if (out) udp.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  const conns = new Set<net.Socket>();
  const tcp = net.createServer((c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    c.on('error', () => {});
    let pending: Buffer = Buffer.alloc(0);
    c.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= pending.readUInt16BE(0) + 2) {
        const out = answer(pending.subarray(2, pending.readUInt16BE(0) + 2));
        pending = pending.subarray(pending.readUInt16BE(0) + 2);
        if (out) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          c.write(Buffer.concat([len, out]));
        }
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    seenIds,
    seenNames,
    close: async () => {
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}
