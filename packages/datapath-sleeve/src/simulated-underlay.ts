import { type Clock, type Endpoint, type Random, systemRandom } from '@weave-ts/core';
import { concatBytes } from '@weave-ts/core/protocol';
import { UDP_OVERHEAD } from './constants.js';
import { AddressInUseError } from './errors.js';
import type { MessageTooBig, ReceivedDatagram, SleeveSocket } from './sleeve-socket.js';

/**
 * An in-memory IPv4/UDP underlay for sleeve tests, driven by an injected clock. It models what the
 * sleeve's PMTU logic reacts to:
 *
 * - each socket has an interface MTU: a bigger DF datagram is refused at once with `EMSGSIZE`;
 * - a path may have a smaller MTU further on: the first DF datagram over it is dropped and, unless the
 *   path is an ICMP black hole, the sender learns the MTU, so the next big one gets `EMSGSIZE`;
 * - non-DF datagrams bigger than the path MTU travel as IP fragments, which a path may drop;
 * - loss (per fragment), duplication, reordering and latency per path; NAT-style address mapping.
 */

/** Properties of the path from one host to another (one direction). */
export interface UnderlayPath {
  /** Smallest MTU along the path, in IP bytes (default: the sending interface's MTU). */
  readonly mtu?: number;
  /** ICMP "fragmentation needed" never comes back, so the sender never learns `mtu`. */
  readonly icmpBlackhole?: boolean;
  /** IP fragments are dropped, so datagrams bigger than the path MTU never arrive. */
  readonly dropFragments?: boolean;
  /** Probability that an IP packet (each fragment counts) is lost. */
  readonly loss?: number;
  /** Probability that a datagram arrives twice. */
  readonly duplicate?: number;
  /** Probability that a datagram is held back by `reorderDelayMs`, behind later ones. */
  readonly reorder?: number;
  /** Extra delay of a reordered datagram (default 1 ms). */
  readonly reorderDelayMs?: number;
  /** One-way latency in ms (default 0; delivery is still asynchronous, by a clock timer). */
  readonly latencyMs?: number;
}

/** Options of a {@link SimulatedUnderlay}. */
export interface SimulatedUnderlayOptions {
  /** Times deliveries. */
  readonly clock: Clock;
  /** Drives loss, duplication and reordering (default: system randomness). */
  readonly random?: Random;
  /** Properties of every path not configured with {@link SimulatedUnderlay.setPath}. */
  readonly defaultPath?: UnderlayPath;
}

/** A datagram as it left its sender (reported to taps). */
export interface UnderlayDatagram {
  /** Sender's endpoint (after NAT, as the receiver sees it). */
  readonly from: Endpoint;
  /** Destination endpoint. */
  readonly to: Endpoint;
  /** The datagram. */
  readonly data: Uint8Array;
  /** Whether Don't Fragment was set. */
  readonly df: boolean;
}

/** Counters of everything the underlay did. */
export interface UnderlayStats {
  /** Datagrams handed to the underlay. */
  sent: number;
  /** DF datagrams refused as too big for the path (EMSGSIZE). */
  refused: number;
  /** Datagrams lost (loss rate, no socket bound, path down). */
  dropped: number;
  /** Datagrams delivered. */
  delivered: number;
}

interface Delivery {
  readonly to: Endpoint;
  readonly delay: number;
  readonly batch: ReceivedDatagram[];
}

const key = (e: Endpoint) => `${e.host}:${e.port}`;

interface SimSocket {
  readonly local: Endpoint;
  readonly interfaceMtu: number;
  readonly learnedMtu: Map<string, number>;
  handler?: (batch: readonly ReceivedDatagram[]) => void;
}

/** A simulated underlay network; see the file comment for what it models. */
export class SimulatedUnderlay {
  /** Counters since creation. */
  readonly stats: UnderlayStats = { sent: 0, refused: 0, dropped: 0, delivered: 0 };
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly defaultPath: UnderlayPath;
  private readonly paths = new Map<string, UnderlayPath>();
  private readonly sockets = new Map<string, SimSocket>();
  private readonly outsideOf = new Map<string, Endpoint>();
  private readonly insideOf = new Map<string, Endpoint>();
  private readonly taps = new Set<(datagram: UnderlayDatagram) => void>();

  constructor(options: SimulatedUnderlayOptions) {
    this.clock = options.clock;
    this.random = options.random ?? systemRandom;
    this.defaultPath = options.defaultPath ?? {};
  }

  /** Binds a socket at `local`; `interfaceMtu` (default 1500) bounds DF datagrams immediately. */
  bind(local: Endpoint, options: { interfaceMtu?: number } = {}): SleeveSocket {
    const id = key(local);
    if (this.sockets.has(id)) throw new AddressInUseError(id);
    const sim: SimSocket = { local, interfaceMtu: options.interfaceMtu ?? 1500, learnedMtu: new Map() };
    this.sockets.set(id, sim);
    return {
      local,
      send: (datagrams, to, { df }) => {
        if (this.sockets.get(id) !== sim) return undefined;
        let tooBig: MessageTooBig | undefined;
        const outbox = new Map<string, Delivery>();
        for (const parts of datagrams) {
          const pmtu = this.transmit(sim, concatBytes(parts), to, df, outbox);
          if (pmtu !== undefined && (!tooBig || pmtu < tooBig.pmtu)) tooBig = { code: 'EMSGSIZE', pmtu };
        }
        for (const delivery of outbox.values()) this.deliver(delivery.to, delivery.batch, delivery.delay);
        return tooBig;
      },
      onReceive: (handler) => {
        sim.handler = handler;
      },
      close: async () => {
        if (this.sockets.get(id) === sim) this.sockets.delete(id);
      },
    };
  }

  /** Configures the path from `fromHost` to `toHost` (only that direction). */
  setPath(fromHost: string, toHost: string, path: UnderlayPath): void {
    this.paths.set(`${fromHost}>${toHost}`, path);
  }

  /** NAT: datagrams sent by `inside` appear to come from `outside`; datagrams to `outside` reach `inside`. */
  mapAddress(inside: Endpoint, outside: Endpoint): void {
    const previous = this.outsideOf.get(key(inside));
    if (previous) this.insideOf.delete(key(previous));
    this.outsideOf.set(key(inside), outside);
    this.insideOf.set(key(outside), inside);
  }

  /** Calls `tap` with every datagram put on the wire; returns a function that removes the tap. */
  tap(tap: (datagram: UnderlayDatagram) => void): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  /** Delivers raw bytes to `to` as if sent from `from` (no MTU, loss or NAT), e.g. to replay traffic. */
  inject(from: Endpoint, to: Endpoint, data: Uint8Array): void {
    this.deliver(to, [{ data: data.slice(), from }], 0);
  }

  /**
   * Returns the MTU the sender knows if the datagram was refused; otherwise drops it or adds it to
   * `outbox`, which groups what one send call delivers into one batch per destination and delay.
   */
  private transmit(
    sender: SimSocket,
    data: Uint8Array,
    to: Endpoint,
    df: boolean,
    outbox: Map<string, Delivery>,
  ): number | undefined {
    const path = this.paths.get(`${sender.local.host}>${to.host}`) ?? this.defaultPath;
    const size = data.length + UDP_OVERHEAD;
    const pathMtu = Math.min(sender.interfaceMtu, path.mtu ?? sender.interfaceMtu);
    if (df) {
      const known = Math.min(sender.interfaceMtu, sender.learnedMtu.get(to.host) ?? Number.POSITIVE_INFINITY);
      if (size > known) {
        this.stats.refused++;
        return known;
      }
    }
    this.stats.sent++;
    const from = this.outsideOf.get(key(sender.local)) ?? sender.local;
    for (const tap of this.taps) tap({ from, to, data, df });
    let packets = 1;
    if (size > pathMtu) {
      if (df) {
        if (!path.icmpBlackhole) sender.learnedMtu.set(to.host, pathMtu);
        this.stats.dropped++;
        return undefined;
      }
      packets = Math.ceil((size - 20) / ((pathMtu - 20) & ~7));
    }
    if ((packets > 1 && path.dropFragments) || this.chance(1 - (1 - (path.loss ?? 0)) ** packets)) {
      this.stats.dropped++;
      return undefined;
    }
    const target = this.insideOf.get(key(to)) ?? to;
    const delay = (path.latencyMs ?? 0) + (this.chance(path.reorder ?? 0) ? (path.reorderDelayMs ?? 1) : 0);
    const slot = `${key(target)}@${delay}`;
    let delivery = outbox.get(slot);
    if (!delivery) {
      delivery = { to: target, delay, batch: [] };
      outbox.set(slot, delivery);
    }
    delivery.batch.push({ data, from });
    if (this.chance(path.duplicate ?? 0)) delivery.batch.push({ data: data.slice(), from });
    return undefined;
  }

  private chance(p: number): boolean {
    return p > 0 && this.random.float() < p;
  }

  private deliver(to: Endpoint, batch: ReceivedDatagram[], delay: number): void {
    this.clock.setTimeout(() => {
      const socket = this.sockets.get(key(to));
      if (!socket?.handler) {
        this.stats.dropped += batch.length;
        return;
      }
      this.stats.delivered += batch.length;
      socket.handler(batch);
    }, delay);
  }
}
