import { InvalidIPv4Error } from './errors.js';

/**
 * IPv4 addresses as weaveDNS stores them: an unsigned 32-bit number (Go `address.Address`), which is
 * also how they travel in gossip and how entries sort.
 */

const OCTET = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** Parses `a.b.c.d` (no leading zeros, as Go's parser) into its 32-bit number. @throws InvalidIPv4Error */
export function parseIPv4(input: string): number {
  const parts = input.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) throw new InvalidIPv4Error(input);
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Formats a 32-bit number as `a.b.c.d`. */
export function formatIPv4(addr: number): string {
  return `${(addr >>> 24) & 255}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** Whether `n` is a valid 32-bit address number. */
export function isIPv4Number(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}
