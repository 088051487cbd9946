import type { EventEmitter } from 'eventemitter3';

/** A host and port pair, as on a socket. */
export interface Endpoint {
  /** Host name or IP address (`0.0.0.0` / `::` when bound to every address). */
  readonly host: string;
  /** TCP or UDP port number. */
  readonly port: number;
}

/** Events of a {@link StreamConnection}. */
export interface StreamConnectionEvents {
  /** Bytes arrived, in order. The chunk belongs to the listener. */
  data: [chunk: Uint8Array];
  /** The connection is gone; `error` is set when it did not end cleanly. Emitted exactly once. */
  close: [error?: Error];
}

/**
 * A reliable, ordered byte stream (a TCP connection, or its in-memory stand-in). Writes after close are
 * dropped silently; `close` is idempotent.
 */
export interface StreamConnection extends EventEmitter<StreamConnectionEvents> {
  /** Our end of the connection. */
  readonly local: Endpoint;
  /** The peer's end of the connection. */
  readonly remote: Endpoint;
  /** Queues bytes for sending. The caller must not modify `chunk` afterwards. */
  write(chunk: Uint8Array): void;
  /** Closes the connection; `error`, if given, is what the `close` event reports. */
  close(error?: Error): void;
}

/** A listening socket. */
export interface StreamListener {
  /** The address actually bound (with the real port when 0 was asked for). */
  readonly local: Endpoint;
  /** Stops accepting; open connections are not affected. */
  close(): Promise<void>;
}

/** Dials and accepts stream connections: node:net in production, a simulated network in tests. */
export interface StreamTransport {
  /**
   * Starts listening on `local`; `onAccept` runs once per inbound connection. Rejects with the bind error.
   */
  listen(local: Endpoint, onAccept: (conn: StreamConnection) => void): Promise<StreamListener>;
  /** Connects to `remote`; rejects with the dial error (its message is what status shows). */
  dial(remote: Endpoint): Promise<StreamConnection>;
}

/**
 * A bound datagram socket, batched like wireguard-go's `conn.Bind`: one call sends many datagrams and
 * one callback delivers many. After `close()` sends are dropped and no further batches arrive.
 */
export interface DatagramSocket {
  /** The address actually bound (with the real port when 0 was asked for). */
  readonly local: Endpoint;
  /** Sends each buffer list as one datagram to `to` (the buffers are gathered, not copied by the caller). */
  send(datagrams: readonly (readonly Uint8Array[])[], to: Endpoint): void;
  /** Installs the receiver; each call hands over a batch the receiver then owns. */
  onReceive(handler: (batch: readonly { data: Uint8Array; from: Endpoint }[]) => void): void;
  /** Unbinds the socket; resolves once it is closed. */
  close(): Promise<void>;
}

/** Binds datagram sockets: node:dgram in production, a simulated network in tests. */
export interface DatagramTransport {
  /** Binds a datagram socket on `local`; rejects with the bind error (e.g. EADDRINUSE). */
  bind(local: Endpoint): Promise<DatagramSocket>;
}
