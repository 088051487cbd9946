import { type Address, biggestPow2AlignedRange, formatAddress, type Range, rangeSize } from './address.js';
import { AddressAlreadyFreeError, AddressNotFreeError, AddressNotOursError } from './errors.js';

/**
 * The address space one peer owns (upstream `ipam/space`): which addresses are handed out and which
 * are free. Both sets are kept as sorted boundary lists: even positions start a range (inclusive), odd
 * positions end it (exclusive); neighbouring ranges are always coalesced, so boundaries never repeat.
 */
export class Space {
  /** Handed-out addresses. */
  #ours: Address[] = [];
  /** Free addresses. */
  #free: Address[] = [];

  /** Adds `[start, start + size)` as free space. */
  add(start: Address, size: number): void {
    this.#free = rangeSetAdd(this.#free, start, start + size);
  }

  /** Adds every range as free space. */
  addRanges(ranges: readonly Range[]): void {
    for (const r of ranges) this.#free = rangeSetAdd(this.#free, r.start, r.end);
  }

  /**
   * Given everything we should own (e.g. the ring's owned ranges after a merge), adds the parts we do
   * not know yet as free space. Never removes space.
   */
  updateRanges(ranges: readonly Range[]): void {
    let added: Address[] = [];
    for (const r of ranges) added = rangeSetAdd(added, r.start, r.end);
    const everything = this.#everything();
    for (let i = 0; i < everything.length; i += 2) {
      added = rangeSetSubtract(added, everything[i]!, everything[i + 1]!);
    }
    for (let i = 0; i < added.length; i += 2) this.#free = rangeSetAdd(this.#free, added[i]!, added[i + 1]!);
  }

  /** Forgets all space (on shutdown, after handing it to an heir). */
  clear(): void {
    this.#ours = [];
    this.#free = [];
  }

  /** Hands out the lowest free address inside `range`, or returns `undefined` if there is none. */
  allocate(range: Range): Address | undefined {
    let result: Address | undefined;
    this.#walkFree(range, (chunk) => {
      result = chunk.start;
      return true;
    });
    if (result !== undefined) this.#takeAddress(result);
    return result;
  }

  /** Hands out this specific address. @throws AddressNotFreeError */
  claim(addr: Address): void {
    if (!rangeSetContains(this.#free, addr)) throw new AddressNotFreeError(addr);
    this.#takeAddress(addr);
  }

  /** Returns a handed-out address to the free set. @throws AddressNotOursError | AddressAlreadyFreeError */
  free(addr: Address): void {
    if (!rangeSetContains(this.#ours, addr)) throw new AddressNotOursError(addr);
    if (rangeSetContains(this.#free, addr)) throw new AddressAlreadyFreeError(addr);
    this.#ours = rangeSetSubtract(this.#ours, addr, addr + 1);
    this.#free = rangeSetAdd(this.#free, addr, addr + 1);
  }

  #takeAddress(addr: Address): void {
    this.#ours = rangeSetAdd(this.#ours, addr, addr + 1);
    this.#free = rangeSetSubtract(this.#free, addr, addr + 1);
  }

  /** Number of handed-out addresses. */
  numOwnedAddresses(): number {
    return rangeSetSize(this.#ours);
  }

  /** Number of free addresses. */
  numFreeAddresses(): number {
    return rangeSetSize(this.#free);
  }

  /** Number of free addresses inside `range`. */
  numFreeAddressesInRange(range: Range): number {
    let total = 0;
    this.#walkFree(range, (chunk) => {
      total += rangeSize(chunk);
      return false;
    });
    return total;
  }

  /**
   * The best block to give away inside `range`: over the free chunks in address order, the largest
   * power-of-two-aligned block of each chunk, keeping the latest among equals. Empty when nothing is free.
   */
  biggestFreeRange(range: Range): Range {
    let biggest: Range = { start: 0, end: 0 };
    this.#walkFree(range, (chunk) => {
      if (rangeSize(chunk) >= rangeSize(biggest)) {
        const aligned = biggestPow2AlignedRange(chunk);
        if (rangeSize(aligned) >= rangeSize(biggest)) biggest = aligned;
      }
      return false;
    });
    return biggest;
  }

  /**
   * Gives away free space inside `range` for another peer: {@link Space.biggestFreeRange}, but only its
   * upper half when it is more than half of our free space in `range` (rounding so it is never empty).
   * The block leaves this space. Returns `undefined` when nothing is free there.
   */
  donate(range: Range): Range | undefined {
    const biggest = this.biggestFreeRange(range);
    const size = rangeSize(biggest);
    if (size === 0) return undefined;
    let start = biggest.start;
    if (size > Math.floor(this.numFreeAddressesInRange(range) / 2)) start += Math.floor(size / 2);
    this.#ours = rangeSetSubtract(this.#ours, start, biggest.end);
    this.#free = rangeSetSubtract(this.#free, start, biggest.end);
    return { start, end: biggest.end };
  }

  /** Everything we own, handed out or free, as coalesced ranges in address order. */
  ownedRanges(): Range[] {
    const everything = this.#everything();
    const result: Range[] = [];
    for (let i = 0; i < everything.length; i += 2)
      result.push({ start: everything[i]!, end: everything[i + 1]! });
    return result;
  }

  /** Handed-out and free boundaries as plain ranges (for tests and diagnostics). */
  snapshot(): {
    /** The ranges this peer owns. */
    ours: Range[];
    /** The free ranges among them. */
    free: Range[];
  } {
    return { ours: toRanges(this.#ours), free: toRanges(this.#free) };
  }

  /** `owned: a+n … free: b+m …`, as upstream prints a space. */
  toString(): string {
    const part = (label: string, set: Address[]) =>
      set.length === 0
        ? ''
        : `${label}:${toRanges(set)
            .map((r) => ` ${formatAddress(r.start)}+${rangeSize(r)} `)
            .join('')}`;
    const text = part('owned', this.#ours) + part('free', this.#free);
    return text === '' ? 'No address ranges owned' : text;
  }

  #everything(): Address[] {
    let all = [...this.#ours];
    for (let i = 0; i < this.#free.length; i += 2) all = rangeSetAdd(all, this.#free[i]!, this.#free[i + 1]!);
    return all;
  }

  /** Calls `visit` on each free chunk clipped to `range`, in address order, until it returns true. */
  #walkFree(range: Range, visit: (chunk: Range) => boolean): void {
    if (range.start >= range.end) return;
    for (let i = 0; i < this.#free.length; i += 2) {
      const start = this.#free[i]!;
      const end = this.#free[i + 1]!;
      if (end <= range.start) continue;
      if (start >= range.end) return;
      if (visit({ start: Math.max(start, range.start), end: Math.min(end, range.end) })) return;
    }
  }
}

function toRanges(set: readonly Address[]): Range[] {
  const result: Range[] = [];
  for (let i = 0; i < set.length; i += 2) result.push({ start: set[i]!, end: set[i + 1]! });
  return result;
}

function rangeSetSize(set: readonly Address[]): number {
  let total = 0;
  for (let i = 0; i < set.length; i += 2) total += set[i + 1]! - set[i]!;
  return total;
}

/** Index of the first boundary `> x` (orEqual: `>= x`). */
function search(set: readonly Address[], x: Address, orEqual: boolean): number {
  let lo = 0;
  let hi = set.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = set[mid]!;
    if (v > x || (orEqual && v === x)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** True when `addr` lies in the boundary-list set: an odd number of boundaries are ≤ it. */
export function rangeSetContains(set: readonly Address[], addr: Address): boolean {
  return (search(set, addr, false) & 1) === 1;
}

/** The union of a boundary-list set with `[start, end)`, as a new list. */
export function rangeSetAdd(set: readonly Address[], start: Address, end: Address): Address[] {
  return addOrSubtract(set, start, end, 0);
}

/** The boundary-list set minus `[start, end)`, as a new list. */
export function rangeSetSubtract(set: readonly Address[], start: Address, end: Address): Address[] {
  return addOrSubtract(set, start, end, 1);
}

/**
 * Boundaries before `start` and after `end` stay; those in between go. `start`/`end` become boundaries
 * when they fall outside (adding, parity 0) or inside (subtracting, parity 1) the existing ranges.
 */
function addOrSubtract(set: readonly Address[], start: Address, end: Address, parity: 0 | 1): Address[] {
  const startPos = search(set, start, true);
  const endPos = Math.max(startPos, search(set, end, false));
  const result = set.slice(0, startPos);
  if ((startPos & 1) === parity) result.push(start);
  if ((endPos & 1) === parity) result.push(end);
  for (let i = endPos; i < set.length; i++) result.push(set[i]!);
  return result;
}
