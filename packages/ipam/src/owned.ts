import { type Address, type CIDR, parseCIDR, type Range, rangeContains } from './address.js';
import { PersistedDataError } from './allocator-errors.js';

/** What one container (or other owner) holds, as upstream persists it (`ownedData`). */
export interface OwnedData {
  /** False for non-container owners (e.g. `weave:expose`), which pruning leaves alone. */
  isContainer: boolean;
  /** Addresses with the prefix length of the subnet they came from, in the order handed out. */
  cidrs: CIDR[];
}

/** The persisted form of one holder: `{ isContainer, cidrs: ["a.b.c.d/len", …] }`. */
export interface OwnedRecord {
  /** Whether the identifier is a container. */
  isContainer: boolean;
  /** The addresses it owns, `a.b.c.d/n`. */
  cidrs: string[];
}

/**
 * Who holds which address on this peer (upstream's `owned` map). Addresses outside the allocation
 * range can be recorded too (claims of foreign addresses).
 */
export class OwnedAddresses {
  readonly #byIdent = new Map<string, OwnedData>();

  /** Whether `ident` holds anything. */
  has(ident: string): boolean {
    return this.#byIdent.has(ident);
  }

  /** Every holder and what it holds. */
  entries(): IterableIterator<[string, OwnedData]> {
    return this.#byIdent.entries();
  }

  /** Records `cidr` for `ident` (which must not hold that address yet). */
  add(ident: string, cidr: CIDR, isContainer: boolean): void {
    const data = this.#byIdent.get(ident) ?? { isContainer, cidrs: [] };
    data.isContainer = isContainer;
    data.cidrs.push(cidr);
    this.#byIdent.set(ident, data);
  }

  /** Forgets everything `ident` holds and returns it. */
  removeAll(ident: string): CIDR[] {
    const data = this.#byIdent.get(ident);
    this.#byIdent.delete(ident);
    return data?.cidrs ?? [];
  }

  /** Forgets one address of `ident`; false if it did not hold it. */
  remove(ident: string, addr: Address): boolean {
    const data = this.#byIdent.get(ident);
    const i = data?.cidrs.findIndex((c) => c.addr === addr) ?? -1;
    if (!data || i < 0) return false;
    data.cidrs.splice(i, 1);
    if (data.cidrs.length === 0) this.#byIdent.delete(ident);
    return true;
  }

  /** What `ident` holds inside `range` (everything when no range is given). */
  inRange(ident: string, range?: Range): CIDR[] {
    const cidrs = this.#byIdent.get(ident)?.cidrs ?? [];
    return range ? cidrs.filter((c) => rangeContains(range, c.addr)) : [...cidrs];
  }

  /** The holder of `addr`, if any. */
  findOwner(addr: Address): string | undefined {
    for (const [ident, data] of this.#byIdent) {
      if (data.cidrs.some((c) => c.addr === addr)) return ident;
    }
    return undefined;
  }

  /** The persisted form of what `ident` holds, or `undefined` when it holds nothing. */
  recordOf(ident: string): OwnedRecord | undefined {
    const data = this.#byIdent.get(ident);
    return data && { isContainer: data.isContainer, cidrs: data.cidrs.map(cidrText) };
  }

  /** Parses persisted holders (`[ident, record]` pairs). @throws PersistedDataError */
  static fromRecords(records: Iterable<readonly [string, unknown]>): OwnedAddresses {
    const owned = new OwnedAddresses();
    for (const [ident, value] of records) {
      const { isContainer, cidrs } = (value ?? {}) as { isContainer?: unknown; cidrs?: unknown };
      if (typeof isContainer !== 'boolean' || !Array.isArray(cidrs) || cidrs.length === 0) {
        throw new PersistedDataError('ownedAddresses', `bad entry for ${ident}`);
      }
      for (const text of cidrs) {
        if (typeof text !== 'string') {
          throw new PersistedDataError('ownedAddresses', `bad address of ${ident}`);
        }
        try {
          owned.add(ident, parseCIDR(text), isContainer);
        } catch (error) {
          throw new PersistedDataError('ownedAddresses', (error as Error).message);
        }
      }
    }
    return owned;
  }
}

/** `a.b.c.d/len`, without a parser library's overhead (this runs on every persisted change). */
function cidrText(cidr: CIDR): string {
  const a = cidr.addr;
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${cidr.prefixLen}`;
}
