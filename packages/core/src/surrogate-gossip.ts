import type { Clock } from './clock.js';
import type { GossipData, GossipReceiver } from './gossip.js';
import type { PeerName } from './peer-name.js';

/**
 * Relays a channel we do not understand, so a partial implementation still carries other components'
 * gossip through the mesh (upstream's surrogate gossiper): broadcasts pass on verbatim; neighbour
 * gossip passes on unless the same bytes were seen within the last gossip interval.
 */

/** Opaque payloads; merging keeps them all. */
export class OpaqueGossipData implements GossipData {
  constructor(
    /** The encoded payloads, in arrival order. */
    readonly payloads: Uint8Array[],
  ) {}
  encode(): Uint8Array[] {
    return this.payloads;
  }
  merge(other: GossipData): GossipData {
    return new OpaqueGossipData([...this.payloads, ...other.encode()]);
  }
}

/** FNV-1a, 64 bit: cheap identity for de-duplication (not security). */
export function fnv64a(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const b of bytes) hash = BigInt.asUintN(64, (hash ^ BigInt(b)) * 0x100000001b3n);
  return hash;
}

export class SurrogateReceiver implements GossipReceiver {
  private readonly seen = new Map<bigint, number>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  onGossipUnicast(_src: PeerName, _msg: Uint8Array): void {}

  onGossipBroadcast(_origin: PeerName, update: Uint8Array): GossipData {
    return new OpaqueGossipData([update]);
  }

  onGossip(msg: Uint8Array): GossipData | undefined {
    const now = this.clock.now();
    for (const [hash, at] of this.seen) if (now - at >= this.intervalMs) this.seen.delete(hash);
    const hash = fnv64a(msg);
    if (this.seen.has(hash)) return undefined;
    this.seen.set(hash, now);
    return new OpaqueGossipData([msg]);
  }

  gossip(): undefined {
    return undefined;
  }
}
