import { PEER_SHORT_ID_COUNT, type Peer } from './peer.js';
import type { Random } from './random.js';

/**
 * Short ID → peer index with deterministic collision resolution (mesh `Peers.byShortID`).
 *
 * Several peers may claim one short ID; the one with the lowest name is the ID's *principal* and the
 * others wait in line. When our own peer loses its ID this way it must pick a free one (the caller does
 * that when {@link ShortIdEffects.reassignLocal} is set). A slot whose last peer left is kept, empty,
 * so that its reuse can be reported as a change of mapping.
 */

/** Side effects of index changes, accumulated over one operation. */
export interface ShortIdEffects {
  /** The principal of some short ID changed: caches keyed by short ID must be dropped. */
  invalidated: boolean;
  /** Our own peer was displaced from its short ID and should choose another. */
  reassignLocal: boolean;
}

/** Fresh, empty effects. */
export function noShortIdEffects(): ShortIdEffects {
  return { invalidated: false, reassignLocal: false };
}

interface Slot {
  principal: Peer | undefined;
  others: Peer[];
}

/** Random tries before falling back to a uniform pick among the free IDs. */
const RANDOM_TRIES = 10;

/** The short-ID index of one {@link Peers} table. */
export class ShortIdIndex {
  private readonly slots = new Map<number, Slot>();

  /** @param ourself our own peer, whose displacement is reported as {@link ShortIdEffects.reassignLocal}. */
  constructor(private readonly ourself: Peer) {}

  /** The principal peer for `shortId`, if any. */
  get(shortId: number): Peer | undefined {
    return this.slots.get(shortId)?.principal;
  }

  /** The other peers currently claiming `shortId` (not the principal). */
  contenders(shortId: number): readonly Peer[] {
    return this.slots.get(shortId)?.others ?? [];
  }

  /** Every short ID with a principal (in no particular order). */
  usedIds(): number[] {
    return [...this.slots].filter(([, s]) => s.principal).map(([id]) => id);
  }

  /** Indexes `peer` under its short ID (no-op for a peer without one). */
  add(peer: Peer, effects: ShortIdEffects): void {
    if (!peer.hasShortId) return;
    const slot = this.slots.get(peer.shortId);
    if (!slot) {
      this.slots.set(peer.shortId, { principal: peer, others: [] });
    } else if (!slot.principal) {
      slot.principal = peer;
      effects.invalidated = true;
    } else if (peer.name < slot.principal.name) {
      if (slot.principal === this.ourself) effects.reassignLocal = true;
      slot.others.push(slot.principal);
      slot.principal = peer;
      effects.invalidated = true;
    } else {
      slot.others.push(peer);
    }
  }

  /** Removes `peer` from its short ID's slot; the lowest-named contender, if any, takes over. */
  delete(peer: Peer, effects: ShortIdEffects): void {
    if (!peer.hasShortId) return;
    const slot = this.slots.get(peer.shortId);
    if (!slot) return;
    if (slot.principal !== peer) {
      const i = slot.others.indexOf(peer);
      if (i >= 0) slot.others.splice(i, 1);
      return;
    }
    if (slot.others.length === 0) {
      slot.principal = undefined;
      return;
    }
    let best = 0;
    for (let i = 1; i < slot.others.length; i++) {
      if (slot.others[i]!.name < slot.others[best]!.name) best = i;
    }
    slot.principal = slot.others[best];
    slot.others.splice(best, 1);
    effects.invalidated = true;
  }

  /**
   * A short ID nobody holds as principal: a few uniform random tries, then a uniform pick among all
   * free IDs. `undefined` when all 4096 are taken.
   */
  chooseFree(random: Random): number | undefined {
    for (let i = 0; i < RANDOM_TRIES; i++) {
      const id = random.int(PEER_SHORT_ID_COUNT);
      if (!this.get(id)) return id;
    }
    let available = PEER_SHORT_ID_COUNT;
    for (const [id, slot] of this.slots) if (slot.principal && id < PEER_SHORT_ID_COUNT) available--;
    if (available <= 0) return undefined;
    let n = random.int(available);
    for (let id = 0; id < PEER_SHORT_ID_COUNT; id++) {
      if (this.get(id)) continue;
      if (n === 0) return id;
      n--;
    }
    return undefined;
  }
}
