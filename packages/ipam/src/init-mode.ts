import { comparePeerNames, type PeerName, parsePeerName } from '@weave-ts/core';
import { InvalidInitModeError } from './allocator-errors.js';

/**
 * How a peer's IPAM ring comes into being (`--ipalloc-init`, upstream `prog/weaver/main.go`):
 * - `consensus` (default): deferred Paxos among the peers on the first request; `quorum` fixes the
 *   cluster size instead of guessing it from the connection targets;
 * - `seed`: the ring is divided among these peers at once, no Paxos;
 * - `observer`: never votes; waits for, or asks electors for, a ring.
 */
export type InitMode =
  | {
      /** Consensus: the first peers agree on who seeds the ring, by Paxos. */
      readonly kind: 'consensus';
      /** The quorum's cluster size (`consensus=N`); default: from the initial peer count. */
      readonly clusterSize?: number;
    }
  | {
      /** Seed: the named peers own the initial ring. */
      readonly kind: 'seed';
      /** The seed peers, sorted and de-duplicated. */
      readonly peers: readonly PeerName[];
    }
  | {
      /** Observer: this peer never seeds the ring; it asks others for space. */
      readonly kind: 'observer';
    };

/**
 * Parses `consensus`, `consensus=N`, `seed=<name>,<name>…` or `observer`. Seed names are sorted and
 * de-duplicated, as the ring needs them. @throws InvalidInitModeError
 */
export function parseInitMode(text: string): InitMode {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? undefined : text.slice(eq + 1);
  if (key === 'observer' && value === undefined) return { kind: 'observer' };
  if (key === 'consensus') {
    if (value === undefined) return { kind: 'consensus' };
    if (!/^[1-9]\d{0,5}$/.test(value)) throw new InvalidInitModeError(text);
    return { kind: 'consensus', clusterSize: Number(value) };
  }
  if (key === 'seed' && value) {
    try {
      return { kind: 'seed', peers: normalizePeerNames(value.split(',').map((s) => parsePeerName(s))) };
    } catch {
      throw new InvalidInitModeError(text);
    }
  }
  throw new InvalidInitModeError(text);
}

/** Quorum for a cluster of `size` peers: a strict majority (`N/2 + 1`). */
export function quorumForClusterSize(size: number): number {
  return Math.floor(size / 2) + 1;
}

/**
 * Upstream's guess when no size is given: we plus our active direct targets make the cluster,
 * `(targets + 1)/2 + 1` (Go integer division).
 */
export function quorumFromTargets(activeTargets: number): number {
  return Math.floor((activeTargets + 1) / 2) + 1;
}

/** Sorted by name, duplicates removed (how a Paxos value or seed list becomes ring owners). */
export function normalizePeerNames(names: readonly PeerName[]): PeerName[] {
  return [...new Set(names)].sort(comparePeerNames);
}
