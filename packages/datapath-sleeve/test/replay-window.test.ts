import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayWindow } from '../src/index.js';

const BLOCK = 2 ** 20;
const accept = (w: ReplayWindow, seq: number) => w.accept(Math.floor(seq / 2 ** 32), seq >>> 0);

describe('ReplayWindow', () => {
  it('accepts each number once', () => {
    const w = new ReplayWindow();
    expect(accept(w, 0)).toBe(true);
    expect(accept(w, 0)).toBe(false);
    expect(accept(w, 5)).toBe(true);
    expect(accept(w, 1)).toBe(true);
    expect(accept(w, 5)).toBe(false);
  });

  it('keeps the previous block when sliding by one, forgets older ones', () => {
    const w = new ReplayWindow();
    expect(accept(w, 3)).toBe(true);
    expect(accept(w, BLOCK + 7)).toBe(true); // slides: block 0 becomes "previous"
    expect(accept(w, 4)).toBe(true);
    expect(accept(w, 3)).toBe(false);
    expect(accept(w, 2 * BLOCK)).toBe(true); // slides again: block 0 is now too old
    expect(accept(w, 5)).toBe(false);
    expect(accept(w, BLOCK + 8)).toBe(true);
    expect(accept(w, BLOCK + 7)).toBe(false);
  });

  it('resets both halves after a jump of more than one block (a long loss gap)', () => {
    const w = new ReplayWindow();
    expect(accept(w, 10)).toBe(true);
    expect(accept(w, 5 * BLOCK + 1)).toBe(true);
    expect(accept(w, 4 * BLOCK + 9)).toBe(true); // the fresh previous block
    expect(accept(w, 10)).toBe(false); // far below the window
  });

  it('handles sequence numbers beyond 2^32', () => {
    const w = new ReplayWindow();
    const big = 2 ** 40 + 12345;
    expect(accept(w, big)).toBe(true);
    expect(accept(w, big)).toBe(false);
    expect(accept(w, big - BLOCK)).toBe(true);
    expect(accept(w, big - 3 * BLOCK)).toBe(false);
  });

  it('agrees with a model: fresh within two blocks of the highest block seen (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 * BLOCK }), { maxLength: 80 }), (seqs) => {
        const w = new ReplayWindow();
        const seen = new Set<number>();
        let highestBlock = 0;
        for (const seq of seqs) {
          const block = Math.floor(seq / BLOCK);
          const inWindow = block >= highestBlock - 1;
          const expected = inWindow && !seen.has(seq);
          expect(accept(w, seq)).toBe(expected);
          if (expected) {
            seen.add(seq);
            highestBlock = Math.max(highestBlock, block);
          }
        }
      }),
    );
  });
});
