// A Gossiper wrapper that loses and delays application gossip (IPAM, DNS) on the way out, as messages
// in flight on a connection that breaks would be. The router underneath is untouched.
import type {
  Clock,
  GossipChannel,
  Gossiper,
  GossipReceiver,
  Random,
} from '../../packages/core/src/index.js';

/** Current loss settings, shared by every wrapped channel of a world. */
export interface LossSettings {
  rate: number;
  delay: number;
}

/** Wraps `inner` so every send first consults `loss`. */
export function lossyGossiper(inner: Gossiper, loss: LossSettings, clock: Clock, random: Random): Gossiper {
  return {
    registerChannel(name: string, receiver: GossipReceiver): GossipChannel {
      const channel = inner.registerChannel(name, receiver);
      const send = (fn: () => void): void => {
        if (loss.rate > 0 && random.float() < loss.rate) return;
        const delay = loss.delay > 0 ? random.int(loss.delay + 1) : 0;
        if (delay === 0) {
          fn();
          return;
        }
        clock.setTimeout(() => {
          try {
            fn();
          } catch {
            // the destination became unreachable meanwhile: lost
          }
        }, delay);
      };
      return {
        name: channel.name,
        gossipUnicast: (dst, msg) => {
          // Unreachable destinations still fail at once, as the router reports them.
          if (loss.rate === 0 && loss.delay === 0) return channel.gossipUnicast(dst, msg);
          const copy = msg.slice();
          send(() => channel.gossipUnicast(dst, copy));
        },
        gossipBroadcast: (data) => send(() => channel.gossipBroadcast(data)),
        gossipNeighbourSubset: (data) => send(() => channel.gossipNeighbourSubset(data)),
      };
    },
  };
}
