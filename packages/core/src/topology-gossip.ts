import { WeaveError } from './errors.js';
import type { GossipData, GossipReceiver } from './gossip.js';
import type { PeerName } from './peer-name.js';
import type { Peers, TopologyUpdateResult } from './peers.js';

/** The `topology` gossip channel's name. */
export const TOPOLOGY_CHANNEL = 'topology';

/** A set of peers whose current state is to be sent; merging unites the sets. */
export class TopologyGossipData implements GossipData {
  constructor(
    private readonly peers: Peers,
    readonly names: ReadonlySet<PeerName>,
  ) {}

  encode(): Uint8Array[] {
    return [this.peers.encodePeers(this.names)];
  }

  merge(other: GossipData): GossipData {
    if (!(other instanceof TopologyGossipData)) return this;
    return new TopologyGossipData(this.peers, new Set([...this.names, ...other.names]));
  }
}

/** Topology gossip must never come as a unicast. */
export class UnexpectedTopologyUnicastError extends WeaveError {
  /** The error's stable name: `'UnexpectedTopologyUnicastError'`. */
  override name = 'UnexpectedTopologyUnicastError';
  constructor() {
    super('unexpected topology gossip unicast');
  }
}

/**
 * The router's receiver for the `topology` channel: applies updates to the peer table and tells the
 * router when something improved (so it recalculates routes and refreshes its connection targets).
 */
export class TopologyReceiver implements GossipReceiver {
  constructor(
    private readonly peers: Peers,
    private readonly changed: (result: TopologyUpdateResult) => void,
  ) {}

  onGossipUnicast(): void {
    throw new UnexpectedTopologyUnicastError();
  }

  onGossipBroadcast(_origin: PeerName, update: Uint8Array): GossipData | undefined {
    const result = this.apply(update);
    return result.received.size > 0 ? new TopologyGossipData(this.peers, result.received) : undefined;
  }

  onGossip(update: Uint8Array): GossipData | undefined {
    const result = this.apply(update);
    return result.improved.size > 0 ? new TopologyGossipData(this.peers, result.improved) : undefined;
  }

  gossip(): GossipData {
    return new TopologyGossipData(this.peers, this.peers.names());
  }

  private apply(update: Uint8Array): TopologyUpdateResult {
    const result = this.peers.applyUpdate(update);
    if (result.improved.size > 0) this.changed(result);
    return result;
  }
}
