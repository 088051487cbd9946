/**
 * A seeded byte mutator: every input is a valid seed from the target's corpus changed by a few random
 * edits (bit flips, interesting bytes and varints, inserts, deletes, duplicated ranges, truncation,
 * splices with another seed). The same seed number gives the same inputs, so a failure reproduces with
 * `--seed S --from I`.
 */

/** xorshift128+ over two 32-bit halves: fast, seedable, good enough for choosing mutations. */
export class Rng {
  private a: number;
  private b: number;
  constructor(seed: number) {
    this.a = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.b = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
    for (let i = 0; i < 8; i++) this.u32();
  }
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    let x = this.a;
    const y = this.b;
    this.a = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    this.b = x >>> 0;
    return (this.a + this.b) >>> 0;
  }
  /** A uniform integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.int(n) === 0;
  }
}

const INTERESTING = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0xf8, 0xf9, 0x40, 0x3f, 0x20, 0x10];

/** Gob-style and plain big-endian encodings of boundary numbers (lengths, counts, ids). */
function interestingNumber(rng: Rng): number[] {
  const values = [0, 1, 127, 128, 255, 256, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff, 2 ** 53 - 1];
  const v = values[rng.int(values.length)]!;
  switch (rng.int(4)) {
    case 0: {
      // gob uint
      if (v < 128) return [v];
      const bytes: number[] = [];
      for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
      return [256 - bytes.length, ...bytes];
    }
    case 1:
      return [(v >>> 8) & 0xff, v & 0xff];
    case 2:
      return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    default:
      return [0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff].slice(0, 1 + rng.int(9));
  }
}

/** One mutated input from `corpus` (never modifies the corpus). */
export function mutate(rng: Rng, corpus: readonly Uint8Array[], maxLen: number): Uint8Array {
  const seed = corpus[rng.int(corpus.length)]!;
  const out = Array.from(seed.subarray(0, maxLen));
  const edits = 1 + rng.int(rng.oneIn(4) ? 16 : 4);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(10)) {
      case 0:
        if (out.length > 0) out[at % out.length]! ^= 1 << rng.int(8);
        break;
      case 1:
        if (out.length > 0) out[at % out.length] = INTERESTING[rng.int(INTERESTING.length)]!;
        break;
      case 2:
        if (out.length > 0) out[at % out.length] = rng.int(256);
        break;
      case 3:
        out.splice(at, 0, ...interestingNumber(rng));
        break;
      case 4: {
        const n = 1 + rng.int(8);
        out.splice(at, 0, ...Array.from({ length: n }, () => rng.int(256)));
        break;
      }
      case 5:
        out.splice(at, 1 + rng.int(8));
        break;
      case 6: {
        // Duplicate a range (repeated structures, many definitions or elements).
        if (out.length === 0) break;
        const from = rng.int(out.length);
        const len = 1 + rng.int(Math.min(64, out.length - from));
        const copies = rng.oneIn(8) ? 1 + rng.int(64) : 1;
        const piece = out.slice(from, from + len);
        for (let c = 0; c < copies; c++) out.splice(at, 0, ...piece);
        break;
      }
      case 7:
        if (rng.oneIn(3)) out.length = rng.int(out.length + 1);
        break;
      case 8: {
        // Splice in part of another seed.
        const other = corpus[rng.int(corpus.length)]!;
        const from = rng.int(other.length + 1);
        out.splice(at, rng.int(8), ...other.subarray(from, from + 1 + rng.int(64)));
        break;
      }
      default: {
        if (out.length > 0) {
          const i = at % out.length;
          out[i] = (out[i]! + (rng.oneIn(2) ? 1 : -1)) & 0xff;
        }
      }
    }
  }
  if (out.length > maxLen) out.length = maxLen;
  return Uint8Array.from(out);
}
