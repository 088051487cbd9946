import type { Clock, Gossiper, Logger, PeerName, Random } from '@weave-ts/core';
import { type CIDR, formatCIDR, parseSubnet } from './address.js';
import type { InitMode } from './init-mode.js';
import type { Store } from './store.js';

/** Pending work is retried, and a stalled election re-proposed, this often. */
export const TICK_INTERVAL_MS = 5_000;
/** A container reported dead keeps its addresses this long (it may be restarting). */
export const CONTAINER_DIED_TIMEOUT_MS = 30_000;

/** How an {@link Allocator} is built. */
export interface AllocatorOptions {
  /** This peer's name. */
  readonly ourName: PeerName;
  /** Our router's UID: a restarted peer is a new Paxos node. */
  readonly ourUid: bigint;
  /** Our nickname, gossiped so others can show it (and `rmpeer` it). */
  readonly nickname?: string;
  /** The allocation range (`--ipalloc-range`), e.g. `10.32.0.0/12`. */
  readonly range: CIDR | string;
  /** Where allocations without a subnet go (`--ipalloc-default-subnet`); default the whole range. */
  readonly defaultSubnet?: CIDR | string;
  /** How the ring is formed; default deferred consensus. */
  readonly mode?: InitMode;
  /** Where to register channel `IPallocation` (a `Router`). */
  readonly gossiper: Gossiper;
  /** Whether a peer is in the topology now (`Router.hasPeer`). */
  readonly isKnownPeer: (name: PeerName) => boolean;
  /** Votes needed to agree on the ring, asked when an election starts; default 1. */
  readonly quorum?: () => number;
  /**
   * Automatic reclaim (off by default): a ring owner missing from the topology this long has its
   * ranges taken over, by the lowest-named reachable owner and only while a majority of the owners is
   * reachable (see `reclaim.ts`). Stays wire-compatible with stock peers.
   */
  readonly reclaimAfterMs?: number;
  /** Persistence; default in memory only. */
  readonly store?: Store;
  /** Schedules retries and timeouts. */
  readonly clock?: Clock;
  /** Picks peers to ask for space. */
  readonly random?: Random;
  /** Where allocator events are logged (default: silent). */
  readonly logger?: Logger;
}

/** Options of {@link Allocator.allocate}. */
export interface AllocateOptions {
  /** Subnet to allocate in (zero host bits); default the default subnet. */
  readonly subnet?: CIDR | string;
  /** False for non-container holders (e.g. `weave:expose`); default true. */
  readonly isContainer?: boolean;
  /** Aborting cancels the request if it is still waiting. */
  readonly signal?: AbortSignal;
}

/** Options of {@link Allocator.adminTakeoverRanges}. */
export interface TakeoverOptions {
  /**
   * Take over even without a majority of the ring's owners reachable, to this peer (upstream's
   * behaviour); only safe when every owner not reachable is gone for good.
   */
  readonly force?: boolean;
}

/** Options of {@link Allocator.claim}. */
export interface ClaimOptions {
  /** Whether the identifier is a container (released when the container dies); default true. */
  readonly isContainer?: boolean;
  /** Succeed at once if the owner is not known yet and keep trying in the background. */
  readonly noErrorOnUnknown?: boolean;
  /** Aborts the claim (it then rejects with `OperationCancelledError`). */
  readonly signal?: AbortSignal;
}

/** Events, emitted after the change. */
export interface AllocatorEvents {
  /** Our copy of the ring changed (merge, donation received, takeover, creation). */
  ringUpdated: [];
}

/** Parses a subnet given as text or as a CIDR (host bits must be zero). */
export function toSubnet(value: CIDR | string): CIDR {
  return parseSubnet(typeof value === 'string' ? value : formatCIDR(value));
}
