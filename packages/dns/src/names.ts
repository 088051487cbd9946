/** Domain-name helpers shared by the record keeper and the server. Names are kept with a trailing dot. */

/** The reverse-lookup zone. */
export const REVERSE_ZONE = 'in-addr.arpa.';

/** `name` fully qualified: with exactly one trailing dot (`foo` → `foo.`, `.` stays `.`). */
export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** Whether lower-cased FQDN `name` is `domain` (lower-case FQDN) or below it. */
export function inDomain(name: string, domain: string): boolean {
  if (domain === '.') return true;
  return name === domain || (name.endsWith(domain) && name[name.length - domain.length - 1] === '.');
}

/** Whether FQDN `name` has a single label (`foo.`), which weaveDNS resolves in its own domain. */
export function isSingleLabel(name: string): boolean {
  return name.length > 1 && name.indexOf('.') === name.length - 1;
}

/**
 * The 32-bit address a reverse name stands for (`4.3.2.1.in-addr.arpa.` → 1.2.3.4), or `undefined`
 * unless it is exactly four decimal octets under `in-addr.arpa.` (any case).
 */
export function parseReverseName(name: string): number | undefined {
  const lower = fqdn(name).toLowerCase();
  if (!lower.endsWith(`.${REVERSE_ZONE}`)) return undefined;
  const parts = lower.slice(0, -REVERSE_ZONE.length - 1).split('.');
  if (parts.length !== 4) return undefined;
  let addr = 0;
  for (let i = 3; i >= 0; i--) {
    const p = parts[i]!;
    if (!/^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/.test(p)) return undefined;
    addr = addr * 256 + Number(p);
  }
  return addr;
}
