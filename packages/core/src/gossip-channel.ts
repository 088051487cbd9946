import { GobDecoder, GobEncoder, t } from './gob/index.js';
import type { GossipChannel, GossipData, GossipReceiver } from './gossip.js';
import { WeaveError } from './errors.js';
import { type PeerName, peerNameFromNumber, peerNameToNumber } from './peer-name.js';
import { ProtocolTag, protocolMessage } from './protocol-tags.js';

/**
 * Gossip channels as routers run them (mesh `gossip_channel.go` semantics):
 *
 * ```
 * unicast:   tag 5 → next hop of unicastAll(dst) → … → dst: receiver.onGossipUnicast
 * broadcast: tag 6 → broadcastAll(origin) next hops; each hop delivers, then re-broadcasts what the
 *            receiver returned along the origin's tree
 * gossip:    tag 4 → random neighbour subset; each hop relays only the returned delta (except to sender)
 * ```
 */

/** What a channel needs from its router: routes and a way to reach neighbours. */
export interface GossipRouting {
  readonly ourName: PeerName;
  /** Next hop towards `dst` over any connection, if known. */
  unicastNextHop(dst: PeerName): PeerName | undefined;
  /** Our next hops on `origin`'s broadcast tree (any connection). */
  broadcastNextHops(origin: PeerName): readonly PeerName[];
  /** A random subset of neighbours to gossip to, never including `except`. */
  randomNeighbours(except: PeerName): PeerName[];
  /** Queues a protocol message on the connection to `neighbour`; false if there is none. */
  sendToNeighbour(neighbour: PeerName, msg: Uint8Array): boolean;
  /** Runs `fn` once the messages arriving now have been handled (a 0 ms timer on the router's clock). */
  defer(fn: () => void): void;
}

/** A gossip unicast had nowhere to go. */
export class UnknownPeerError extends WeaveError {
  /** The error's stable name: `'UnknownPeerError'`. */
  override name = 'UnknownPeerError';
  constructor(dst: PeerName) {
    super(`unknown relay destination: ${dst}`);
  }
}

const uint = t.uint;

/** Encodes the tag-4/6 body: channel, sender (or origin), payload, from one gob encoder. */
function envelope(channel: string, from: PeerName, payload: Uint8Array): Uint8Array {
  return new GobEncoder({ sizeHint: payload.length + channel.length + 32 })
    .encode(t.string, channel)
    .encode(uint, peerNameToNumber(from))
    .encode(t.bytes, payload)
    .finish();
}

type MakeMessage = (payload: Uint8Array) => Uint8Array;

/** A send waiting for the flush: its next hops are chosen then, on the routes of that moment. */
interface SendRequest {
  /** The neighbours to send to (resolved at flush time). */
  readonly hops: () => readonly PeerName[];
  /** Distinguishes kinds of message to the same neighbour (gossip, or broadcasts per origin). */
  readonly kind: string;
  readonly data: GossipData;
  readonly make: MakeMessage;
}

/**
 * Sends wait for a flush that runs once everything arriving at the same moment has been handled
 * (upstream's per-connection `gossipSender`). Then the routes are brought up to date once, each
 * request picks its hops, and per neighbour and kind the data is merged, so a burst of updates becomes
 * one message a neighbour and one route recalculation instead of one per message.
 */
class PendingSends {
  private requests: SendRequest[] = [];

  constructor(private readonly routing: GossipRouting) {}

  queue(hops: () => readonly PeerName[], kind: string, data: GossipData, make: MakeMessage): void {
    if (this.requests.length === 0) this.routing.defer(() => this.flush());
    this.requests.push({ hops, kind, data, make });
  }

  private flush(): void {
    const requests = this.requests;
    this.requests = [];
    const merged = new Map<string, { to: PeerName; data: GossipData; make: MakeMessage }>();
    for (const { hops, kind, data, make } of requests) {
      for (const to of hops()) {
        const key = `${kind}|${to}`;
        const existing = merged.get(key);
        if (existing) existing.data = existing.data.merge(data);
        else merged.set(key, { to, data, make });
      }
    }
    // The same data usually goes to several neighbours: encode it once per flush.
    const encoded = new Map<GossipData, Uint8Array[]>();
    for (const { to, data, make } of merged.values()) {
      let payloads = encoded.get(data);
      if (!payloads) {
        payloads = data.encode();
        encoded.set(data, payloads);
      }
      for (const payload of payloads) this.routing.sendToNeighbour(to, make(payload));
    }
  }
}

/** One named channel: sends for its component and delivers what arrives to its receiver. */
export class RouterGossipChannel implements GossipChannel {
  private readonly sends: PendingSends;

  constructor(
    readonly name: string,
    readonly receiver: GossipReceiver,
    private readonly routing: GossipRouting,
  ) {
    this.sends = new PendingSends(routing);
  }

  gossipUnicast(dst: PeerName, msg: Uint8Array): void {
    const body = new GobEncoder()
      .encode(t.string, this.name)
      .encode(uint, peerNameToNumber(this.routing.ourName))
      .encode(uint, peerNameToNumber(dst))
      .encode(t.bytes, msg)
      .finish();
    this.relayUnicast(dst, protocolMessage(ProtocolTag.GossipUnicast, body));
  }

  gossipBroadcast(update: GossipData): void {
    this.relayBroadcast(this.routing.ourName, update);
  }

  gossipNeighbourSubset(update: GossipData): void {
    this.relay(this.routing.ourName, update);
  }

  /** Sends our full state down one new connection. */
  sendAllTo(neighbour: PeerName): void {
    const data = this.receiver.gossip();
    if (data) this.sends.queue(() => [neighbour], 'g', data, this.gossipMessage);
  }

  /** Periodic gossip: full state to a random neighbour subset. */
  sendPeriodic(): void {
    const data = this.receiver.gossip();
    if (data) this.relay(this.routing.ourName, data);
  }

  /** A tag-5 message; `decoder` is positioned after the channel name and source. */
  deliverUnicast(src: PeerName, decoder: GobDecoder, original: Uint8Array): void {
    const dst = peerNameFromNumber(decoder.decode(uint));
    const payload = decoder.decode(t.bytes);
    if (dst === this.routing.ourName) this.receiver.onGossipUnicast(src, payload);
    else this.relayUnicast(dst, original);
  }

  /** A tag-6 message from `origin`. */
  deliverBroadcast(origin: PeerName, decoder: GobDecoder): void {
    const data = this.receiver.onGossipBroadcast(origin, decoder.decode(t.bytes));
    if (data) this.relayBroadcast(origin, data);
  }

  /** A tag-4 message from neighbour `sender`. */
  deliverGossip(sender: PeerName, decoder: GobDecoder): void {
    const delta = this.receiver.onGossip(decoder.decode(t.bytes));
    if (delta) this.relay(sender, delta);
  }

  private readonly gossipMessage: MakeMessage = (payload) =>
    protocolMessage(ProtocolTag.Gossip, envelope(this.name, this.routing.ourName, payload));

  private relayUnicast(dst: PeerName, msg: Uint8Array): void {
    const hop = this.routing.unicastNextHop(dst);
    if (hop === undefined || !this.routing.sendToNeighbour(hop, msg)) throw new UnknownPeerError(dst);
  }

  private relayBroadcast(origin: PeerName, data: GossipData): void {
    const make = (p: Uint8Array) =>
      protocolMessage(ProtocolTag.GossipBroadcast, envelope(this.name, origin, p));
    this.sends.queue(() => this.routing.broadcastNextHops(origin), `b|${origin}`, data, make);
  }

  private relay(except: PeerName, data: GossipData): void {
    this.sends.queue(() => this.routing.randomNeighbours(except), 'g', data, this.gossipMessage);
  }
}

/** Decodes the common prefix of tags 4/5/6: the channel name and the sender/source/origin. */
export function decodeGossipEnvelope(body: Uint8Array): {
  channel: string;
  from: PeerName;
  decoder: GobDecoder;
} {
  const decoder = new GobDecoder(body);
  const channel = decoder.decode(t.string);
  const from = peerNameFromNumber(decoder.decode(uint));
  return { channel, from, decoder };
}
