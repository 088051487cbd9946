import { EventEmitter } from 'eventemitter3';
import type { Clock, TimerHandle } from './clock.js';
import { type HandshakeOptions, type HandshakeResult, performHandshake } from './handshake.js';
import type { LocalConnection } from './local-peer.js';
import type { OverlayConnection } from './overlay.js';
import type { Peer } from './peer.js';
import { ReadTimeoutError } from './protocol-errors.js';
import { ProtocolTag, protocolMessage } from './protocol-tags.js';
import type { StreamConnection } from './transport.js';

/**
 * One control connection (mesh `LocalConnection`): handshake, then the router registers it, then
 * messages flow until an error or `shutdown`.
 *
 * ```
 * stream ─▶ performHandshake ─▶ host.connectionReady (identity checks, overlay, add to topology)
 *        ─▶ messages ─▶ host.handleMessage      heartbeat every 30 s; silence for 60 s closes it
 *        ─▶ overlay 'established' ─▶ host.connectionEstablished
 *        ─▶ close/error ─▶ host.connectionClosed (exactly once)
 * ```
 */

/** Upstream's TCP heartbeat interval. */
export const TCP_HEARTBEAT_MS = 30_000;
/** A connection silent for this long is dead (twice the heartbeat). */
export const TCP_READ_TIMEOUT_MS = 2 * TCP_HEARTBEAT_MS;

/** What a connection needs from its router. */
export interface ConnectionHost {
  /** Schedules heartbeats and read deadlines. */
  readonly clock: Clock;
  /** Our side of the handshake with a peer at `remoteHost`. */
  handshakeOptions(outbound: boolean, remoteHost: string): HandshakeOptions;
  /** Identity checks, overlay preparation, topology registration. Throws to refuse the connection. */
  connectionReady(conn: MeshConnection, handshake: HandshakeResult): void;
  /** The overlay on `conn` came up. */
  connectionEstablished(conn: MeshConnection): void;
  /** A message with a gossip or overlay tag. Throws to drop the connection. */
  handleMessage(conn: MeshConnection, tag: number, body: Uint8Array): void;
  /** `conn` is gone; `error` says why (undefined for a local, clean stop). */
  connectionClosed(conn: MeshConnection, error: Error | undefined): void;
}

/** Events of a {@link MeshConnection}. */
export interface MeshConnectionEvents {
  /** The handshake is done and the remote's first heartbeat (or the overlay) confirmed the link. */
  established: [];
  /** The connection is gone; `error` says why when it did not end cleanly. */
  closed: [error: Error | undefined];
}

export class MeshConnection extends EventEmitter<MeshConnectionEvents> implements LocalConnection {
  /** Set once the handshake identified the remote (by `host.connectionReady`). */
  remote!: Peer; // definite once registered; undefined while handshaking
  /** Set by the router when it prepares the overlay. */
  overlay?: OverlayConnection;
  /** Whether the connection is established (see {@link MeshConnectionEvents.established}). */
  established = false;
  /** The connection uid both ends agree on (our connection id XOR theirs); 0 until the handshake. */
  connUID = 0n;
  /** The NaCl session key, when the connection is encrypted. */
  sessionKey?: Uint8Array;
  /** Whether the remote trusts us (its `Trusted` feature). */
  trustedByRemote = false;
  private send?: (msg: Uint8Array) => void;
  private heartbeat?: TimerHandle;
  private readDeadline?: TimerHandle;
  private closed = false;

  constructor(
    private readonly host: ConnectionHost,
    /** The underlying byte stream (TCP socket or simulated stream). */
    readonly stream: StreamConnection,
    readonly outbound: boolean,
    /** The dialled target (outbound) or the socket's remote address (inbound), `ip:port`. */
    readonly remoteTcpAddr: string,
    /** False for discovered targets: the remote must already be in the topology. */
    readonly acceptNewPeer: boolean,
  ) {
    super();
    stream.on('close', (error) => this.finish(error));
  }

  /** Whether the handshake finished and the router accepted the connection. */
  get registered(): boolean {
    return this.send !== undefined;
  }

  /** Runs the handshake and registration; failures close the connection (reported via `closed`). */
  async start(): Promise<void> {
    let handshake: HandshakeResult;
    try {
      handshake = await performHandshake(
        this.stream,
        this.host.handshakeOptions(this.outbound, this.stream.remote.host),
      );
    } catch {
      return; // performHandshake closed the stream with its error; finish() reports it
    }
    if (this.closed) return;
    try {
      this.connUID = handshake.connUID;
      this.sessionKey = handshake.sessionKey;
      this.trustedByRemote = handshake.remote.trusted ?? false;
      this.host.connectionReady(this, handshake);
    } catch (error) {
      this.shutdown(error as Error);
      return;
    }
    this.send = (msg) => handshake.channel.send(msg);
    this.armReadDeadline();
    this.scheduleHeartbeat();
    handshake.channel.onMessage((msg) => this.receive(msg));
    const overlay = this.overlay;
    if (overlay) {
      overlay.on('established', () => this.markEstablished());
      overlay.on('error', (error) => this.shutdown(error));
      overlay.confirm();
      if (overlay.established) this.markEstablished();
    }
  }

  /** Sends a tagged message; dropped once the connection is closing. */
  sendMessage(tag: ProtocolTag, body: Uint8Array): void {
    if (!this.closed) this.send?.(protocolMessage(tag, body));
  }

  /** Sends an already tagged message. */
  sendRaw(msg: Uint8Array): void {
    if (!this.closed) this.send?.(msg);
  }

  /** Closes the connection; `error` is what the router logs and status shows. */
  shutdown(error?: Error): void {
    this.stream.close(error);
    this.finish(error);
  }

  private markEstablished(): void {
    if (this.established || this.closed) return;
    this.established = true;
    this.host.connectionEstablished(this);
    this.emit('established');
  }

  private receive(msg: Uint8Array): void {
    if (this.closed) return;
    this.armReadDeadline();
    if (msg.length === 0) return;
    const tag = msg[0]!;
    if (tag === ProtocolTag.Heartbeat) return;
    try {
      this.host.handleMessage(this, tag, msg.subarray(1));
    } catch (error) {
      this.shutdown(error as Error);
    }
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = this.host.clock.setTimeout(() => {
      this.sendMessage(ProtocolTag.Heartbeat, new Uint8Array(0));
      this.scheduleHeartbeat();
    }, TCP_HEARTBEAT_MS);
  }

  private armReadDeadline(): void {
    if (this.readDeadline) this.host.clock.clearTimeout(this.readDeadline);
    this.readDeadline = this.host.clock.setTimeout(() => {
      const { local, remote } = this.stream;
      this.shutdown(new ReadTimeoutError(`${local.host}:${local.port}->${remote.host}:${remote.port}`));
    }, TCP_READ_TIMEOUT_MS);
  }

  private finish(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) this.host.clock.clearTimeout(this.heartbeat);
    if (this.readDeadline) this.host.clock.clearTimeout(this.readDeadline);
    this.overlay?.stop();
    this.host.connectionClosed(this, error);
    this.emit('closed', error);
  }
}
