import { comparePeerNames, type PeerName } from '@weave-ts/core';
import type { Range } from './address.js';

/**
 * Safe takeover of a vanished peer's ranges (automatic reclaim and `rmpeer`), wire-compatible with
 * stock Weave: the ring, its +100 transfer and the merge rules are unchanged; only who may transfer,
 * to whom, and what the new owner does with the space are decided here.
 *
 * 1. Majority: a peer transfers only while it sees a strict majority of the ring's owners (the vanished
 *    one included) in its topology. Two sides of a partition cannot both hold a majority, so at most
 *    one side ever transfers a given peer's ranges.
 * 2. One heir: the ranges go to the lowest-named reachable owner, whoever runs the takeover. Concurrent
 *    takeovers on the majority side therefore write identical entries (same token, owner, version,
 *    free count): they merge without conflict. Automatic reclaim runs on the heir only.
 * 3. Held in trust: the vanished peer may be alive behind a partition, with containers using its
 *    addresses. The peer that transfers to itself (the heir, always so for automatic reclaim) records
 *    the reclaimed ranges as held for it and allocates or donates from
 *    them only when no other space of its own can serve a request. If the peer reappears (its gossip
 *    arrives) while its ranges are still untouched, the heir transfers them back to it with a version
 *    above its own, which it accepts as its own entries re-asserted — so its containers keep their
 *    addresses and none of them was handed out twice.
 */

/** Whether `reachable` owners are a strict majority of `owners`. */
export function hasOwnerMajority(owners: number, reachable: number): boolean {
  return reachable * 2 > owners;
}

/** The owner that takes over: the lowest-named of the reachable owners. */
export function pickHeir(reachableOwners: Iterable<PeerName>): PeerName | undefined {
  let heir: PeerName | undefined;
  for (const name of reachableOwners) if (heir === undefined || comparePeerNames(name, heir) < 0) heir = name;
  return heir;
}

/** Parts of `ranges` outside `exclude` (both in address order, `exclude` non-overlapping). */
export function subtractRanges(ranges: readonly Range[], exclude: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const r of ranges) {
    let start = r.start;
    for (const x of exclude) {
      if (x.end <= start || x.start >= r.end) continue;
      if (x.start > start) out.push({ start, end: x.start });
      start = Math.max(start, x.end);
      if (start >= r.end) break;
    }
    if (start < r.end) out.push({ start, end: r.end });
  }
  return out;
}

/** `ranges` cut down to `within` (both in address order). */
export function intersectRanges(ranges: readonly Range[], within: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const r of ranges) {
    for (const w of within) {
      const start = Math.max(r.start, w.start);
      const end = Math.min(r.end, w.end);
      if (start < end) out.push({ start, end });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
