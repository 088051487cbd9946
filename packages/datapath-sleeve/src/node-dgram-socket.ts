import { createSocket } from 'node:dgram';
import type { DatagramSocket, DatagramTransport, Endpoint } from '@weave-ts/core';

/**
 * A core `DatagramSocket` on node:dgram, tuned for the sleeve (see `design/baselines.md`): Node has no
 * sendmmsg/recvmmsg, so batching from JS means packing frames into datagrams (done by the encoders),
 * gathering buffer lists into one `send`, and handing the receiver every datagram that arrived in one
 * event-loop turn as one batch.
 */

/** Options of {@link bindNodeDgramSocket}. */
export interface NodeDgramSocketOptions {
  /** SO_RCVBUF in bytes (default 4 MiB; the kernel caps it at `rmem_max`). */
  readonly recvBufferSize?: number;
  /** SO_SNDBUF in bytes (default 4 MiB; the kernel caps it at `wmem_max`). */
  readonly sendBufferSize?: number;
  /** Receives socket and send errors, which are otherwise dropped (UDP is lossy anyway). */
  readonly onError?: (error: Error) => void;
}

const FOUR_MIB = 4 * 1024 * 1024;

/** Binds a UDPv4 socket at `local` (port 0 picks a free port; `local` of the result tells which). */
export async function bindNodeDgramSocket(
  local: Endpoint,
  options: NodeDgramSocketOptions = {},
): Promise<DatagramSocket> {
  const socket = createSocket({
    type: 'udp4',
    recvBufferSize: options.recvBufferSize ?? FOUR_MIB,
    sendBufferSize: options.sendBufferSize ?? FOUR_MIB,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(local.port, local.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const onError = options.onError ?? (() => {});
  socket.on('error', onError);
  const address = socket.address();
  const bound: Endpoint = { host: address.address, port: address.port };

  let handler: ((batch: readonly { data: Uint8Array; from: Endpoint }[]) => void) | undefined;
  let pending: { data: Uint8Array; from: Endpoint }[] = [];
  let flushScheduled = false;
  let closed = false;
  const flush = () => {
    flushScheduled = false;
    const batch = pending;
    pending = [];
    if (!closed && batch.length > 0) handler?.(batch);
  };
  socket.on('message', (msg, rinfo) => {
    pending.push({
      data: new Uint8Array(msg.buffer, msg.byteOffset, msg.length),
      from: { host: rinfo.address, port: rinfo.port },
    });
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });
  const sent = (error: Error | null) => {
    if (error) onError(error);
  };

  return {
    local: bound,
    send(datagrams, to) {
      if (closed) return;
      for (const datagram of datagrams) {
        if (datagram.length === 1) socket.send(datagram[0]!, to.port, to.host, sent);
        else socket.send(datagram, to.port, to.host, sent);
      }
    },
    onReceive(receiver) {
      handler = receiver;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** A `DatagramTransport` binding {@link bindNodeDgramSocket} sockets with the given options. */
export function nodeDgramTransport(options: NodeDgramSocketOptions = {}): DatagramTransport {
  return { bind: (local) => bindNodeDgramSocket(local, options) };
}
