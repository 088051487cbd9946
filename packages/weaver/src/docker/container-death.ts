import { type Clock, type Logger, silentLogger, systemClock, type TimerHandle } from '@weave-ts/core';
import type { ContainerEvent, ContainerEventFollower } from './container-events.js';
import type { DockerPeer } from './docker-peer.js';

/**
 * What happens to a weave-attached container's names and addresses when Docker reports it gone, as
 * upstream does:
 *
 *   die      → its weaveDNS entries are removed now; its addresses are released after `graceMs`
 *              (30 s, upstream's containerDiedTimeout) unless it starts again in the meantime
 *   start    → a pending release is cancelled: a restarted container keeps its addresses
 *   destroy  → addresses released and entries removed at once
 */

/** Upstream's grace before a dead container's addresses are freed. */
export const CONTAINER_DIED_GRACE_MS = 30_000;

/** What a watcher needs. */
export interface ContainerDeathWatcherOptions {
  peer: DockerPeer;
  events: ContainerEventFollower;
  /** Default {@link CONTAINER_DIED_GRACE_MS}. */
  graceMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** Releases addresses and DNS names of containers that die or are removed. */
export class ContainerDeathWatcher {
  private readonly pending = new Map<string, TimerHandle>();
  private readonly options: ContainerDeathWatcherOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onDie = (e: ContainerEvent) => this.died(e.id);
  private readonly onStart = (e: ContainerEvent) => this.started(e.id);
  private readonly onDestroy = (e: ContainerEvent) => this.destroyed(e.id);

  constructor(options: ContainerDeathWatcherOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
  }

  /** Subscribes to the follower's events. */
  start(): void {
    this.options.events.on('die', this.onDie).on('start', this.onStart).on('destroy', this.onDestroy);
  }

  /** Unsubscribes and drops pending releases (their addresses stay allocated). */
  stop(): void {
    this.options.events.off('die', this.onDie).off('start', this.onStart).off('destroy', this.onDestroy);
    for (const t of this.pending.values()) this.clock.clearTimeout(t);
    this.pending.clear();
  }

  /** Containers whose addresses will be released when their grace ends. */
  get pendingReleases(): string[] {
    return [...this.pending.keys()];
  }

  /** A container died: DNS entries now, addresses after the grace. */
  died(id: string): void {
    const { peer } = this.options;
    const removed = peer.dns.remove(id);
    if (removed > 0) this.logger.info(`[dns] container ${id} died: ${removed} DNS entries removed`);
    if (peer.addressesOf(id).length === 0 || this.pending.has(id)) return;
    const timer = this.clock.setTimeout(() => {
      this.pending.delete(id);
      this.release(id, 'died');
    }, this.options.graceMs ?? CONTAINER_DIED_GRACE_MS);
    this.pending.set(id, timer);
  }

  /** A container (re)started: it keeps its addresses. */
  started(id: string): void {
    const timer = this.pending.get(id);
    if (timer === undefined) return;
    this.clock.clearTimeout(timer);
    this.pending.delete(id);
  }

  /** A container was removed: everything goes now. */
  destroyed(id: string): void {
    this.started(id);
    this.options.peer.dns.remove(id);
    this.release(id, 'destroyed');
  }

  private release(id: string, why: string): void {
    const { peer } = this.options;
    if (peer.addressesOf(id).length === 0) return;
    try {
      peer.release(id);
      this.logger.info(`[allocator] container ${id} ${why}: its addresses were released`);
    } catch (err) {
      this.logger.warn(`[allocator] releasing the addresses of ${id}: ${(err as Error).message}`);
    }
  }
}
