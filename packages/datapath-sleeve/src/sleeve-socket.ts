import type { DatagramSocket, Endpoint } from '@weave-ts/core';
import { UDP_OVERHEAD } from './constants.js';

/**
 * What the sleeve needs from its UDP layer. Upstream uses two kinds of socket: the shared port-6783
 * socket that never sets DF (`IP_PMTUDISC_DONT`), and a raw DF sender per forwarder whose `EMSGSIZE`
 * reveals the path MTU (`IP_MTU`). Here one object does both; a DF send that is too big comes back
 * synchronously as {@link MessageTooBig}, as it does from the kernel.
 *
 * Implementations: {@link sleeveSocketOverDatagram} (any core `DatagramSocket`, DF emulated against a
 * configured path MTU), `SimulatedUnderlay` (tests), and later a native DF socket.
 */

/** How datagrams are to be sent. */
export interface SleeveSendOptions {
  /** Set Don't Fragment: never fragment; refuse what exceeds the known path MTU. */
  readonly df: boolean;
}

/** A DF send was refused because a datagram exceeds the path MTU. */
export interface MessageTooBig {
  /** Always `EMSGSIZE`. */
  readonly code: 'EMSGSIZE';
  /** The path MTU the sender knows: the largest IP packet (UDP payload + 28) that may be sent. */
  readonly pmtu: number;
}

/** One received datagram. */
export interface ReceivedDatagram {
  /** The datagram. */
  readonly data: Uint8Array;
  /** Where it came from. */
  readonly from: Endpoint;
}

/** A bound UDP socket as the sleeve uses it. Batched: many datagrams per call and per callback. */
export interface SleeveSocket {
  /** The address the socket is bound to. */
  readonly local: Endpoint;
  /**
   * Sends each buffer list as one datagram to `to`, in order. The buffers are handed over and must not
   * be modified afterwards. With `df`, a datagram bigger than the known path MTU is not sent, the rest
   * of the batch still is, and the result reports `EMSGSIZE` with the smallest such MTU. Other send
   * failures are not returned (the implementation logs or counts them); the datagram is lost, as UDP
   * datagrams may be. After `close()` sends are dropped.
   */
  send(
    datagrams: readonly (readonly Uint8Array[])[],
    to: Endpoint,
    options: SleeveSendOptions,
  ): MessageTooBig | undefined;
  /** Installs the receiver (replacing any earlier one); each batch then belongs to it. */
  onReceive(handler: (batch: readonly ReceivedDatagram[]) => void): void;
  /** Releases the socket; no batches arrive afterwards. */
  close(): Promise<void>;
}

/** Options of {@link sleeveSocketOverDatagram}. */
export interface DatagramSleeveSocketOptions {
  /**
   * The underlay path MTU to assume for DF datagrams, in IP packet bytes (default 1500). A plain
   * datagram socket can neither set DF nor learn the path MTU, so this stands in for both.
   */
  readonly pathMtu?: number;
}

/** The largest UDP payload of one IPv4 datagram. */
const MAX_UDP_PAYLOAD = 65535 - UDP_OVERHEAD;

/**
 * Wraps a core `DatagramSocket` (node:dgram, or a simulated network) as a {@link SleeveSocket}. The DF
 * flag is not set on the wire; instead DF datagrams bigger than `pathMtu` are refused with
 * `EMSGSIZE`, so PMTU discovery settles on `pathMtu` less the sleeve overhead.
 */
export function sleeveSocketOverDatagram(
  socket: DatagramSocket,
  options: DatagramSleeveSocketOptions = {},
): SleeveSocket {
  const pathMtu = options.pathMtu ?? 1500;
  return {
    local: socket.local,
    send(datagrams, to, { df }) {
      const limit = df ? pathMtu - UDP_OVERHEAD : MAX_UDP_PAYLOAD;
      let tooBig: MessageTooBig | undefined;
      let accepted = datagrams;
      if (datagrams.some((d) => byteLength(d) > limit)) {
        accepted = datagrams.filter((d) => byteLength(d) <= limit);
        if (df) tooBig = { code: 'EMSGSIZE', pmtu: pathMtu };
      }
      if (accepted.length > 0) socket.send(accepted, to);
      return tooBig;
    },
    onReceive(handler) {
      socket.onReceive(handler);
    },
    close() {
      return socket.close();
    },
  };
}

/** Total bytes of a datagram given as a buffer list. */
export function byteLength(datagram: readonly Uint8Array[]): number {
  let n = 0;
  for (const part of datagram) n += part.length;
  return n;
}
