import { EventEmitter } from 'eventemitter3';
import type { Endpoint, StreamConnection, StreamConnectionEvents } from '../transport.js';

/** Endpoints of the two ends of a {@link createStreamPair} pair. */
export interface StreamPairOptions {
  /** The first end's address (default 10.0.0.1:40000; think "the dialler"). */
  readonly a?: Endpoint;
  /** The second end's address (default 10.0.0.2:6783; think "the listener"). */
  readonly b?: Endpoint;
}

class MemoryStreamEnd extends EventEmitter<StreamConnectionEvents> implements StreamConnection {
  peer: MemoryStreamEnd | undefined;
  #closed = false;

  constructor(
    readonly local: Endpoint,
    readonly remote: Endpoint,
  ) {
    super();
  }

  write(chunk: Uint8Array): void {
    if (this.#closed || chunk.length === 0) return;
    const peer = this.peer!;
    queueMicrotask(() => peer.#deliver(chunk));
  }

  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    // Our own close event first; the remote sees a clean end after the bytes already in flight.
    queueMicrotask(() => this.emit('close', error));
    const peer = this.peer!;
    queueMicrotask(() => peer.close());
  }

  #deliver(chunk: Uint8Array): void {
    if (!this.#closed) this.emit('data', chunk);
  }
}

/**
 * Two connected in-memory {@link StreamConnection}s. A write on one end arrives on the other as one
 * `data` event in a later microtask, in order; closing one end closes the other (its `close` event
 * carries no error, as a peer's FIN would). Bytes in flight when an end closes still reach the peer.
 */
export function createStreamPair(options: StreamPairOptions = {}): [StreamConnection, StreamConnection] {
  const a = options.a ?? { host: '10.0.0.1', port: 40000 };
  const b = options.b ?? { host: '10.0.0.2', port: 6783 };
  const endA = new MemoryStreamEnd(a, b);
  const endB = new MemoryStreamEnd(b, a);
  endA.peer = endB;
  endB.peer = endA;
  return [endA, endB];
}
