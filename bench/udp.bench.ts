// Small-datagram rate on 127.0.0.1: node:dgram (one sendmsg/recvmsg per datagram) against the host
// addon's NativeUdpSocket (sendmmsg, recvmmsg ≤ 64 per wake-up), sender and receiver in this one
// process. Each event-loop turn sends one batch; the figure is datagrams delivered per second over a
// fixed window (baselines.md: Node's dgram cannot batch system calls).
import { createSocket, type Socket } from 'node:dgram';
import { NativeUdpSocket } from '@weave-ts/host';

const DURATION_MS = 1500;
const WARMUP_MS = 300;
const BATCH = 64;
const PAYLOAD = new Uint8Array(64).fill(0x5a);
const BUFFER = 4 * 1024 * 1024;

interface Endpoints {
  /** Sends one batch of BATCH datagrams. */
  sendBatch(): void;
  /** Installs the per-delivery counter. */
  onDelivered(count: (n: number) => void): void;
  close(): Promise<void>;
}

async function bindDgram(): Promise<Socket> {
  const s = createSocket({ type: 'udp4', recvBufferSize: BUFFER, sendBufferSize: BUFFER });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

async function dgramPair(): Promise<Endpoints> {
  const tx = await bindDgram();
  const rx = await bindDgram();
  tx.connect(rx.address().port, '127.0.0.1');
  await new Promise<void>((resolve) => tx.once('connect', resolve));
  return {
    sendBatch: () => {
      for (let i = 0; i < BATCH; i++) tx.send(PAYLOAD);
    },
    onDelivered: (count) => rx.on('message', () => count(1)),
    close: async () => {
      await new Promise<void>((r) => tx.close(() => r()));
      await new Promise<void>((r) => rx.close(() => r()));
    },
  };
}

async function nativePair(): Promise<Endpoints> {
  const tx = NativeUdpSocket.bind({ host: '127.0.0.1', port: 0 });
  const rx = NativeUdpSocket.bind({ host: '127.0.0.1', port: 0 });
  const batch = Array.from({ length: BATCH }, () => [PAYLOAD]);
  return {
    sendBatch: () => {
      tx.send(batch, rx.local, { df: false });
    },
    onDelivered: (count) => rx.onReceive((b) => count(b.length)),
    close: async () => {
      tx.close();
      rx.close();
    },
  };
}

/** Delivered datagrams per second while sending one batch per event-loop turn. */
async function measure(pair: Endpoints): Promise<{ delivered: number; sent: number }> {
  let delivered = 0;
  let sent = 0;
  let measuring = false;
  pair.onDelivered((n) => {
    if (measuring) delivered += n;
  });
  const start = Date.now();
  await new Promise<void>((resolve) => {
    const turn = () => {
      const elapsed = Date.now() - start;
      if (elapsed >= WARMUP_MS + DURATION_MS) return resolve();
      if (!measuring && elapsed >= WARMUP_MS) measuring = true;
      pair.sendBatch();
      if (measuring) sent += BATCH;
      setImmediate(turn);
    };
    turn();
  });
  measuring = false;
  await pair.close();
  return { delivered: (delivered * 1000) / DURATION_MS, sent: (sent * 1000) / DURATION_MS };
}

export async function bench(): Promise<void> {
  const base = await measure(await dgramPair());
  const native = await measure(await nativePair());
  const k = (x: number) => `${(x / 1000).toFixed(1)} k/s`;
  console.log(`udp 64 B node:dgram  delivered ${k(base.delivered)} (offered ${k(base.sent)})`);
  console.log(`udp 64 B native      delivered ${k(native.delivered)} (offered ${k(native.sent)})`);
  console.log(`udp 64 B native / node:dgram: ${(native.delivered / base.delivered).toFixed(2)}x`);
}
