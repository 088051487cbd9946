// Unencrypted sleeve: the sender name at the start of a datagram is not proof of who sent it. Data
// frames are accepted only from the UDP address the connection's heartbeats established; anything
// else carrying a connected peer's name is dropped and counted.
import { describe, expect, it } from 'vitest';
import { FRAME_OVERHEAD, NAME_SIZE } from '../src/constants.js';
import { writeFrameRecord } from '../src/sleeve-packet.js';
import { makeHeartbeatFrame } from '../src/special-frames.js';
import { arpFrame } from './frames.js';
import { A, A_ADDR, B, B_ADDR, CONN_UID, establish, makePair } from './harness.js';
import { peerNameToBytes } from '@weave-ts/core';

/** An unencrypted datagram from peer `from` to `to` carrying `frame`. */
function datagram(from: typeof A, to: typeof B, frame: Uint8Array): Uint8Array {
  const buf = new Uint8Array(NAME_SIZE + FRAME_OVERHEAD + frame.length);
  buf.set(peerNameToBytes(from), 0);
  writeFrameRecord(buf, NAME_SIZE, peerNameToBytes(from), peerNameToBytes(to), frame);
  return buf;
}

const FOREIGN = { host: '10.250.0.66', port: 6783 };

describe('unencrypted sleeve sender checks', () => {
  it('drops a data frame that names a connected peer but comes from a foreign address', () => {
    const pair = makePair();
    establish(pair);
    const before = pair.received.b.length;
    pair.underlay.inject(FOREIGN, B_ADDR, datagram(A, B, arpFrame()));
    pair.clock.advance(1);
    expect(pair.received.b).toHaveLength(before);
    expect(pair.overlayB.diagnostics().counters.wrongAddress).toBe(1);
    // The same datagram from A's established address is delivered.
    pair.underlay.inject(A_ADDR, B_ADDR, datagram(A, B, arpFrame()));
    pair.clock.advance(1);
    expect(pair.received.b).toHaveLength(before + 1);
    expect(pair.overlayB.diagnostics().counters.wrongAddress).toBe(1);
  });

  it('moves to a new address only through a heartbeat carrying the connection UID', () => {
    const pair = makePair();
    establish(pair);
    // A heartbeat with a wrong UID from elsewhere changes nothing.
    pair.underlay.inject(FOREIGN, B_ADDR, datagram(A, B, makeHeartbeatFrame(CONN_UID ^ 1n)));
    pair.underlay.inject(FOREIGN, B_ADDR, datagram(A, B, arpFrame()));
    pair.clock.advance(1);
    expect(pair.overlayB.diagnostics().forwarders[0]?.remoteAddress).toBe('10.250.0.1:6783');
    expect(pair.overlayB.diagnostics().counters.wrongAddress).toBe(1);
    // The right UID (a NATed peer that moved) moves the connection; frames from there then count.
    const before = pair.received.b.length;
    pair.underlay.inject(FOREIGN, B_ADDR, datagram(A, B, makeHeartbeatFrame(CONN_UID)));
    pair.underlay.inject(FOREIGN, B_ADDR, datagram(A, B, arpFrame()));
    pair.clock.advance(1);
    expect(pair.overlayB.diagnostics().forwarders[0]?.remoteAddress).toBe('10.250.0.66:6783');
    expect(pair.received.b).toHaveLength(before + 1);
  });

  it('drops data frames before any heartbeat set the address (inbound connection)', () => {
    const pair = makePair();
    pair.fb.confirm(); // B knows A's name but has had no heartbeat yet
    pair.underlay.inject(A_ADDR, B_ADDR, datagram(A, B, arpFrame()));
    pair.clock.advance(1);
    expect(pair.received.b).toHaveLength(0);
    expect(pair.overlayB.diagnostics().counters.wrongAddress).toBe(1);
  });
});
