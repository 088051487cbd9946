import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PeerName } from '@weave-ts/core';
import {
  MAC_MAX_AGE_MS,
  MacCache,
  STP_MAC,
  dstMac,
  formatMac,
  isGroupMac,
  macBytes,
  parseMac,
  srcMac,
} from '@weave-ts/core/protocol';
import { VirtualClock } from '@weave-ts/core/testing';

const P1 = '0a:00:00:00:00:01' as PeerName;
const P2 = '0a:00:00:00:00:02' as PeerName;
const M1 = parseMac('02:42:0a:20:00:01');
const M2 = parseMac('02:42:0a:20:00:02');

describe('MAC helpers', () => {
  it('round-trips MACs through numbers, strings and bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
        const frame = new Uint8Array(14);
        frame.set(bytes, 0);
        frame.set(bytes, 6);
        const mac = dstMac(frame);
        expect(srcMac(frame)).toBe(mac);
        expect(macBytes(mac)).toEqual(bytes);
        expect(parseMac(formatMac(mac))).toBe(mac);
        expect(isGroupMac(mac)).toBe((bytes[0]! & 1) === 1);
      }),
    );
  });

  it('knows the STP and broadcast group addresses', () => {
    expect(formatMac(STP_MAC)).toBe('01:80:c2:00:00:00');
    expect(isGroupMac(parseMac('ff:ff:ff:ff:ff:ff'))).toBe(true);
    expect(isGroupMac(M1)).toBe(false);
    expect(() => parseMac('01:80:c2:00:00')).toThrow(/invalid MAC address/);
  });
});

describe('MacCache', () => {
  it('learns, looks up, and reports conflicts without changing the entry', () => {
    const cache = new MacCache({ clock: new VirtualClock() });
    expect(cache.add(M1, P1)).toBe('new');
    expect(cache.add(M1, P1)).toBe('known');
    expect(cache.add(M1, P2)).toBe('conflict');
    expect(cache.previousPeer).toBe(P1);
    expect(cache.lookup(M1)).toBe(P1);
    expect(cache.lookup(M2)).toBeUndefined();
  });

  it('addForced moves a MAC to another peer and says where it was', () => {
    const cache = new MacCache({ clock: new VirtualClock() });
    expect(cache.addForced(M1, P1)).toBe('new');
    expect(cache.addForced(M1, P1)).toBe('known');
    expect(cache.addForced(M1, P2)).toBe('moved');
    expect(cache.previousPeer).toBe(P1);
    expect(cache.lookup(M1)).toBe(P2);
  });

  it('expires entries 10 minutes after they were last seen, sweeping every minute', () => {
    const clock = new VirtualClock();
    const expired: string[] = [];
    const cache = new MacCache({ clock, onExpiry: (mac, peer) => expired.push(`${formatMac(mac)}@${peer}`) });
    expect(MAC_MAX_AGE_MS).toBe(600_000);
    cache.start();
    cache.add(M1, P1);
    cache.add(M2, P2);
    // M2 is seen again after 5 min (more than maxAge/10 since the last refresh), M1 is not.
    clock.advance(5 * 60_000);
    cache.add(M2, P2);
    clock.advance(5 * 60_000);
    expect(cache.size).toBe(2); // exactly 10 min: not yet older than maxAge
    clock.advance(60_000);
    expect(expired).toEqual(['02:42:0a:20:00:01@0a:00:00:00:00:01']);
    expect(cache.lookup(M1)).toBeUndefined();
    expect(cache.lookup(M2)).toBe(P2);
    clock.advance(5 * 60_000);
    expect(cache.size).toBe(0);
    cache.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('refreshes lastSeen at most every maxAge/10', () => {
    const clock = new VirtualClock();
    const cache = new MacCache({ clock, maxAgeMs: 1_000 });
    cache.add(M1, P1);
    const t0 = clock.now();
    clock.advance(50);
    cache.add(M1, P1); // within 100 ms: not refreshed
    expect(cache.entries()[0]!.lastSeen).toBe(t0);
    clock.advance(60);
    cache.add(M1, P1);
    expect(cache.entries()[0]!.lastSeen).toBe(t0 + 110);
  });

  it('forgets every MAC of a removed peer', () => {
    const cache = new MacCache({ clock: new VirtualClock() });
    cache.add(M1, P1);
    cache.add(M2, P1);
    cache.add(parseMac('02:00:00:00:00:09'), P2);
    expect(cache.deletePeer(P1)).toBe(2);
    expect(cache.size).toBe(1);
    expect(cache.deletePeer(P1)).toBe(0);
  });
});
