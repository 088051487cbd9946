import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  biggestPow2AlignedRange,
  cidrEnd,
  cidrHostRange,
  cidrStart,
  formatAddress,
  formatCIDR,
  formatRange,
  makeRange,
  parseAddress,
  parseCIDR,
  parseSubnet,
  rangeAsCIDRString,
  rangeCIDRs,
  rangeContains,
  rangeSize,
  rangesOverlap,
} from '../src/address.js';
import {
  InvalidAddressError,
  InvalidCIDRError,
  SubnetHostBitsError,
  SubnetTooSmallError,
} from '../src/errors.js';

const ip = parseAddress;

describe('address conversions', () => {
  it('round-trips dotted quads through uint32 numbers', () => {
    expect(ip('10.0.0.1')).toBe(0x0a000001);
    expect(ip('255.255.255.255')).toBe(0xffffffff);
    expect(ip('0.0.0.0')).toBe(0);
    expect(formatAddress(0xac101080)).toBe('172.16.16.128');
    fc.assert(fc.property(fc.nat(0xffffffff), (n) => ip(formatAddress(n)) === n));
  });

  it('rejects what is not an IPv4 address', () => {
    for (const bad of ['', '1.2.3', '1.2.3.256', '::1', '10.0.0.0/8', 'x']) {
      expect(() => ip(bad)).toThrow(InvalidAddressError);
    }
    expect(() => ip('1.2.3')).toThrow('invalid IP Address: 1.2.3');
  });

  it('parses CIDRs keeping the address as written', () => {
    expect(parseCIDR('10.32.0.0/12')).toEqual({ addr: ip('10.32.0.0'), prefixLen: 12 });
    expect(parseCIDR('10.0.0.1/24')).toEqual({ addr: ip('10.0.0.1'), prefixLen: 24 });
    expect(formatCIDR(parseCIDR('172.16.16.0/24'))).toBe('172.16.16.0/24');
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0/8', '10.0.0.0/-1', '10.0.0.0/1x']) {
      expect(() => parseCIDR(bad)).toThrow(InvalidCIDRError);
    }
  });

  it('gives CIDR start, exclusive end and host range', () => {
    const c = parseCIDR('10.0.0.0/24');
    expect(cidrStart(c)).toBe(ip('10.0.0.0'));
    expect(cidrEnd(c)).toBe(ip('10.0.1.0'));
    expect(cidrHostRange(c)).toEqual({ start: ip('10.0.0.1'), end: ip('10.0.0.255') });
    expect(cidrStart(parseCIDR('10.0.0.77/24'))).toBe(ip('10.0.0.0'));
  });

  it('validates subnets the way the allocator does', () => {
    expect(parseSubnet('10.32.0.0/12')).toEqual({ addr: ip('10.32.0.0'), prefixLen: 12 });
    expect(() => parseSubnet('10.32.0.1/12')).toThrow(SubnetHostBitsError);
    expect(() => parseSubnet('10.32.0.1/12')).toThrow(
      'invalid subnet - bits after network prefix are not all zero: 10.32.0.1/12',
    );
    expect(() => parseSubnet('10.0.0.0/31')).toThrow(SubnetTooSmallError);
    expect(() => parseSubnet('10.0.0.0/31')).toThrow(
      'invalid subnet - smaller than minimum size 4: 10.0.0.0/31',
    );
    expect(parseSubnet('10.0.0.4/30').prefixLen).toBe(30);
  });
});

describe('ranges', () => {
  it('measures, overlaps, contains and prints', () => {
    const r = makeRange(ip('10.0.0.0'), 256);
    expect(rangeSize(r)).toBe(256);
    expect(rangeContains(r, ip('10.0.0.255'))).toBe(true);
    expect(rangeContains(r, ip('10.0.1.0'))).toBe(false);
    expect(rangesOverlap(r, makeRange(ip('10.0.0.255'), 2))).toBe(true);
    expect(rangesOverlap(r, makeRange(ip('10.0.1.0'), 2))).toBe(false);
    expect(formatRange(r)).toBe('10.0.0.0-10.0.0.255');
  });

  it('prints power-of-two ranges as CIDRs and others as first-last', () => {
    expect(rangeAsCIDRString(makeRange(ip('172.16.16.0'), 256))).toBe('172.16.16.0/24');
    expect(rangeAsCIDRString(makeRange(ip('172.64.65.0'), 256))).toBe('172.64.65.0/24');
    expect(rangeAsCIDRString(makeRange(ip('10.32.0.0'), 2 ** 20))).toBe('10.32.0.0/12');
    expect(rangeAsCIDRString(makeRange(ip('10.0.0.5'), 1))).toBe('10.0.0.5/32');
    expect(rangeAsCIDRString(makeRange(ip('10.0.0.0'), 254))).toBe('10.0.0.0-10.0.0.253');
  });

  it('covers a range with aligned CIDRs (upstream TestCIDRs vectors)', () => {
    const cidrs = (a: string, b: string) => rangeCIDRs({ start: ip(a), end: ip(b) }).map(formatCIDR);
    expect(cidrs('10.0.0.1', '10.0.0.9')).toEqual([
      '10.0.0.1/32',
      '10.0.0.2/31',
      '10.0.0.4/30',
      '10.0.0.8/32',
    ]);
    expect(cidrs('10.0.0.2', '10.0.0.9')).toEqual(['10.0.0.2/31', '10.0.0.4/30', '10.0.0.8/32']);
    expect(cidrs('192.168.1.1', '192.168.1.2')).toEqual(['192.168.1.1/32']);
    expect(cidrs('10.0.0.0', '10.0.1.0')).toEqual(['10.0.0.0/24']);
    expect(rangeCIDRs({ start: 0, end: 2 ** 32 }).map(formatCIDR)).toEqual(['0.0.0.0/0']);
  });

  it('covers any range exactly with aligned blocks', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(5000), (start, size) => {
        const range = makeRange(start, Math.min(size, 2 ** 32 - start));
        let next = range.start;
        for (const c of rangeCIDRs(range)) {
          const blockSize = 2 ** (32 - c.prefixLen);
          if (c.addr !== next || c.addr % blockSize !== 0) return false;
          next += blockSize;
        }
        return next === range.end;
      }),
    );
  });
});

describe('biggestPow2AlignedRange (upstream TestBiggestPow2AlignedRange)', () => {
  it('matches the upstream vectors', () => {
    expect(biggestPow2AlignedRange(makeRange(0, 1))).toEqual(makeRange(0, 1));
    expect(biggestPow2AlignedRange(makeRange(1, 2))).toEqual(makeRange(1, 1));
    expect(biggestPow2AlignedRange(makeRange(1, 3))).toEqual(makeRange(2, 2));
    expect(biggestPow2AlignedRange(makeRange(0, 0x7fffffff))).toEqual(makeRange(0, 0x40000000));
    expect(biggestPow2AlignedRange(makeRange(0xfffffffe, 1))).toEqual(makeRange(0xfffffffe, 1));
  });

  it('gives the §7.4 donation blocks', () => {
    // B's free space [.129, .256) and A's [.2, .128) in 172.16.16.0/24.
    const base = ip('172.16.16.0');
    expect(biggestPow2AlignedRange({ start: base + 129, end: base + 256 })).toEqual(
      makeRange(base + 192, 64),
    );
    expect(biggestPow2AlignedRange({ start: base + 2, end: base + 128 })).toEqual(makeRange(base + 64, 64));
  });

  it('is inside the range, a power of two, aligned, and more than a quarter of it', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), (start, rawSize) => {
        const size = Math.min(rawSize, 0xffffffff - start);
        fc.pre(size > 0);
        const range = makeRange(start, size);
        const block = biggestPow2AlignedRange(range);
        const blockSize = rangeSize(block);
        return (
          rangeContains(range, block.start) &&
          rangeContains(range, block.end - 1) &&
          Number.isInteger(Math.log2(blockSize)) &&
          blockSize > Math.floor(size / 4) &&
          block.start % blockSize === 0
        );
      }),
      { numRuns: 20_000 },
    );
  });
});
