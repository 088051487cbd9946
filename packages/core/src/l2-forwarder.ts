import { EventEmitter } from 'eventemitter3';
import type { Clock } from './clock.js';
import {
  type FlowOffer,
  type ForwardPacketKey,
  type LocalPort,
  type NetworkOverlay,
  type OverlayFrame,
  isNetworkOverlay,
} from './datapath.js';
import { WeaveError } from './errors.js';
import {
  ETHERNET_HEADER_SIZE,
  type MacKey,
  STP_MAC,
  dstMac,
  formatMac,
  isGroupMac,
  srcMac,
} from './ethernet.js';
import { type Logger, silentLogger } from './logger.js';
import { MacCache } from './mac-cache.js';
import type { Overlay } from './overlay.js';
import type { PeerName } from './peer-name.js';
import type { Peer } from './peer.js';
import type { Peers } from './peers.js';
import type { Routes } from './routes.js';

/**
 * The data side of weave's `NetworkRouter` (upstream `router/network_router.go`): an L2 learning
 * switch spread over the mesh.
 *
 * ```
 * captured batch (LocalPort)                    received batch (NetworkOverlay)
 *   learn src MAC → us (other peer: drop)         dst peer ≠ us ─▶ relay: unicast route to dst peer
 *   dst 01:80:c2:00:00:00 (STP) ─▶ drop           dst peer = us ─▶ learn src MAC → src peer (forced;
 *   dst MAC at us ─▶ drop                                          moved ⇒ invalidateRoutes)
 *   dst MAC at peer P ─▶ unicast(P), key {us,P}                    inject locally
 *   group / unknown ─▶ each hop H of                               dst MAC not ours ─▶ each hop H of
 *                      broadcast(us), key {us,H}                   broadcast(src), key {src,H}
 *          └──────── frames grouped by (next hop, key): one forward call per group ────────┘
 * offers (only if the datapath has offerFlows), after injecting and sending:
 *   unicast group forwarded ─▶ send {src MAC, dst MAC, key, via}   dst MAC at us ─▶ deliver {src peer,
 *                                                                  src MAC, dst MAC} unless src MAC moved
 * ```
 *
 * Everything is per batch: one inject call, one forward call per next hop and key, at most one
 * `invalidateRoutes`, one `offerFlows` call and one `macsMoved` event. Nothing is emitted per frame.
 */

/** The routing tables the forwarder reads (a core `Routes`: established, symmetric connections only). */
export interface L2Routes {
  /** Next hop towards `peer`; undefined when unreachable or ourselves. */
  unicast(peer: PeerName): PeerName | undefined;
  /** Neighbours a broadcast from `origin` goes to next. */
  broadcast(origin: PeerName): readonly PeerName[];
}

/** A MAC that now lives at another peer. */
export interface MacMove {
  /** The MAC that moved. */
  readonly mac: MacKey;
  /** The peer it was learnt at before. */
  readonly from: PeerName;
  /** The peer it is at now. */
  readonly to: PeerName;
}

/** Control-plane events of an {@link L2Forwarder}. */
export interface L2ForwarderEvents {
  /** MACs moved between peers while handling one batch (routes were invalidated once for them). */
  macsMoved: [moves: readonly MacMove[]];
}

/** Frame counters since the forwarder was created. */
export interface L2ForwarderStats {
  /** Frames captured from the local port. */
  captured: number;
  /** Frames received from the datapath. */
  received: number;
  /** Frames injected into the local port. */
  injected: number;
  /** Frames handed to the datapath (a flooded frame counts once per next hop). */
  forwarded: number;
  /** Forward calls made (one per next hop and key per batch). */
  forwardCalls: number;
  /** Frames dropped for being shorter than an Ethernet header. */
  droppedShort: number;
  /** Spanning-tree frames dropped (never forwarded, as upstream). */
  droppedStp: number;
  /** Captured frames whose destination MAC is local. */
  droppedLocal: number;
  /** Captured frames whose source MAC belongs to another peer. */
  droppedConflict: number;
  /** Frames for a peer we have no route to. */
  droppedNoRoute: number;
  /** Frames the datapath refused (no connection or forwarder to the next hop, or stopped). */
  droppedDatapath: number;
}

/** What an {@link L2Forwarder} needs. */
export interface L2ForwarderOptions {
  /** Our peer name. */
  readonly ourName: PeerName;
  /** Next hops for unicast and broadcast frames. */
  readonly routes: L2Routes;
  /** Where frames to other peers go, and where theirs come from. */
  readonly datapath: Pick<NetworkOverlay, 'forward' | 'onFramesReceived' | 'invalidateRoutes' | 'offerFlows'>;
  /** The local containers' side (a TAP, or an in-memory port in tests). */
  readonly port: LocalPort;
  /** The MAC-to-peer table this forwarder learns into and looks up in. */
  readonly macs: MacCache;
  /** Where drops and MAC moves are logged (default: silent). */
  readonly logger?: Logger;
}

interface Group {
  readonly key: ForwardPacketKey;
  readonly broadcast: boolean;
  readonly frames: Uint8Array[];
  /** Distinct captured unicast flows as src MAC, dst MAC pairs; only kept for a datapath taking offers. */
  flows?: MacKey[];
}

/** Remembers that `group` carries the flow `src` → `dst`, once. */
function addFlow(group: Group, src: MacKey, dst: MacKey): void {
  const flows = group.flows;
  if (!flows) {
    group.flows = [src, dst];
    return;
  }
  for (let i = 0; i < flows.length; i += 2) if (flows[i] === src && flows[i + 1] === dst) return;
  flows.push(src, dst);
}

/**
 * Adds a deliver offer unless the batch already has it. The MACs identify it: a src MAC is at one peer
 * per batch unless it moved, and the flows of moved MACs are not offered.
 */
function addDelivery(offers: FlowOffer[], srcPeer: PeerName, srcMac: MacKey, dstMac: MacKey): void {
  for (const o of offers) if (o.srcMac === srcMac && o.dstMac === dstMac) return;
  offers.push({ kind: 'deliver', srcPeer, srcMac, dstMac });
}

/** Frames bound for the datapath in one batch, grouped by next hop and key. */
class Outbox {
  private readonly byHop = new Map<PeerName, Group[]>();

  /** Adds the frame to its group and returns that group. */
  add(via: PeerName, src: PeerName, dst: PeerName, broadcast: boolean, frame: Uint8Array): Group {
    let groups = this.byHop.get(via);
    if (!groups) {
      groups = [];
      this.byHop.set(via, groups);
    }
    for (const g of groups) {
      if (g.key.srcPeer === src && g.key.dstPeer === dst && g.broadcast === broadcast) {
        g.frames.push(frame);
        return g;
      }
    }
    const group: Group = { key: { srcPeer: src, dstPeer: dst }, broadcast, frames: [frame] };
    groups.push(group);
    return group;
  }

  *groups(): Generator<[PeerName, Group]> {
    for (const [via, groups] of this.byHop) for (const g of groups) yield [via, g];
  }
}

/** Moves frames between the local port and the overlay. Construct, then {@link start}. */
export class L2Forwarder extends EventEmitter<L2ForwarderEvents> {
  private readonly us: PeerName;
  private readonly routes: L2Routes;
  private readonly datapath: L2ForwarderOptions['datapath'];
  private readonly port: LocalPort;
  private readonly macs: MacCache;
  private readonly logger: Logger;
  private readonly counters: L2ForwarderStats = {
    captured: 0,
    received: 0,
    injected: 0,
    forwarded: 0,
    forwardCalls: 0,
    droppedShort: 0,
    droppedStp: 0,
    droppedLocal: 0,
    droppedConflict: 0,
    droppedNoRoute: 0,
    droppedDatapath: 0,
  };
  private running = false;

  constructor(options: L2ForwarderOptions) {
    super();
    this.us = options.ourName;
    this.routes = options.routes;
    this.datapath = options.datapath;
    this.port = options.port;
    this.macs = options.macs;
    this.logger = options.logger ?? silentLogger;
  }

  /** Starts consuming captured and received frames. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.port.onCapture((frames) => this.handleCaptured(frames));
    this.datapath.onFramesReceived((frames) => this.handleReceived(frames));
  }

  /** Ignores every later batch (the port and datapath are the caller's to close). */
  stop(): void {
    this.running = false;
    this.removeAllListeners();
  }

  /** A snapshot of the counters. */
  stats(): L2ForwarderStats {
    return { ...this.counters };
  }

  /** Handles frames captured from local containers (what the port's capture handler calls). */
  handleCaptured(frames: readonly Uint8Array[]): void {
    if (!this.running) return;
    const c = this.counters;
    c.captured += frames.length;
    const out = new Outbox();
    const offers: FlowOffer[] | undefined = this.datapath.offerFlows ? [] : undefined;
    for (const frame of frames) {
      if (frame.length < ETHERNET_HEADER_SIZE) {
        c.droppedShort++;
        continue;
      }
      const src = srcMac(frame);
      const learnt = this.macs.add(src, this.us);
      if (learnt === 'new') {
        this.logger.info(`Discovered local MAC ${formatMac(src)}`);
      } else if (learnt === 'conflict') {
        // Most likely a frame we injected ourselves coming back: never send it out again.
        c.droppedConflict++;
        this.logger.warn(
          `Captured frame from MAC (${formatMac(src)}) associated with another peer ${this.macs.previousPeer}`,
        );
        continue;
      }
      const dst = dstMac(frame);
      if (dst === STP_MAC) {
        c.droppedStp++;
        continue;
      }
      const dstPeer = isGroupMac(dst) ? undefined : this.macs.lookup(dst);
      if (dstPeer === this.us) {
        c.droppedLocal++;
      } else if (dstPeer === undefined) {
        for (const hop of this.routes.broadcast(this.us)) out.add(hop, this.us, hop, true, frame);
      } else {
        const group = this.unicast(out, this.us, dstPeer, frame);
        if (group && offers) addFlow(group, src, dst);
      }
    }
    this.send(out, offers);
    this.offer(offers);
  }

  /** Handles frames that arrived over the overlay (what the datapath's consumer calls). */
  handleReceived(frames: readonly OverlayFrame[]): void {
    if (!this.running) return;
    const c = this.counters;
    c.received += frames.length;
    const out = new Outbox();
    const offers: FlowOffer[] | undefined = this.datapath.offerFlows ? [] : undefined;
    const inject: Uint8Array[] = [];
    const moves: MacMove[] = [];
    for (const { src: srcPeer, dst: dstPeer, frame } of frames) {
      if (frame.length < ETHERNET_HEADER_SIZE) {
        c.droppedShort++;
        continue;
      }
      if (dstPeer !== this.us) {
        this.unicast(out, srcPeer, dstPeer, frame);
        continue;
      }
      // Unicast to us, or a broadcast (whose dstPeer is always the hop it was sent to).
      const mac = srcMac(frame);
      const learnt = this.macs.addForced(mac, srcPeer);
      if (learnt === 'new') {
        this.logger.info(`Discovered remote MAC ${formatMac(mac)} at ${srcPeer}`);
      } else if (learnt === 'moved') {
        const from = this.macs.previousPeer!;
        this.logger.info(`Discovered remote MAC ${formatMac(mac)} at ${srcPeer} (was at ${from})`);
        moves.push({ mac, from, to: srcPeer });
      }
      inject.push(frame);
      const dst = dstMac(frame);
      if (isGroupMac(dst) || this.macs.lookup(dst) !== this.us) {
        for (const hop of this.routes.broadcast(srcPeer)) out.add(hop, srcPeer, hop, true, frame);
      } else if (offers) {
        addDelivery(offers, srcPeer, mac, dst);
      }
    }
    if (inject.length > 0) {
      c.injected += inject.length;
      this.port.inject(inject);
    }
    if (moves.length > 0) this.datapath.invalidateRoutes();
    this.send(out);
    // A MAC that moved in this batch may have sent from both peers: offer none of its flows, not even
    // those seen before the move (a fast path would keep delivering from the old peer).
    this.offer(moves.length > 0 ? offers?.filter((o) => !moves.some((m) => m.mac === o.srcMac)) : offers);
    if (moves.length > 0) this.emit('macsMoved', moves);
  }

  private unicast(out: Outbox, srcPeer: PeerName, dstPeer: PeerName, frame: Uint8Array): Group | undefined {
    const via = this.routes.unicast(dstPeer);
    if (via === undefined) {
      // Not necessarily an error: the destination may have gone while the frame was in flight.
      this.counters.droppedNoRoute++;
      return undefined;
    }
    return out.add(via, srcPeer, dstPeer, false, frame);
  }

  /**
   * Forwards every group; for a datapath taking offers, adds a send offer per flow of each unicast
   * group it took (only captured unicast groups have flows, and a dst MAC is in one group only).
   */
  private send(out: Outbox, offers?: FlowOffer[]): void {
    const c = this.counters;
    for (const [via, group] of out.groups()) {
      c.forwardCalls++;
      const result = this.datapath.forward(group.key, group.frames, { via, broadcast: group.broadcast });
      if (result !== 'forwarded') {
        c.droppedDatapath += group.frames.length;
        continue;
      }
      c.forwarded += group.frames.length;
      const flows = group.flows;
      if (!flows || !offers) continue;
      for (let i = 0; i < flows.length; i += 2) {
        offers.push({ kind: 'send', srcMac: flows[i]!, dstMac: flows[i + 1]!, key: group.key, via });
      }
    }
  }

  /** Hands the batch's offers to the datapath in one call, if there are any. */
  private offer(offers: readonly FlowOffer[] | undefined): void {
    if (offers && offers.length > 0) this.datapath.offerFlows?.(offers);
  }
}

/** The router passed to {@link attachNetworkRouter} is using an overlay without a datapath side. */
export class NotANetworkOverlayError extends WeaveError {
  /** The error's stable name: `'NotANetworkOverlayError'`. */
  override name = 'NotANetworkOverlayError';
  constructor() {
    super('the router overlay has no datapath (forward/onFramesReceived): pass a NetworkOverlay');
  }
}

/** What {@link attachNetworkRouter} reads from a core `Router`. */
export interface NetworkRouterHost {
  /** The router's own peer name. */
  readonly name: PeerName;
  /** The router's clock (MAC expiry runs on it). */
  readonly clock: Clock;
  /** The router's overlay (the datapath, unless one is given in the options). */
  readonly overlay: Overlay;
  /** The router's routes, to pick the next hop for a MAC's peer. */
  readonly routes: Routes;
  /** The router's peer table, to resolve short ids and learn of departed peers. */
  readonly peers: Peers;
}

/** Options of {@link attachNetworkRouter}. */
export interface AttachNetworkRouterOptions {
  /** The local containers' side. */
  readonly port: LocalPort;
  /** The datapath (default: the router's overlay, which must then be a NetworkOverlay). */
  readonly datapath?: NetworkOverlay;
  /** Default: the MAC cache's own (10 min). */
  readonly macMaxAgeMs?: number;
  /** Where MAC moves and drops are logged (default: silent). */
  readonly logger?: Logger;
}

/** A running L2 datapath on a router. */
export interface NetworkRouterHandle {
  /** The L2 forwarder moving frames between the port and the datapath. */
  readonly forwarder: L2Forwarder;
  /** The learnt MAC-to-peer table. */
  readonly macs: MacCache;
  /** Stops forwarding and the MAC expiry, and unhooks from the router (the port stays open). */
  detach(): void;
}

/**
 * Runs weave's L2 forwarding on a router: MAC learning with expiry, frames between `port` and the
 * datapath along the router's routes, datapath caches invalidated when routes or short IDs change,
 * and a peer's MACs forgotten when it is garbage-collected.
 * @throws NotANetworkOverlayError
 */
export function attachNetworkRouter(
  router: NetworkRouterHost,
  options: AttachNetworkRouterOptions,
): NetworkRouterHandle {
  const datapath = options.datapath ?? (isNetworkOverlay(router.overlay) ? router.overlay : undefined);
  if (!datapath) throw new NotANetworkOverlayError();
  const logger = options.logger ?? silentLogger;
  const macs = new MacCache({
    clock: router.clock,
    ...(options.macMaxAgeMs === undefined ? {} : { maxAgeMs: options.macMaxAgeMs }),
    onExpiry: (mac, peer) => logger.info(`Expired MAC ${formatMac(mac)} at ${peer}`),
  });
  const forwarder = new L2Forwarder({
    ourName: router.name,
    routes: router.routes,
    datapath,
    port: options.port,
    macs,
    logger,
  });
  const onRoutesChanged = () => datapath.invalidateRoutes();
  const onShortIds = () => datapath.invalidateShortIDs();
  const onGC = (removed: Peer[]) => {
    for (const peer of removed) macs.deletePeer(peer.name);
  };
  router.routes.on('changed', onRoutesChanged);
  router.peers.on('shortIdsInvalidated', onShortIds);
  router.peers.on('peersGarbageCollected', onGC);
  macs.start();
  forwarder.start();
  return {
    forwarder,
    macs,
    detach() {
      router.routes.off('changed', onRoutesChanged);
      router.peers.off('shortIdsInvalidated', onShortIds);
      router.peers.off('peersGarbageCollected', onGC);
      macs.stop();
      forwarder.stop();
    },
  };
}
