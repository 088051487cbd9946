import type { PeerName } from '@weave-ts/core';
import { makeRange, type Range, rangeContains } from './address.js';
import { subtractRanges } from './reclaim.js';
import { AllocatorNotRunningError } from './allocator-errors.js';
import { encodeRangeMessage, IpamMessageKind } from './ipam-gossip.js';
import type {
  AllocateOperation,
  ClaimOperation,
  Operation,
  OperationContext,
  PrimeOperation,
} from './operations.js';
import type { Allocator } from './allocator.js';
import { AllocatorState } from './allocator-state.js';

/** The requests of an {@link Allocator} that wait: queued, retried, cancelled. */
export abstract class AllocatorOperations extends AllocatorState {
  // The queues are only ever changed in place: a request being queued holds on to its queue while it
  // is tried, and that try may itself complete others (e.g. a ring formed at once). Replacing the
  // array then left the new request in a discarded one, never answered (issue 17).
  protected readonly pendingAllocates: AllocateOperation[] = [];
  protected readonly pendingClaims: ClaimOperation[] = [];
  protected readonly pendingPrimes: PrimeOperation[] = [];
  protected tryingOps = false;
  protected retryOps = false;
  protected readonly ctx: OperationContext = this.makeContext();

  /** Starts forming the ring if it is empty and no election runs (implemented by the ring layer). */
  protected abstract establishRing(): void;

  protected doOperation<T extends Operation>(
    op: T,
    queue: T[],
    signal: AbortSignal | undefined,
    reject: (error: Error) => void,
  ): void {
    if (!this.running) {
      reject(new AllocatorNotRunningError());
      return;
    }
    this.act(() => {
      if (this.shuttingDown || signal?.aborted) {
        op.cancel(this.ctx);
        return;
      }
      if (op.tryOnce(this.ctx)) return;
      queue.push(op);
      signal?.addEventListener('abort', () => this.act(() => this.cancelOp(op, queue)), { once: true });
    });
  }

  protected cancelOp<T extends Operation>(op: T, queue: T[]): void {
    const i = queue.indexOf(op);
    if (i < 0) return;
    queue.splice(i, 1);
    op.cancel(this.ctx);
  }

  protected cancelFor<T extends Operation>(queue: T[], ident: string): void {
    for (const op of queue.filter((o) => o.ident === ident)) this.cancelOp(op, queue);
  }

  protected cancelAll(): void {
    for (const queue of [this.pendingClaims, this.pendingAllocates, this.pendingPrimes] as Operation[][]) {
      for (const op of queue.splice(0)) op.cancel(this.ctx);
    }
  }

  /** Retries every waiting request: primes, then claims (before new allocations), then allocations. */
  protected tryPendingOps(): void {
    if (this.tryingOps) {
      // Called from inside an operation (e.g. its election completed): go round again afterwards.
      this.retryOps = true;
      return;
    }
    this.tryingOps = true;
    try {
      do {
        this.retryOps = false;
        removeWhere(this.pendingPrimes, (op) => op.tryOnce(this.ctx));
        removeWhere(this.pendingClaims, (op) => op.tryOnce(this.ctx));
        removeWhere(this.pendingAllocates, (op) => op.tryOnce(this.ctx));
      } while (this.retryOps);
    } finally {
      this.tryingOps = false;
    }
  }

  protected spaceRequestDenied(sender: PeerName, range: Range): void {
    removeWhere(this.pendingClaims, (claim) => {
      if (!rangeContains(range, claim.cidr.addr)) return false;
      claim.deniedBy(this.ctx, sender);
      return true;
    });
  }

  /** The lowest free address in `range`, from space held in trust only when nothing else is free. */
  protected allocateInSpace(range: Range): number | undefined {
    const held = this.heldRanges();
    if (held.length > 0) {
      for (const part of subtractRanges([range], held)) {
        const addr = this.space.allocate(part);
        if (addr !== undefined) return addr;
      }
    }
    const addr = this.space.allocate(range);
    if (addr !== undefined && held.length > 0) this.absorbHeld(makeRange(addr, 1));
    return addr;
  }

  protected makeContext(): OperationContext {
    return {
      universe: this.universe,
      ourName: this.ourName,
      ringIsEmpty: () => this.ring.isEmpty(),
      inUniverse: (addr) => this.ring.contains(addr),
      ringOwner: (addr) => this.ring.owner(addr),
      nicknameOf: (peer) => this.nicknames.get(peer),
      ownedInRange: (ident, range) => this.owned.inRange(ident, range),
      findOwner: (addr) => this.owned.findOwner(addr),
      addOwned: (ident, cidr, isContainer) => {
        this.owned.add(ident, cidr, isContainer);
        this.dirtyOwned.add(ident);
      },
      revive: (ident) => this.dead.delete(ident),
      establishRing: () => this.establishRing(),
      allocateInSpace: (range) => this.allocateInSpace(range),
      claimInSpace: (addr) => {
        this.space.claim(addr);
        this.absorbHeld(makeRange(addr, 1));
      },
      requestSpace: (range) =>
        this.ring
          .choosePeersToAskForSpace(range.start, range.end, this.random)
          .some((donor) => this.unicast(donor, encodeRangeMessage(IpamMessageKind.SpaceRequest, range))),
      sendSpaceRequest: (peer, range) =>
        this.unicast(peer, encodeRangeMessage(IpamMessageKind.SpaceRequest, range)),
      afterPersist: (fn) => {
        if (this.inAction) this.afterPersist.push(fn);
        else fn();
      },
      log: (message) => this.log(message),
    };
  }
}

/**
 * Removes, in place, the items for which `done` is true, calling it once per item in order. Items
 * added to `queue` while it runs are kept.
 */
function removeWhere<T>(queue: T[], done: (item: T) => boolean): void {
  const items = queue.splice(0);
  const keep = items.filter((item) => !done(item));
  // Whatever was queued meanwhile goes after the ones kept, as it came later.
  queue.unshift(...keep);
}
