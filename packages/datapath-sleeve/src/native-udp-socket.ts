import type { Endpoint } from '@weave-ts/core';
import { NativeUdpSocket, UdpSocketError, type UdpSendResult } from '@weave-ts/host';
import type { SleeveSocket } from './sleeve-socket.js';

/**
 * A {@link SleeveSocket} on the host addon's native UDP socket: real Don't Fragment sends whose
 * `EMSGSIZE` carries the kernel's path MTU (so PMTU discovery needs no configured `pathMtu`), and
 * batched I/O (sendmmsg, recvmmsg with up to 64 datagrams per callback). DF and non-DF datagrams
 * share the one bound socket, so both leave from the port peers learn from our heartbeats.
 * Linux only; binding needs the addon built (`HostAddonMissingError` otherwise).
 */

/** Options of {@link bindNativeSleeveSocket}. */
export interface NativeSleeveSocketOptions {
  /** SO_RCVBUF in bytes (default 4 MiB; as root past `rmem_max`). */
  readonly recvBufferSize?: number;
  /** SO_SNDBUF in bytes (default 4 MiB; as root past `wmem_max`). */
  readonly sendBufferSize?: number;
  /** Named network namespace to create the socket in (default: this process's). */
  readonly netns?: string;
  /** Receives send and receive failures, which are otherwise dropped (UDP is lossy anyway). */
  readonly onError?: (error: Error) => void;
}

/**
 * Binds a native UDP socket at `local` (port 0 picks a free port; `local` of the result tells which).
 * @throws UdpAddressInUseError when the address is taken, UdpSocketError for other bind failures.
 */
export function bindNativeSleeveSocket(
  local: Endpoint,
  options: NativeSleeveSocketOptions = {},
): SleeveSocket {
  const socket = NativeUdpSocket.bind({
    host: local.host,
    port: local.port,
    ...(options.recvBufferSize === undefined ? {} : { recvBufferSize: options.recvBufferSize }),
    ...(options.sendBufferSize === undefined ? {} : { sendBufferSize: options.sendBufferSize }),
    ...(options.netns === undefined ? {} : { netns: options.netns }),
  });
  return sleeveSocketOverNative(socket, options.onError);
}

/** Wraps an open {@link NativeUdpSocket}; the sleeve socket owns it from then on. */
export function sleeveSocketOverNative(
  socket: NativeUdpSocket,
  onError: (error: Error) => void = () => {},
): SleeveSocket {
  const local = `${socket.local.host}:${socket.local.port}`;
  return {
    local: socket.local,
    send(datagrams, to, { df }) {
      if (socket.closed || datagrams.length === 0) return undefined;
      let result: UdpSendResult;
      try {
        result = socket.send(datagrams, ipv4Endpoint(to), { df });
      } catch (err) {
        // Not an IPv4 destination (the socket is IPv4 only): the datagrams are lost.
        onError(err instanceof Error ? err : new Error(String(err)));
        return undefined;
      }
      if (result.error !== undefined) onError(new UdpSocketError(local, 'sendmmsg', result.error));
      return result.emsgsize ? { code: 'EMSGSIZE', pmtu: result.emsgsize.pmtu } : undefined;
    },
    onReceive(handler) {
      socket.onReceive(handler, onError);
    },
    close() {
      socket.close();
      return Promise.resolve();
    },
  };
}

/** `to` with an IPv4-mapped IPv6 host (`::ffff:10.0.0.1`, as a dual-stack TCP listener reports) unmapped. */
function ipv4Endpoint(to: Endpoint): Endpoint {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(to.host);
  return mapped ? { host: mapped[1]!, port: to.port } : to;
}
