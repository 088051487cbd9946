import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileStore, MemoryStore, type Store } from '@weave-ts/ipam';
import { PeerDataError } from './peer-errors.js';

/** The file in `dataDir` that holds everything a peer persists. */
export const PEER_DATA_FILE = 'weave-peer.json';

/** One of our own DNS records, as persisted and re-announced after a restart. */
export interface OwnDnsRecord {
  /** The container. */
  readonly containerId: string;
  /** Dotted IPv4 address. */
  readonly ip: string;
  /** Fully qualified name. */
  readonly hostname: string;
}

const NAME = 'peer/name';
const TARGETS = 'directPeers';
const DNS = 'peer/dnsEntries';

/**
 * What a peer keeps across restarts, in one store shared with its IPAM allocator (whose records are
 * `peername`, `ring`, `ownedAddresses/…`): our name, the direct targets, and our DNS records. Without
 * a `dataDir` it lives in memory, so an in-process restart still keeps it.
 */
export class PeerStore {
  /** The underlying store, handed to the allocator too. */
  readonly store: Store;
  /** The file, when persisted. */
  readonly path: string | undefined;

  constructor(dataDir?: string) {
    if (dataDir === undefined) {
      this.store = new MemoryStore();
      this.path = undefined;
      return;
    }
    try {
      mkdirSync(dataDir, { recursive: true });
      this.path = join(dataDir, PEER_DATA_FILE);
      this.store = new FileStore(this.path);
    } catch (cause) {
      throw new PeerDataError(`cannot use dataDir ${dataDir}: ${(cause as Error).message}`, { cause });
    }
  }

  /** The persisted peer name (ours, or the one IPAM saved its ring under). */
  get name(): string | undefined {
    const own = this.store.get(NAME);
    if (typeof own === 'string') return own;
    const ipam = this.store.get('peername');
    return typeof ipam === 'string' ? ipam : undefined;
  }

  set name(value: string) {
    if (this.store.get(NAME) !== value) this.store.set({ [NAME]: value });
  }

  /** The direct targets (`weave connect`), or undefined if never saved. */
  get targets(): string[] | undefined {
    const t = this.store.get(TARGETS);
    return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : undefined;
  }

  set targets(value: readonly string[]) {
    this.store.set({ [TARGETS]: [...value] });
  }

  /** Our own DNS records. */
  get dnsRecords(): OwnDnsRecord[] {
    const r = this.store.get(DNS);
    if (!Array.isArray(r)) return [];
    return r.filter(
      (x): x is OwnDnsRecord =>
        typeof x === 'object' &&
        x !== null &&
        typeof x.containerId === 'string' &&
        typeof x.ip === 'string' &&
        typeof x.hostname === 'string',
    );
  }

  set dnsRecords(value: readonly OwnDnsRecord[]) {
    this.store.set({ [DNS]: value.map((r) => ({ ...r })) });
  }

  /** Deletes everything persisted (`weave reset`). */
  clear(): void {
    if (this.path !== undefined) rmSync(this.path, { force: true });
    else this.store.set(Object.fromEntries(this.store.keys().map((k) => [k, undefined])));
  }
}
