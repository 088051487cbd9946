import type { PeerName } from '@weave-ts/core';
import {
  type Address,
  type CIDR,
  cidrHostRange,
  cidrRange,
  formatAddress,
  formatCIDR,
  makeCIDR,
  makeRange,
  type Range,
  rangesOverlap,
} from './address.js';
import {
  AddressAlreadyOwnedError,
  AddressOwnedByOtherPeerError,
  OperationCancelledError,
  SubnetOutOfRangeError,
} from './allocator-errors.js';

/**
 * Requests that may have to wait (upstream `allocate.go`, `claim.go`, `prime`): each is tried at once,
 * and if it cannot finish it stays queued and is tried again on every ring update and every tick.
 */

/** Sends to another peer give up on a claim after this many failures. */
export const MAX_CLAIM_TRY_COUNT = 5;

/** What an operation may do to the allocator while it is tried. */
export interface OperationContext {
  /** The allocation range. */
  readonly universe: CIDR;
  ringIsEmpty(): boolean;
  /** True when `addr` is inside the allocation range. */
  inUniverse(addr: Address): boolean;
  /** The ring owner of an address in range; `undefined` while the ring is empty. */
  ringOwner(addr: Address): PeerName | undefined;
  ourName: PeerName;
  nicknameOf(peer: PeerName): string | undefined;
  ownedInRange(ident: string, range: Range): CIDR[];
  findOwner(addr: Address): string | undefined;
  /** Records the address as held (persisted before results are delivered). */
  addOwned(ident: string, cidr: CIDR, isContainer: boolean): void;
  /** Forgets that the container was reported dead (it asked for its address again). */
  revive(ident: string): void;
  /** Starts forming the ring if it is empty and no election is under way. */
  establishRing(): void;
  /** The lowest free address of ours inside `range`, taken; `undefined` if none. */
  allocateInSpace(range: Range): Address | undefined;
  /** Takes a specific free address of ours. @throws AddressNotFreeError */
  claimInSpace(addr: Address): void;
  /** Asks the best-placed peer for space in `range`; false when nobody could be asked. */
  requestSpace(range: Range): boolean;
  /** Sends a space request to `peer`; false when it cannot be reached. */
  sendSpaceRequest(peer: PeerName, range: Range): boolean;
  /**
   * Runs `fn` once the current action's changes are persisted, with the persistence error if that
   * failed.
   */
  afterPersist(fn: (persistError?: Error) => void): void;
  log(message: string): void;
}

/** A request that may wait. */
export interface Operation {
  readonly kind: 'Allocate' | 'Claim' | 'Prime';
  /** The container it is for ('' for prime). */
  readonly ident: string;
  /** Tries to finish; true when done (successfully or not), false to stay queued. */
  tryOnce(ctx: OperationContext): boolean;
  /** Fails it with {@link OperationCancelledError} (a no-op once it has a result). */
  cancel(ctx: OperationContext): void;
}

interface Settler<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** Delivers one result at most, after persistence (upstream's `sendResult`). */
abstract class BaseOperation<T> implements Operation {
  abstract readonly kind: 'Allocate' | 'Claim' | 'Prime';
  #settled = false;

  constructor(
    readonly ident: string,
    private readonly settler: Settler<T>,
  ) {}

  abstract tryOnce(ctx: OperationContext): boolean;

  /** Whether a result was already delivered (a claim may succeed early and stay queued). */
  get settled(): boolean {
    return this.#settled;
  }

  protected succeed(ctx: OperationContext, value: T): void {
    if (this.#settled) return;
    this.#settled = true;
    ctx.afterPersist((persistError) =>
      persistError ? this.settler.reject(persistError) : this.settler.resolve(value),
    );
  }

  protected fail(ctx: OperationContext, error: Error): void {
    if (this.#settled) {
      ctx.log(error.message);
      return;
    }
    this.#settled = true;
    ctx.afterPersist(() => this.settler.reject(error));
  }

  cancel(ctx: OperationContext): void {
    this.fail(ctx, new OperationCancelledError(this.kind, this.ident));
  }
}

/** Allocate an address in a subnet for a container. */
export class AllocateOperation extends BaseOperation<CIDR> {
  readonly kind = 'Allocate';

  constructor(
    ident: string,
    /** The subnet to allocate in; the result carries its prefix length. */
    readonly subnet: CIDR,
    readonly isContainer: boolean,
    settler: Settler<CIDR>,
  ) {
    super(ident, settler);
  }

  tryOnce(ctx: OperationContext): boolean {
    const range = cidrRange(this.subnet);
    const existing = ctx.ownedInRange(this.ident, range)[0];
    if (existing) {
      ctx.revive(this.ident);
      this.succeed(ctx, existing);
      return true;
    }
    if (!rangesOverlap(cidrRange(ctx.universe), range)) {
      this.fail(ctx, new SubnetOutOfRangeError(formatCIDR(this.subnet), formatCIDR(ctx.universe)));
      return true;
    }
    ctx.establishRing();
    const addr = ctx.allocateInSpace(cidrHostRange(this.subnet));
    if (addr !== undefined) {
      const cidr = makeCIDR(this.subnet, addr);
      ctx.addOwned(this.ident, cidr, this.isContainer);
      this.succeed(ctx, cidr);
      return true;
    }
    ctx.requestSpace(range);
    return false;
  }
}

/** Claim a specific address for a container (e.g. one it had before a restart). */
export class ClaimOperation extends BaseOperation<void> {
  readonly kind = 'Claim';
  #failedSends = 0;

  constructor(
    ident: string,
    readonly cidr: CIDR,
    readonly isContainer: boolean,
    /** Succeed at once when the owner is not known yet, and keep trying in the background. */
    readonly noErrorOnUnknown: boolean,
    settler: Settler<void>,
  ) {
    super(ident, settler);
  }

  tryOnce(ctx: OperationContext): boolean {
    const addr = this.cidr.addr;
    const text = formatCIDR(this.cidr);
    if (!ctx.inUniverse(addr)) {
      // Not ours to manage: record it, refusing only a clash with another holder here.
      const holder = ctx.findOwner(addr);
      if (holder !== undefined && holder !== this.ident) {
        this.fail(ctx, new AddressAlreadyOwnedError(text, holder));
        return true;
      }
      ctx.log(`Address ${text} claimed by ${this.ident} - not in our range`);
      if (holder === undefined) ctx.addOwned(this.ident, this.cidr, this.isContainer);
      this.succeed(ctx, undefined);
      return true;
    }
    ctx.establishRing();
    ctx.revive(this.ident);
    const owner = ctx.ringOwner(addr);
    if (owner === undefined) {
      ctx.log(
        `Claim ${text} for ${this.ident}: is in the range ${formatCIDR(ctx.universe)}, but the allocator is not initialized yet; will try later.`,
      );
      if (this.noErrorOnUnknown) this.succeed(ctx, undefined);
      return false;
    }
    if (owner !== ctx.ourName) {
      if (!ctx.sendSpaceRequest(owner, makeRange(addr, 1))) {
        this.#failedSends++;
        if (this.noErrorOnUnknown) {
          ctx.log(`Claim ${text} for ${this.ident}: cannot reach ${owner}; will try later.`);
          this.succeed(ctx, undefined);
        } else if (this.#failedSends >= MAX_CLAIM_TRY_COUNT) {
          this.deniedBy(ctx, owner);
          return true;
        }
      }
      return false;
    }
    const holder = ctx.findOwner(addr);
    if (holder === undefined) {
      try {
        ctx.claimInSpace(addr);
      } catch (error) {
        this.fail(ctx, error as Error);
        return true;
      }
      ctx.addOwned(this.ident, this.cidr, this.isContainer);
      this.succeed(ctx, undefined);
    } else if (holder === this.ident) {
      this.succeed(ctx, undefined);
    } else {
      this.fail(ctx, new AddressAlreadyOwnedError(text, holder));
    }
    return true;
  }

  /** The owner refused, or could not be reached too often. */
  deniedBy(ctx: OperationContext, owner: PeerName): void {
    this.fail(ctx, new AddressOwnedByOtherPeerError(formatCIDR(this.cidr), owner, ctx.nicknameOf(owner)));
  }

  /** Text for logs. */
  override toString(): string {
    return `${this.ident} ${formatAddress(this.cidr.addr)}`;
  }
}

/** Wait until the ring exists, starting an election if needed (`GET /ring`, `weave prime`). */
export class PrimeOperation extends BaseOperation<void> {
  readonly kind = 'Prime';

  constructor(settler: Settler<void>) {
    super('', settler);
  }

  tryOnce(ctx: OperationContext): boolean {
    // With a quorum of one, establishing the ring completes it at once.
    if (ctx.ringIsEmpty()) ctx.establishRing();
    if (ctx.ringIsEmpty()) return false;
    this.succeed(ctx, undefined);
    return true;
  }
}
