import { FrameDecoder, MAX_TCP_MSG_SIZE, frameMessage } from './message-framing.js';
import { SECRETBOX_OVERHEAD, type TcpOpener, type TcpSealer } from './protocol-crypto.js';
import { OutgoingMessageTooLargeError } from './protocol-errors.js';
import type { StreamConnection } from './transport.js';

/**
 * A control connection after the handshake, as whole messages: framing and (when a password is set)
 * encryption are done here. Protocol errors — an oversized or undecryptable message, a throwing
 * handler — close the connection with that error, so they surface on the connection's `close` event.
 */
export interface MessageChannel {
  /**
   * Frames, encrypts and writes `msg`. Never throws: a message over the size limit closes the
   * connection with `OutgoingMessageTooLargeError`; after close it is dropped.
   */
  send(msg: Uint8Array): void;
  /**
   * Installs the receiver of incoming messages (replacing any earlier one). Messages that arrived
   * before it was installed are delivered first, in order. A throwing handler closes the connection
   * with what it threw.
   */
  onMessage(handler: (msg: Uint8Array) => void): void;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * {@link MessageChannel} over a {@link StreamConnection}. Incoming bytes are only cut into messages
 * (and decrypted) while a handler is installed; until then they wait, undecoded, in the frame buffer.
 */
export class TcpMessageChannel implements MessageChannel {
  readonly #conn: StreamConnection;
  readonly #sealer: TcpSealer | undefined;
  readonly #opener: TcpOpener | undefined;
  readonly #decoder = new FrameDecoder();
  #handler: ((msg: Uint8Array) => void) | undefined;
  #closed = false;
  #pumping = false;

  /**
   * Takes over the connection's incoming bytes from now on; `pending` are bytes already received
   * after the handshake's fixed-size part. Without sealer/opener the channel is plain.
   */
  constructor(
    conn: StreamConnection,
    crypto: { sealer: TcpSealer; opener: TcpOpener } | undefined,
    pending: Uint8Array,
  ) {
    this.#conn = conn;
    this.#sealer = crypto?.sealer;
    this.#opener = crypto?.opener;
    this.#decoder.push(pending);
    conn.on('data', (chunk) => {
      this.#decoder.push(chunk);
      this.#pump();
    });
    conn.on('close', () => {
      this.#closed = true;
    });
  }

  send(msg: Uint8Array): void {
    if (this.#closed) return;
    const size = msg.length + (this.#sealer ? SECRETBOX_OVERHEAD : 0);
    if (size > MAX_TCP_MSG_SIZE) {
      this.#fail(new OutgoingMessageTooLargeError(size, MAX_TCP_MSG_SIZE));
      return;
    }
    this.#conn.write(frameMessage(this.#sealer ? this.#sealer.seal(msg) : msg));
  }

  onMessage(handler: (msg: Uint8Array) => void): void {
    this.#handler = handler;
    this.#pump();
  }

  /** Stops delivering (incoming bytes are kept) until `onMessage` installs a handler again. */
  pause(): void {
    this.#handler = undefined;
  }

  /**
   * The error a read would give if the stream ended now (`EOF` / `unexpected EOF`, by whether part
   * of a message is buffered).
   */
  endOfStream(): Error {
    return this.#decoder.endOfStream();
  }

  #pump(): void {
    // A handler may install another handler or pause; the loop below re-reads #handler each time.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#handler) {
        const payload = this.#decoder.next();
        if (!payload) break;
        this.#handler(this.#opener ? this.#opener.open(payload) : payload);
      }
    } catch (err) {
      this.#fail(toError(err));
    } finally {
      this.#pumping = false;
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close(err);
  }
}
