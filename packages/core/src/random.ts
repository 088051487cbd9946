import { randomBytes, randomInt } from 'node:crypto';

/** Randomness as components see it; injected so simulations are reproducible. */
export interface Random {
  /** A float in [0, 1). */
  float(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/** Cryptographically strong randomness from node:crypto. */
export const systemRandom: Random = {
  float: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
  int: (n) => randomInt(0, n),
  bytes: (n) => new Uint8Array(randomBytes(n)),
};

/** A uniformly random unsigned 64-bit integer. */
export function randomUint64(random: Random): bigint {
  const b = random.bytes(8);
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}
