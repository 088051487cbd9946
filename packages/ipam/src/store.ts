/**
 * Where the allocator keeps what must survive a restart (upstream: BoltDB bucket `top`). Records are
 * named JSON values; the allocator writes `peername`, `ring` and one `ownedAddresses/<container>`
 * record per address holder (so an allocation rewrites one small record, not every holder's).
 *
 * Contract: `set` is synchronous and durable when it returns — after a crash, either every record of
 * one call is there or none is. The allocator relies on this to acknowledge an allocation only after
 * it was stored.
 */
export interface Store {
  /** The record stored under `key`, or `undefined`. */
  get(key: string): unknown;
  /** Names of every stored record. */
  keys(): string[];
  /**
   * Stores every given record in one atomic step; a value of `undefined` deletes that record.
   * Values must be JSON-serialisable.
   */
  set(records: Readonly<Record<string, unknown>>): void;
}

/** A {@link Store} in memory: for tests, benchmarks and peers that need no persistence. */
export class MemoryStore implements Store {
  readonly #records = new Map<string, string>();

  get(key: string): unknown {
    const text = this.#records.get(key);
    return text === undefined ? undefined : JSON.parse(text);
  }

  keys(): string[] {
    return [...this.#records.keys()];
  }

  set(records: Readonly<Record<string, unknown>>): void {
    // Stored as text so callers can never mutate what was persisted through a shared reference.
    for (const [key, value] of Object.entries(records)) {
      if (value === undefined) this.#records.delete(key);
      else this.#records.set(key, JSON.stringify(value));
    }
  }
}
