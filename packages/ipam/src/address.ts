import { Address4 } from 'ip-address';
import { InvalidAddressError, InvalidCIDRError, SubnetHostBitsError, SubnetTooSmallError } from './errors.js';

/**
 * IPv4 arithmetic for IPAM, matching upstream `net/address`: an address is its 32-bit value as a plain
 * number, ranges are half-open `[start, end)`. Ends may be 2^32 (a range reaching 255.255.255.255);
 * upstream's uint32 would wrap there, a case no real `--ipalloc-range` reaches.
 */

/** An IPv4 address as an unsigned 32-bit number. */
export type Address = number;

/** A block of addresses `[start, end)`; `start <= end`. */
export interface Range {
  /** First address of the range, as a 32-bit number. */
  readonly start: Address;
  /** One past the last address of the range. */
  readonly end: Address;
}

/** An address with a prefix length, as written (`10.32.0.0/12`); `addr` may have host bits set. */
export interface CIDR {
  /** The address, as a 32-bit number. */
  readonly addr: Address;
  /** The prefix length (0–32). */
  readonly prefixLen: number;
}

/** Smallest subnet containers may be allocated from: network + one host + broadcast + one spare. */
export const MIN_SUBNET_SIZE = 4;

const ADDRESS_SPACE = 2 ** 32;

/** Parses a dotted-quad IPv4 address. @throws InvalidAddressError */
export function parseAddress(text: string): Address {
  if (text.includes('/')) throw new InvalidAddressError(text);
  try {
    return Number(new Address4(text).bigInt());
  } catch {
    throw new InvalidAddressError(text);
  }
}

/** The dotted-quad form of an address. */
export function formatAddress(addr: Address): string {
  return Address4.fromInteger(addr % ADDRESS_SPACE).correctForm();
}

/**
 * Parses `a.b.c.d/len`, keeping the address as written (host bits and all), as Go's `ParseCIDR`
 * callers in upstream IPAM do. @throws InvalidCIDRError
 */
export function parseCIDR(text: string): CIDR {
  const slash = text.indexOf('/');
  if (slash < 0 || !/^\d{1,2}$/.test(text.slice(slash + 1))) throw new InvalidCIDRError(text);
  const prefixLen = Number(text.slice(slash + 1));
  if (prefixLen > 32) throw new InvalidCIDRError(text);
  try {
    return { addr: parseAddress(text.slice(0, slash)), prefixLen };
  } catch {
    throw new InvalidCIDRError(text);
  }
}

/**
 * Parses a subnet to allocate from: no host bits, at least {@link MIN_SUBNET_SIZE} addresses.
 * @throws InvalidCIDRError | SubnetHostBitsError | SubnetTooSmallError
 */
export function parseSubnet(text: string): CIDR {
  const cidr = parseCIDR(text);
  if (cidrSize(cidr) < MIN_SUBNET_SIZE) throw new SubnetTooSmallError(text, MIN_SUBNET_SIZE);
  if (!isSubnet(cidr)) throw new SubnetHostBitsError(text);
  return cidr;
}

/** `a.b.c.d/len`. */
export function formatCIDR(cidr: CIDR): string {
  return `${formatAddress(cidr.addr)}/${cidr.prefixLen}`;
}

/** Number of addresses the prefix covers. */
export function cidrSize(cidr: CIDR): number {
  return 2 ** (32 - cidr.prefixLen);
}

/** True when the address has no bits set after the prefix. */
export function isSubnet(cidr: CIDR): boolean {
  return cidr.addr % cidrSize(cidr) === 0;
}

/** First address of the block the CIDR names (its network address). */
export function cidrStart(cidr: CIDR): Address {
  return cidr.addr - (cidr.addr % cidrSize(cidr));
}

/** Exclusive end of the block the CIDR names. */
export function cidrEnd(cidr: CIDR): Address {
  return cidrStart(cidr) + cidrSize(cidr);
}

/** `[addr, addr + size)` — starting at the address as written, as upstream's `CIDR.Range()`. */
export function cidrRange(cidr: CIDR): Range {
  return makeRange(cidr.addr, cidrSize(cidr));
}

/** Addresses usable by hosts: the block without its first and last address (RFC 1122). */
export function cidrHostRange(cidr: CIDR): Range {
  return makeRange(cidr.addr + 1, cidrSize(cidr) - 2);
}

/** The CIDR with `subnet`'s prefix length around `addr` (how allocations are recorded and returned). */
export function makeCIDR(subnet: CIDR, addr: Address): CIDR {
  return { addr, prefixLen: subnet.prefixLen };
}

/** `[start, start + size)`. */
export function makeRange(start: Address, size: number): Range {
  return { start, end: start + size };
}

/** Number of addresses in the range. */
export function rangeSize(range: Range): number {
  return range.end - range.start;
}

/** True when the ranges share at least one address. */
export function rangesOverlap(a: Range, b: Range): boolean {
  return !(a.start >= b.end || a.end <= b.start);
}

/** True when `addr` lies in the range. */
export function rangeContains(range: Range, addr: Address): boolean {
  return addr >= range.start && addr < range.end;
}

/** `first-last` with an inclusive last address, as upstream prints ranges. */
export function formatRange(range: Range): string {
  return `${formatAddress(range.start)}-${formatAddress(range.end - 1)}`;
}

/**
 * The range as `a.b.c.d/len` when its size is a power of two, else as {@link formatRange}. Like
 * upstream, alignment is not checked: this is for printing, e.g. in `Incompatible IP allocation ranges`.
 */
export function rangeAsCIDRString(range: Range): string {
  const size = rangeSize(range);
  if (size > 1 && !isPowerOfTwo(size)) return formatRange(range);
  const prefixLen = size > 1 ? 32 - Math.log2(size) : 32;
  return formatCIDR({ addr: range.start, prefixLen });
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** The largest power of two not above `n` (0 for 0). */
function highestPowerOfTwo(n: number): number {
  if (n <= 0) return 0;
  if (n >= ADDRESS_SPACE) return ADDRESS_SPACE;
  return 2 ** (31 - Math.clz32(n));
}

/**
 * A large block inside `range` that is a power of two in size and aligned to its size — what a peer
 * donates. Exactly upstream's `BiggestCIDRRange`: with `m` = highest power of two ≤ size, take the
 * `m`-aligned block of size `m` if the range holds one, else an aligned block of `m/2` (the lower one
 * when it fits before the next `m` boundary). Always larger than a quarter of the range. An empty range
 * gives an empty range.
 */
export function biggestPow2AlignedRange(range: Range): Range {
  const size = rangeSize(range);
  const sizeMsb = highestPowerOfTwo(size);
  if (sizeMsb === 0) return { start: range.start, end: range.start };
  const maskedSize = size % sizeMsb;
  const maskedStart = range.start % sizeMsb;
  if (maskedStart === 0) return makeRange(range.start, sizeMsb);
  if (sizeMsb - maskedStart <= maskedSize) return makeRange(range.start + sizeMsb - maskedStart, sizeMsb);
  const half = sizeMsb / 2;
  if (half >= maskedStart) return makeRange(range.start + half - maskedStart, half);
  return makeRange(range.start + sizeMsb - maskedStart, half);
}

/** The shortest list of aligned CIDR blocks that exactly cover the range, in address order. */
export function rangeCIDRs(range: Range): CIDR[] {
  const result: CIDR[] = [];
  let start = range.start;
  while (start < range.end) {
    // Grow the block while it stays aligned at `start` and inside the range.
    let size = 1;
    while (size < ADDRESS_SPACE && start % (size * 2) === 0 && start + size * 2 <= range.end) size *= 2;
    result.push({ addr: start, prefixLen: 32 - Math.log2(size) });
    start += size;
  }
  return result;
}
