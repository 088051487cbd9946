import { ByteQueue } from './byte-queue.js';
import {
  EndOfStreamError,
  IncomingMessageTooLargeError,
  OutgoingMessageTooLargeError,
} from './protocol-errors.js';

/**
 * Protocol V2 framing: after the crypto intro, each direction is a sequence of
 *
 * ```
 * length uint32 big-endian ‖ payload[length]      (payload = secretbox when encrypted)
 * ```
 */

/** Largest payload either side accepts (upstream `MaxTCPMsgSize`, 10 MiB). */
export const MAX_TCP_MSG_SIZE = 10 * 1024 * 1024;
/** Bytes of the length prefix. */
export const LENGTH_PREFIX_SIZE = 4;

/**
 * `payload` with its length prefix, as one buffer (one write).
 * @throws OutgoingMessageTooLargeError
 */
export function frameMessage(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_TCP_MSG_SIZE)
    throw new OutgoingMessageTooLargeError(payload.length, MAX_TCP_MSG_SIZE);
  const framed = new Uint8Array(LENGTH_PREFIX_SIZE + payload.length);
  new DataView(framed.buffer).setUint32(0, payload.length);
  framed.set(payload, LENGTH_PREFIX_SIZE);
  return framed;
}

/**
 * Reassembles payloads from bytes arriving in arbitrary chunks. A payload is only materialised once
 * all of it has arrived, so an announced length never causes an allocation by itself; a length over
 * the maximum is refused as soon as its 4 bytes are in.
 */
export class FrameDecoder {
  readonly #queue = new ByteQueue();
  /** Length of the payload being collected, once its prefix has been consumed. */
  #pending: number | undefined;

  /** Adds received bytes (the decoder may keep a reference to `chunk`). */
  push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
  }

  /**
   * The next complete payload, or undefined when more bytes are needed.
   * @throws IncomingMessageTooLargeError
   */
  next(): Uint8Array | undefined {
    if (this.#pending === undefined) {
      if (this.#queue.length < LENGTH_PREFIX_SIZE) return undefined;
      const length = this.#queue.peekUint32();
      if (length > MAX_TCP_MSG_SIZE) throw new IncomingMessageTooLargeError(length, MAX_TCP_MSG_SIZE);
      this.#queue.take(LENGTH_PREFIX_SIZE);
      this.#pending = length;
    }
    if (this.#queue.length < this.#pending) return undefined;
    const payload = this.#queue.take(this.#pending);
    this.#pending = undefined;
    return payload;
  }

  /** Bytes received but not yet returned as (or consumed as the prefix of) a payload. */
  get buffered(): number {
    return this.#queue.length;
  }

  /**
   * What a reader blocked on this decoder would report if the stream ended now, as Go's
   * `io.ReadFull` does: `EOF` when the current read had no bytes yet, else `unexpected EOF`.
   */
  endOfStream(): EndOfStreamError {
    return new EndOfStreamError(this.#queue.length > 0);
  }
}
