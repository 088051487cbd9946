/**
 * gob's integer encodings and a byte cursor.
 *
 * Unsigned: below 128 one byte; otherwise the negated byte count (0xff = 1 byte … 0xf8 = 8 bytes)
 * followed by the value big-endian, minimal length. Signed: shifted left one bit, bit 0 set (and the
 * rest complemented) for negatives. Strings and byte slices are a length then the bytes.
 */
import { GobError } from './errors.js';

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const utf8Encoder = new TextEncoder();
// Go strings are arbitrary bytes; invalid UTF-8 is replaced rather than rejected, as Go accepts it.
const utf8Decoder = new TextDecoder('utf-8');

/** Growable output buffer with gob's primitive encodings. */
export class GobWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  /** Bytes written so far (a view; copy before writing more if it must be kept). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  get length(): number {
    return this.len;
  }

  /** Empties the buffer, keeping its memory. */
  reset(): void {
    this.len = 0;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** An unsigned integer given as a non-negative safe integer. */
  uint(v: number): void {
    if (v < 128) {
      this.byte(v);
      return;
    }
    let n = 0;
    for (let x = v; x >= 1; x = Math.floor(x / 256)) n++;
    this.reserve(n + 1);
    this.buf[this.len] = 256 - n;
    let x = v;
    for (let i = n; i >= 1; i--) {
      this.buf[this.len + i] = x % 256;
      x = Math.floor(x / 256);
    }
    this.len += n + 1;
  }

  /** An unsigned 64-bit integer. */
  uint64(v: bigint): void {
    if (v <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.uint(Number(v));
      return;
    }
    const bytes: number[] = [];
    for (let x = v; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
    this.byte(256 - bytes.length);
    this.raw(Uint8Array.from(bytes));
  }

  /** A signed integer given as a safe integer. */
  int(v: number): void {
    // 2|v|+1 stays exact below 2^52; beyond that, use the bigint path.
    if (Math.abs(v) < 2 ** 52) this.uint(v < 0 ? -2 * v - 1 : 2 * v);
    else this.int64(BigInt(v));
  }

  /** A signed 64-bit integer. */
  int64(v: bigint): void {
    this.uint64(v < 0n ? ((-v - 1n) << 1n) | 1n : v << 1n);
  }

  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.raw(b);
  }

  string(s: string): void {
    // Fast path for short ASCII strings (names, addresses): no intermediate buffer.
    if (s.length < 128 && /^[\x00-\x7f]*$/.test(s)) {
      this.reserve(s.length + 1);
      this.buf[this.len++] = s.length;
      for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
      return;
    }
    this.bytes(utf8Encoder.encode(s));
  }
}

/** Read cursor over `bytes[pos, end)`; every read is bounds-checked and fails with GobError. */
export class GobReader {
  constructor(
    readonly bytes: Uint8Array,
    public pos = 0,
    public end = bytes.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.end - this.pos) throw new GobError(`truncated data reading ${what}`);
  }

  byte(): number {
    if (this.pos >= this.end) throw new GobError('truncated data: unexpected end of message');
    return this.bytes[this.pos++]!;
  }

  private count(first: number): number {
    const n = 256 - first;
    if (n > 8) throw new GobError(`bad uint: byte count ${n} exceeds 8`);
    this.need(n, 'an unsigned integer');
    return n;
  }

  /** An unsigned integer that must be a safe JS integer (lengths, counts, deltas, ids). */
  uint(): number {
    const first = this.byte();
    if (first < 128) return first;
    const n = this.count(first);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.bytes[this.pos++]!;
    if (v > Number.MAX_SAFE_INTEGER) throw new GobError('integer out of range for a JS number');
    return v;
  }

  /** A full-range unsigned 64-bit integer. */
  uint64(): bigint {
    const first = this.byte();
    if (first < 128) return BigInt(first);
    const n = this.count(first);
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < n; i++) {
      hi = hi * 256 + Math.floor(lo / 2 ** 24);
      lo = (lo % 2 ** 24) * 256 + this.bytes[this.pos++]!;
    }
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A signed integer that must be a safe JS integer. */
  int(): number {
    const u = this.uint64();
    const v = u & 1n ? ~(u >> 1n) : u >> 1n;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new GobError('integer out of range for a JS number');
    }
    return Number(v);
  }

  /** A full-range signed 64-bit integer. */
  int64(): bigint {
    const u = this.uint64();
    return u & 1n ? ~(u >> 1n) : u >> 1n;
  }

  /** Skips one encoded unsigned integer. */
  skipUint(): void {
    const first = this.byte();
    if (first >= 128) this.pos += this.count(first);
  }

  /** A length prefix, checked against the bytes left so nothing larger is ever allocated. */
  length(what: string): number {
    const n = this.uint();
    this.need(n, what);
    return n;
  }

  bytesValue(): Uint8Array {
    const n = this.length('a byte slice');
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.length('a string');
    const start = this.pos;
    this.pos += n;
    if (n <= 64) {
      // Fast path for short ASCII strings, the common case in Weave's gossip.
      let ascii = true;
      for (let i = start; i < start + n; i++) if (this.bytes[i]! >= 0x80) ascii = false;
      if (ascii) {
        let out = '';
        for (let i = start; i < start + n; i++) out += String.fromCharCode(this.bytes[i]!);
        return out;
      }
    }
    return utf8Decoder.decode(this.bytes.subarray(start, start + n));
  }
}

/** Whether `v` is an integer gob can carry as a signed 64-bit value. */
export function fitsInt64(v: bigint): boolean {
  return v >= I64_MIN && v <= I64_MAX;
}

/** Whether `v` is an integer gob can carry as an unsigned 64-bit value. */
export function fitsUint64(v: bigint): boolean {
  return v >= 0n && v <= U64_MAX;
}
