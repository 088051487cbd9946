import type { PeerName } from './peer-name.js';

/**
 * Gossip: how routers share state. Three channels exist in Weave Net (`topology`, `IPallocation`,
 * `nameserver`); a component registers a {@link GossipReceiver} under a channel name and gets back a
 * {@link GossipChannel} to send with.
 *
 * ```
 *   component ──send/broadcast/unicast──▶ GossipChannel ──tag 4/5/6 over TCP──▶ peers
 *   peers ──▶ router ──onGossip…/merge──▶ GossipReceiver ──returns delta──▶ router relays it on
 * ```
 *
 * A receiver rejects a message by throwing; the router then closes the connection the message arrived
 * on, with the error's message as the reason (as upstream does, e.g. `Incompatible IP allocation
 * ranges …`).
 */

/** A piece of gossiped state that can be merged with another and encoded for the wire. */
export interface GossipData {
  /** The wire form: one or more payloads, each sent as its own gossip message. */
  encode(): Uint8Array[];
  /** Folds `other` (of the same channel) into this, returning the combined data (may be `this`). */
  merge(other: GossipData): GossipData;
}

/** The component side of a channel: what it does with what arrives. */
export interface GossipReceiver {
  /** A unicast addressed to us. */
  onGossipUnicast(src: PeerName, msg: Uint8Array): void;
  /**
   * A broadcast from `origin`. Returns what to re-broadcast onwards (usually the received data, or
   * what changed); `undefined` stops it here.
   */
  onGossipBroadcast(origin: PeerName, update: Uint8Array): GossipData | undefined;
  /** Periodic/neighbour gossip. Returns only what was new to us (relayed onwards), else `undefined`. */
  onGossip(msg: Uint8Array): GossipData | undefined;
  /** Our full state, sent every gossip interval and down every new connection; `undefined` if none. */
  gossip(): GossipData | undefined;
}

/** The sending side of a registered channel. */
export interface GossipChannel {
  /** The channel name (e.g. `IPallocation`, `nameserver`), as sent in every gossip message. */
  readonly name: string;
  /** Sends `msg` to peer `dst`, hop by hop. Throws `UnknownPeerError` when there is no route. */
  gossipUnicast(dst: PeerName, msg: Uint8Array): void;
  /** Sends `update` to every peer along the broadcast tree. */
  gossipBroadcast(update: GossipData): void;
  /** Sends `update` to a random subset of neighbours (log2 of the peer count, as upstream), merged while sends are pending. */
  gossipNeighbourSubset(update: GossipData): void;
}

/** What a router offers components that gossip. */
export interface Gossiper {
  /** Registers `receiver` on `channel` and returns the sender. One receiver per channel. */
  registerChannel(channel: string, receiver: GossipReceiver): GossipChannel;
}
