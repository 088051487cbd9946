/**
 * The first byte of every message on an established control connection (protocol version 2).
 * Values are Weave's (`mesh/protocol.go`).
 */
export const ProtocolTag = {
  /** Empty body; sent every 30 s so the peer's 60 s read deadline never fires on a live link. */
  Heartbeat: 0,
  /** Legacy sleeve control for peers without the `Overlays` feature (1..3). */
  Reserved1: 1,
  /** Legacy sleeve control (see `Reserved1`). */
  Reserved2: 2,
  /** Legacy sleeve control (see `Reserved1`). */
  Reserved3: 3,
  /** gob(channel) ‖ gob(sender) ‖ gob(payload): neighbour gossip. */
  Gossip: 4,
  /** gob(channel) ‖ gob(source) ‖ gob(destination) ‖ gob(payload): routed hop by hop. */
  GossipUnicast: 5,
  /** gob(channel) ‖ gob(origin) ‖ gob(payload): sent along the origin's broadcast tree. */
  GossipBroadcast: 6,
  /** `[forwarder index][sub-tag][message]` for the overlay (datapath) connection. */
  OverlayControlMsg: 7,
} as const;

export type ProtocolTag = (typeof ProtocolTag)[keyof typeof ProtocolTag];

/** Prefixes `body` with `tag`. */
export function protocolMessage(tag: ProtocolTag, body: Uint8Array): Uint8Array {
  const msg = new Uint8Array(body.length + 1);
  msg[0] = tag;
  msg.set(body, 1);
  return msg;
}
