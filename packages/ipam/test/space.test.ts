import { describe, expect, it } from 'vitest';
import { formatAddress, makeRange, parseAddress, rangeSize } from '../src/address.js';
import { AddressAlreadyFreeError, AddressNotFreeError, AddressNotOursError } from '../src/errors.js';
import { rangeSetAdd, rangeSetContains, rangeSetSubtract, Space } from '../src/space.js';

const ip = parseAddress;

function spaceOf(start: number, size: number): Space {
  const space = new Space();
  space.add(start, size);
  return space;
}

describe('boundary-list sets (upstream TestLowlevel)', () => {
  it('adds and subtracts ranges, coalescing neighbours', () => {
    let a: number[] = [];
    a = rangeSetAdd(a, 100, 200);
    expect(a).toEqual([100, 200]);
    expect([99, 100, 199, 200].map((x) => rangeSetContains(a, x))).toEqual([false, true, true, false]);
    const steps: ['add' | 'sub', number, number, number[]][] = [
      ['add', 700, 800, [100, 200, 700, 800]],
      ['add', 300, 400, [100, 200, 300, 400, 700, 800]],
      ['add', 400, 500, [100, 200, 300, 500, 700, 800]],
      ['add', 600, 700, [100, 200, 300, 500, 600, 800]],
      ['add', 500, 600, [100, 200, 300, 800]],
      ['sub', 500, 600, [100, 200, 300, 500, 600, 800]],
      ['sub', 600, 700, [100, 200, 300, 500, 700, 800]],
      ['sub', 400, 500, [100, 200, 300, 400, 700, 800]],
      ['sub', 300, 400, [100, 200, 700, 800]],
      ['sub', 700, 800, [100, 200]],
      ['sub', 100, 200, []],
    ];
    for (const [op, start, end, expected] of steps) {
      a = op === 'add' ? rangeSetAdd(a, start, end) : rangeSetSubtract(a, start, end);
      expect(a).toEqual(expected);
    }
  });

  it('allocates, claims, frees and donates at the low level', () => {
    const s = new Space();
    expect(s.numFreeAddresses()).toBe(0);
    expect(s.allocate(makeRange(0, 1000))).toBeUndefined();

    s.add(100, 100);
    expect(s.numFreeAddresses()).toBe(100);
    expect(s.allocate(makeRange(0, 1000))).toBe(100);
    expect(s.numFreeAddresses()).toBe(99);
    s.claim(150);
    expect(s.numFreeAddresses()).toBe(98);
    s.free(100);
    expect(s.numFreeAddresses()).toBe(99);
    expect(() => s.free(0)).toThrow(AddressNotOursError);
    expect(() => s.free(100)).toThrow(AddressNotOursError);
    expect(() => s.claim(150)).toThrow(AddressNotFreeError);

    // Free: [100,150) and [151,200). Biggest aligned block is [160,192); 32 > 99/2 is false, so all of it.
    expect(s.donate(makeRange(0, 1000))).toEqual(makeRange(0xa0, 0x20));

    // When addresses are scarce.
    const scarce = new Space();
    expect(scarce.donate(makeRange(0, 1000))).toBeUndefined();
    scarce.add(0, 3);
    scarce.claim(0);
    scarce.claim(2);
    expect(scarce.donate(makeRange(0, 1000))).toEqual(makeRange(1, 1));
    expect(scarce.donate(makeRange(0, 1000))).toBeUndefined();
  });
});

describe('Space', () => {
  it('allocates the lowest free address and counts (upstream TestSpaceAllocate)', () => {
    const start = ip('10.0.3.4');
    const space = spaceOf(start, 20);
    expect(space.numFreeAddresses()).toBe(20);
    expect(space.numOwnedAddresses()).toBe(0);

    const first = space.allocate(makeRange(start, 20));
    expect(formatAddress(first!)).toBe('10.0.3.4');
    expect([space.numFreeAddresses(), space.numOwnedAddresses()]).toEqual([19, 1]);

    const second = space.allocate(makeRange(start, 20));
    expect(second).not.toBe(first);
    expect([space.numFreeAddresses(), space.numOwnedAddresses()]).toEqual([18, 2]);
    expect(space.numFreeAddressesInRange({ start: ip('10.0.3.4'), end: ip('10.0.3.19') })).toBe(13);
    expect(space.numFreeAddressesInRange({ start: ip('10.0.3.4'), end: ip('10.0.9.19') })).toBe(18);

    space.free(second!);
    expect(() => space.free(second!)).toThrow(AddressNotOursError);
    expect(() => space.free(ip('10.0.3.19'))).toThrow(AddressNotOursError);
    expect(() => space.free(ip('10.0.9.19'))).toThrow(AddressNotOursError);
  });

  it('reports an address freed twice while it is ours as already free', () => {
    const space = spaceOf(ip('10.0.0.0'), 4);
    space.allocate(makeRange(ip('10.0.0.0'), 4));
    space.add(ip('10.0.0.0'), 1); // the same address also added as free: inconsistent caller
    expect(() => space.free(ip('10.0.0.0'))).toThrow(AddressAlreadyFreeError);
  });

  it('picks the biggest free block as addresses come back (upstream TestSpaceFree)', () => {
    const start = ip('10.0.3.16');
    const whole = makeRange(start, 16);
    const space = spaceOf(start, 16);
    expect(space.biggestFreeRange(whole)).toEqual(whole);

    for (let i = 0; i < 16; i++) expect(space.allocate(whole)).toBeDefined();
    expect(space.allocate(whole)).toBeUndefined();
    expect(space.donate(whole)).toBeUndefined();

    space.free(ip('10.0.3.23'));
    expect(space.biggestFreeRange(whole)).toEqual(makeRange(ip('10.0.3.23'), 1));
    space.free(ip('10.0.3.31'));
    expect(space.biggestFreeRange(whole)).toEqual(makeRange(ip('10.0.3.31'), 1));
    space.free(ip('10.0.3.30'));
    space.free(ip('10.0.3.29'));
    expect(space.numFreeAddresses()).toBe(4);
    expect(space.biggestFreeRange(whole)).toEqual(makeRange(ip('10.0.3.30'), 2));

    space.free(ip('10.0.3.24'));
    space.free(ip('10.0.3.22'));
    space.free(ip('10.0.3.21'));
    expect(space.numFreeAddresses()).toBe(7);
    expect(space.biggestFreeRange(whole)).toEqual(makeRange(ip('10.0.3.30'), 2));
    expect(space.ownedRanges()).toEqual([{ start: ip('10.0.3.16'), end: ip('10.0.3.32') }]);
  });

  it('donates the upper half first, then the rest (upstream TestDonateSimple)', () => {
    const start = ip('10.0.1.0');
    const space = spaceOf(start, 64);
    const first = space.donate(makeRange(start, 64))!;
    expect(formatAddress(first.start)).toBe('10.0.1.32');
    expect(rangeSize(first)).toBe(32);
    expect(space.numFreeAddresses()).toBe(32);

    let given = rangeSize(first);
    for (let n = 0; n < 1000; n++) {
      const r = space.donate(makeRange(start, 64));
      if (!r) break;
      given += rangeSize(r);
    }
    expect(space.numFreeAddresses()).toBe(0);
    expect(given).toBe(64);
  });

  it('donates an aligned block from fragmented space (upstream TestDonateHard)', () => {
    const start = ip('10.0.1.0');
    const space = spaceOf(start, 48);
    for (let i = 0; i < 48; i++) expect(space.allocate(makeRange(start, 48))).toBeDefined();
    expect(space.numFreeAddresses()).toBe(0);
    for (let i = 0; i < 47; i++) space.free(start + i);

    expect(space.donate(makeRange(start, 48))).toEqual(makeRange(ip('10.0.1.16'), 16));
    expect(space.numFreeAddresses()).toBe(31);
    expect(space.snapshot()).toEqual({
      ours: [{ start: ip('10.0.1.47'), end: ip('10.0.1.48') }],
      free: [
        { start: ip('10.0.1.0'), end: ip('10.0.1.16') },
        { start: ip('10.0.1.32'), end: ip('10.0.1.47') },
      ],
    });
  });

  it('adds only unknown space when told what it owns', () => {
    const space = spaceOf(ip('10.0.0.0'), 8);
    space.claim(ip('10.0.0.3'));
    space.updateRanges([{ start: ip('10.0.0.0'), end: ip('10.0.0.16') }]);
    expect(space.numFreeAddresses()).toBe(15);
    expect(space.numOwnedAddresses()).toBe(1);
    expect(space.ownedRanges()).toEqual([{ start: ip('10.0.0.0'), end: ip('10.0.0.16') }]);
    expect(space.toString()).toBe('owned: 10.0.0.3+1 free: 10.0.0.0+3  10.0.0.4+12 ');
    space.clear();
    expect(space.toString()).toBe('No address ranges owned');
  });
});
