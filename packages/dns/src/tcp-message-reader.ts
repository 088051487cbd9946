/**
 * Reassembles DNS messages from a TCP byte stream, where each message is preceded by its length as
 * two big-endian bytes (RFC 1035 §4.2.2). Chunks are kept as received and each message is copied out
 * once when complete, so a message arriving in n pieces costs O(n + size), not a concatenation of
 * everything pending per piece (a 64 KiB message in 1-byte segments used to copy ~2 GB).
 */
export class TcpMessageReader {
  #chunks: Buffer[] = [];
  /** Index of the first chunk still holding unread bytes. */
  #head = 0;
  /** Bytes of `#chunks[#head]` already read. */
  #offset = 0;
  #buffered = 0;
  /** Bytes copied into messages so far (for tests of the linear cost). */
  copied = 0;

  /** Unread bytes held. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds bytes received. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next complete message (a fresh buffer), or undefined until all its bytes arrived. */
  next(): Buffer | undefined {
    if (this.#buffered < 2) return undefined;
    const n = this.#byteAt(0) * 256 + this.#byteAt(1);
    if (this.#buffered < n + 2) return undefined;
    this.#skip(2);
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[this.#head]!;
      const take = Math.min(n - at, chunk.length - this.#offset);
      chunk.copy(out, at, this.#offset, this.#offset + take);
      at += take;
      this.#skip(take);
    }
    this.copied += n;
    return out;
  }

  #byteAt(i: number): number {
    let index = this.#head;
    let pos = this.#offset + i;
    while (pos >= this.#chunks[index]!.length) {
      pos -= this.#chunks[index]!.length;
      index++;
    }
    return this.#chunks[index]![pos]!;
  }

  #skip(n: number): void {
    this.#buffered -= n;
    this.#offset += n;
    while (this.#head < this.#chunks.length && this.#offset >= this.#chunks[this.#head]!.length) {
      this.#offset -= this.#chunks[this.#head]!.length;
      this.#head++;
    }
    // Drop consumed chunks in batches (an array shift per chunk would make 1-byte pieces quadratic).
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= 1024) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
