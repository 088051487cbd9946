/**
 * Bytes received from a stream but not yet consumed, kept as the chunks they arrived in so that
 * reading never copies more than it returns.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  /** Offset of the first unread byte in `#chunks[0]`. */
  #offset = 0;
  #length = 0;

  /** Bytes available to read. */
  get length(): number {
    return this.#length;
  }

  /** Appends a chunk; the queue keeps a reference to it. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The byte `index` bytes ahead of the read position (which must be < `length`). */
  peekByte(index: number): number {
    let i = index + this.#offset;
    for (const chunk of this.#chunks) {
      if (i < chunk.length) return chunk[i]!;
      i -= chunk.length;
    }
    throw new RangeError(`peek past the end of the queue (${index} >= ${this.#length})`);
  }

  /** The big-endian uint32 at the read position (needs 4 bytes), without consuming it. */
  peekUint32(): number {
    return (
      ((this.peekByte(0) << 24) | (this.peekByte(1) << 16) | (this.peekByte(2) << 8) | this.peekByte(3)) >>> 0
    );
  }

  /**
   * Removes and returns the next `n` bytes (`n` ≤ `length`). Within one chunk this is a view of it;
   * across chunks a fresh array of exactly `n` bytes.
   */
  take(n: number): Uint8Array {
    if (n > this.#length) throw new RangeError(`take ${n} bytes with ${this.#length} queued`);
    this.#length -= n;
    const first = this.#chunks[0];
    if (first && first.length - this.#offset >= n) return this.#advanceWithin(first, n);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const count = Math.min(n - filled, chunk.length - this.#offset);
      out.set(chunk.subarray(this.#offset, this.#offset + count), filled);
      filled += count;
      this.#advanceWithin(chunk, count);
    }
    return out;
  }

  /** Removes and returns everything queued. */
  takeAll(): Uint8Array {
    return this.take(this.#length);
  }

  #advanceWithin(chunk: Uint8Array, n: number): Uint8Array {
    const view = chunk.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    if (this.#offset === chunk.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
    return view;
  }
}
