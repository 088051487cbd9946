import { describe, expect, it } from 'vitest';
import {
  InvalidPeerNameError,
  parsePeerName,
  peerNameFromNumber,
  peerNameToBytes,
  peerNameToNumber,
} from '@weave-ts/core';

describe('peer names (mac flavour)', () => {
  it('parses full and abbreviated forms', () => {
    expect(parsePeerName('8A:3E:3E:3E:3E:3E')).toBe('8a:3e:3e:3e:3e:3e');
    expect(parsePeerName('::1')).toBe('00:00:00:00:00:01');
    expect(parsePeerName('a::')).toBe('0a:00:00:00:00:00');
    expect(parsePeerName('1::2')).toBe('01:00:00:00:00:02');
    expect(parsePeerName('1:2::3:4')).toBe('01:02:00:00:03:04');
    expect(parsePeerName('::1:2:3:4:5')).toBe('00:01:02:03:04:05');
  });
  it('rejects malformed names', () => {
    for (const bad of ['', '::', '1:2:3:4:5', '1:2:3:4:5:6:7', '1::2::3', 'zz::', '1:2:3:4:5:6::', '123::']) {
      expect(() => parsePeerName(bad), bad).toThrow(InvalidPeerNameError);
    }
  });
  it('converts to and from numbers and bytes', () => {
    const name = parsePeerName('0a:00:00:00:00:03');
    expect(peerNameToNumber(name)).toBe(0x0a0000000003);
    expect(peerNameFromNumber(0x0a0000000003)).toBe(name);
    expect(Array.from(peerNameToBytes(name))).toEqual([10, 0, 0, 0, 0, 3]);
    expect(() => peerNameFromNumber(2 ** 48)).toThrow(InvalidPeerNameError);
  });
});
