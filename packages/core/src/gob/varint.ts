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

const U64_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_32 = 2 ** 32;

/** Below this size a zeroed buffer costs about as much as an uninitialised one. */
const LARGE_BUFFER = 16384;

/**
 * A buffer of `n` bytes whose contents are unspecified: for callers that write every byte before
 * anything reads it. Zero-filling large buffers costs more than encoding into them, and Node can
 * skip it (elsewhere this is a plain zeroed array).
 */
export function uninitialised(n: number): Uint8Array {
  if (n >= LARGE_BUFFER && typeof Buffer !== 'undefined') {
    return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
  }
  return new Uint8Array(n);
}

/** A copy of `bytes` (as `slice()` gives, without zero-filling first). */
export function copyOf(bytes: Uint8Array): Uint8Array {
  const out = uninitialised(bytes.length);
  out.set(bytes);
  return out;
}

/** Bytes needed for the big-endian form of a positive safe integer. */
function byteCount(v: number): number {
  if (v < 0x100) return 1;
  if (v < 0x10000) return 2;
  if (v < 0x1000000) return 3;
  if (v < TWO_32) return 4;
  let n = 4;
  for (let x = Math.floor(v / TWO_32); x >= 1; x = Math.floor(x / 256)) n++;
  return n;
}

/** Growable output buffer with gob's primitive encodings. */
export class GobWriter {
  private buf: Uint8Array;
  private len = 0;

  /** @param capacity bytes to reserve up front (a hint: clamped to [16, 64 MiB]; the buffer grows as needed) */
  constructor(capacity = 256) {
    const n = Number.isFinite(capacity) ? Math.min(Math.max(16, Math.ceil(capacity)), 1 << 26) : 256;
    // Only bytes below `len` are ever read or handed out, so the buffer need not be zeroed.
    this.buf = uninitialised(n);
  }

  /** Bytes written so far (a view; copy before writing more if it must be kept). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  get length(): number {
    return this.len;
  }

  /** Drops everything written after the first `length` bytes. */
  truncate(length: number): void {
    if (length < this.len) this.len = length;
  }

  /** Empties the buffer, keeping its memory. */
  reset(): void {
    this.len = 0;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = uninitialised(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len >= this.buf.length) this.reserve(1);
    this.buf[this.len++] = b;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /**
   * Starts a message (`uint(length) ‖ body`): returns where it starts. One byte is set aside for the
   * length, the common case; {@link endMessage} moves the body along when the length needs more.
   */
  beginMessage(): number {
    const start = this.len;
    this.byte(0);
    return start;
  }

  /** Ends the message begun at `start` by writing its length before the body. */
  endMessage(start: number): void {
    const bodyStart = start + 1;
    const size = this.len - bodyStart;
    if (size < 128) {
      this.buf[start] = size;
      return;
    }
    const n = byteCount(size);
    this.reserve(n);
    this.buf.copyWithin(bodyStart + n, bodyStart, this.len);
    this.len += n;
    this.putUint(start, size, n);
  }

  /** Writes `v` (needing `n` bytes) as gob's long unsigned form at `at`. */
  private putUint(at: number, v: number, n: number): void {
    const buf = this.buf;
    buf[at] = 256 - n;
    let x = v;
    for (let i = n; i >= 1; i--) {
      buf[at + i] = x % 256;
      x = Math.floor(x / 256);
    }
  }

  /** An unsigned integer given as a non-negative safe integer. */
  uint(v: number): void {
    if (v < 128) {
      if (this.len >= this.buf.length) this.reserve(1);
      this.buf[this.len++] = v;
      return;
    }
    const n = byteCount(v);
    this.reserve(n + 1);
    this.putUint(this.len, v, n);
    this.len += n + 1;
  }

  /** An unsigned 64-bit integer. */
  uint64(v: bigint): void {
    if (v <= U64_SAFE) {
      this.uint(Number(v));
      return;
    }
    // Above 2^53: split into 32-bit halves (the high one is at least 2^21, so 7 or 8 bytes in all).
    const hi = Number(v >> 32n);
    const lo = Number(v & 0xffffffffn);
    const n = 4 + byteCount(hi);
    this.reserve(n + 1);
    const buf = this.buf;
    let at = this.len;
    buf[at++] = 256 - n;
    for (let shift = (n - 5) * 8; shift >= 0; shift -= 8) buf[at++] = (hi / 2 ** shift) & 0xff;
    buf[at++] = lo >>> 24;
    buf[at++] = (lo >>> 16) & 0xff;
    buf[at++] = (lo >>> 8) & 0xff;
    buf[at++] = lo & 0xff;
    this.len = at;
  }

  /** A signed integer given as a safe integer. */
  int(v: number): void {
    // 2|v|+1 stays exact below 2^52; beyond that, use the bigint path.
    if (v >= 0) {
      if (v < 2 ** 52) this.uint(2 * v);
      else this.int64(BigInt(v));
    } else if (v > -(2 ** 52)) this.uint(-2 * v - 1);
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
    // Fast path for short ASCII strings (names, addresses): copied char by char, no intermediate
    // buffer; the first non-ASCII char abandons it for the UTF-8 encoder.
    const n = s.length;
    if (n < 128) {
      this.reserve(n + 1);
      const buf = this.buf;
      const start = this.len;
      buf[start] = n;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 1 + i] = c;
      }
      if (i === n) {
        this.len = start + 1 + n;
        return;
      }
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
    if (this.pos >= this.end) throw new GobError('truncated data: unexpected end of message');
    const first = this.bytes[this.pos++]!;
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
    const bytes = this.bytes;
    if (n <= 6) {
      // Below 2^48: exact as a number.
      let v = 0;
      for (let i = 0; i < n; i++) v = v * 256 + bytes[this.pos++]!;
      return BigInt(v);
    }
    // 7 or 8 bytes: the last four make the low 32 bits, the rest the high ones.
    let hi = 0;
    for (let i = 4; i < n; i++) hi = hi * 256 + bytes[this.pos++]!;
    const p = this.pos;
    const lo = bytes[p]! * 0x1000000 + ((bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!);
    this.pos = p + 4;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Whether the next unsigned integer (of any size, as Go reads a bool) is non-zero. */
  nonZeroUint(): boolean {
    const first = this.byte();
    if (first < 128) return first !== 0;
    const n = this.count(first);
    let nonZero = false;
    for (let i = 0; i < n; i++) if (this.bytes[this.pos++] !== 0) nonZero = true;
    return nonZero;
  }

  /** A signed integer that must be a safe JS integer. */
  int(): number {
    const start = this.pos;
    if (start < this.end) {
      const first = this.bytes[start]!;
      // Up to 6 bytes (below 2^48) the zig-zag form is exact as a number.
      if (first < 128 || first >= 250) {
        const u = this.uint();
        return u % 2 === 1 ? -(u - 1) / 2 - 1 : u / 2;
      }
    }
    const u = this.uint64();
    const v = u & 1n ? ~(u >> 1n) : u >> 1n;
    if (v > U64_SAFE || v < -U64_SAFE) {
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
    const out = copyOf(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.length('a string');
    const start = this.pos;
    this.pos += n;
    const bytes = this.bytes;
    if (n <= SHORT_STRING) {
      // Short ASCII strings (names, addresses) are the common case, and they repeat: hash them while
      // checking they are ASCII, and reuse the string last made from the same bytes.
      let h = n;
      let i = start;
      for (; i < start + n; i++) {
        const b = bytes[i]!;
        if (b >= 0x80) break;
        h = Math.imul(h ^ b, 0x01000193);
      }
      if (i === start + n) {
        const slot = (h ^ (h >>> 16)) & (RECENT_STRINGS - 1);
        const known = recentStrings[slot];
        if (known !== undefined && sameAscii(known, bytes, start, n)) return known;
        const made = String.fromCharCode.apply(null, bytes.subarray(start, start + n) as never);
        recentStrings[slot] = made;
        return made;
      }
    }
    return utf8Decoder.decode(bytes.subarray(start, start + n));
  }
}

/** Longest string the reader looks up in {@link recentStrings}. */
const SHORT_STRING = 64;
/** Slots in {@link recentStrings} (a power of two). */
const RECENT_STRINGS = 1024;
/**
 * Short ASCII strings recently decoded, one per slot by a hash of their bytes: a fixed-size memo, as
 * strings are immutable a reused one is indistinguishable from a new one. A collision just replaces.
 */
const recentStrings: (string | undefined)[] = new Array(RECENT_STRINGS).fill(undefined);

/** Whether `s` is the ASCII text `bytes[start, start + n)`. */
function sameAscii(s: string, bytes: Uint8Array, start: number, n: number): boolean {
  if (s.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

/** Whether `v` is an integer gob can carry as a signed 64-bit value. */
export function fitsInt64(v: bigint): boolean {
  return v >= I64_MIN && v <= I64_MAX;
}

/** Whether `v` is an integer gob can carry as an unsigned 64-bit value. */
export function fitsUint64(v: bigint): boolean {
  return v >= 0n && v <= U64_MAX;
}
