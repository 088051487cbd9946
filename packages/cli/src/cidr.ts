/** IPv4 CIDR arithmetic for argument checks. */

/** Parses `a.b.c.d[/len]` into [network start, size]; undefined when malformed. */
export function ipv4Range(cidr: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr);
  if (m === null) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || len > 32) return undefined;
  const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - len);
  return [addr - (addr % size), size];
}

/** Whether two IPv4 CIDRs share an address (false if either is malformed). */
export function cidrsOverlap(a: string, b: string): boolean {
  const ra = ipv4Range(a);
  const rb = ipv4Range(b);
  if (ra === undefined || rb === undefined) return false;
  return ra[0] < rb[0] + rb[1] && rb[0] < ra[0] + ra[1];
}
