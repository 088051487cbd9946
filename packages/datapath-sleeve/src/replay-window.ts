/**
 * Duplicate and replay detection for one direction of encrypted sleeve traffic
 * (`NaClDecryptorInstance.advanceState` upstream).
 *
 * Sequence numbers are tracked in a window of 2 × 2^20 numbers: two bit sets, for the current block
 * of 2^20 and the one before. A number in a later block slides the window so that the current set
 * holds the highest number seen, however far ahead it is (packet loss leaves gaps). Numbers below the
 * window count as duplicates. Record a number only after its packet authenticated, or a forged
 * number could push the window past all genuine traffic.
 */

/** log2 of the block size (upstream `WindowSize`). */
export const REPLAY_WINDOW_BITS = 20;

const OFFSET_MASK = (1 << REPLAY_WINDOW_BITS) - 1;
const PAGE_BITS = 12;
const PAGE_WORDS = (1 << PAGE_BITS) / 32;
const PAGES = 1 << (REPLAY_WINDOW_BITS - PAGE_BITS);

/** A set of 2^20 bits whose 512-byte pages are allocated on first use (traffic fills few of them). */
class PagedBitSet {
  private readonly pages: (Uint32Array | undefined)[] = new Array(PAGES);

  has(bit: number): boolean {
    const page = this.pages[bit >>> PAGE_BITS];
    if (!page) return false;
    const inPage = bit & ((1 << PAGE_BITS) - 1);
    return (page[inPage >>> 5]! & (1 << (inPage & 31))) !== 0;
  }

  add(bit: number): void {
    const index = bit >>> PAGE_BITS;
    let page = this.pages[index];
    if (!page) {
      page = new Uint32Array(PAGE_WORDS);
      this.pages[index] = page;
    }
    const inPage = bit & ((1 << PAGE_BITS) - 1);
    page[inPage >>> 5]! |= 1 << (inPage & 31);
  }
}

/** The sliding window of one decryptor instance (DF or non-DF). */
export class ReplayWindow {
  private currentBlock = 0;
  private current = new PagedBitSet();
  private previous: PagedBitSet | undefined;

  /**
   * Records sequence number `high · 2^32 + low` (`high` < 2^31, the DF bit already removed) and
   * returns true, or returns false if it was seen before or lies below the window.
   */
  accept(high: number, low: number): boolean {
    const block = high * 2 ** (32 - REPLAY_WINDOW_BITS) + (low >>> REPLAY_WINDOW_BITS);
    const offset = low & OFFSET_MASK;
    const delta = block - this.currentBlock;
    let set: PagedBitSet | undefined;
    if (delta < -1) {
      set = undefined;
    } else if (delta === -1) {
      set = this.previous;
    } else if (delta === 0) {
      set = this.current;
    } else {
      this.previous = delta === 1 ? this.current : new PagedBitSet();
      this.current = new PagedBitSet();
      this.currentBlock = block;
      set = this.current;
    }
    if (!set || set.has(offset)) return false;
    set.add(offset);
    return true;
  }
}
