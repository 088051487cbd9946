import type { Random } from '../random.js';

/**
 * A reproducible {@link Random}: xoshiro128** seeded through splitmix32. The same seed yields the same
 * sequence on every platform, so a failing simulation can be replayed. Not cryptographically secure.
 */
export class SeededRandom implements Random {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** `seed` is any 32-bit integer (other numbers are truncated to one). */
  constructor(seed = 1) {
    let x = seed | 0;
    const next = (): number => {
      // splitmix32: spreads a small seed over all 128 bits of state (never all zero).
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** The next unsigned 32-bit output. */
  uint32(): number {
    const s0 = this.#s0;
    const s1 = this.#s1;
    const s2 = this.#s2;
    const s3 = this.#s3;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.#s1 = s1 ^ n2;
    this.#s0 = s0 ^ n3;
    this.#s2 = n2 ^ t;
    this.#s3 = rotl(n3, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * An integer in [0, n); `n` must be a positive safe integer. Unbiased (rejection sampling) for
   * n ≤ 2^32.
   * @throws RangeError for any other `n`
   */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new RangeError(`int(n) needs a positive safe integer, got ${n}`);
    if (n > 2 ** 32) return Math.floor(this.float() * n);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const v = this.uint32();
      if (v < limit) return v % n;
    }
  }

  /** `n` pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let v = this.uint32();
      for (let j = i; j < Math.min(i + 4, n); j++) {
        out[j] = v & 0xff;
        v >>>= 8;
      }
    }
    return out;
  }

  /** An independent generator seeded from this one: one per simulated peer keeps runs reproducible. */
  fork(): SeededRandom {
    return new SeededRandom(this.uint32() | 0);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
