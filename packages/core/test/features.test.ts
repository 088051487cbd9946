import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidPeerNameError, parsePeerName } from '@weave-ts/core';
import {
  GobError,
  InvalidFeatureError,
  MissingFeatureError,
  PeerNameFlavourMismatchError,
  REQUIRED_FEATURES,
  connectionUID,
  decodeFeatures,
  encodeFeatures,
  makeFeatures,
  parseFeatureBool,
  parseFeatureUint,
  parseFeatures,
} from '@weave-ts/core/protocol';

const local = {
  name: parsePeerName('0a:00:00:00:00:01'),
  nickname: 'hostA',
  uid: 2033597239723757811n,
  connId: 18446744073709551615n,
  shortId: 1488,
  trusted: true,
};

describe('makeFeatures', () => {
  it('writes every field in decimal / canonical text', () => {
    expect(makeFeatures(local)).toEqual({
      PeerNameFlavour: 'mac',
      Name: '0a:00:00:00:00:01',
      NickName: 'hostA',
      ShortID: '1488',
      UID: '2033597239723757811',
      ConnID: '18446744073709551615',
      Trusted: 'true',
    });
  });
});

describe('parseFeatures', () => {
  const remote = { ...makeFeatures(local), Overlays: 'fastdp sleeve' };

  it('reads back what makeFeatures wrote, keeping unknown features', () => {
    const intro = parseFeatures(remote);
    expect(intro).toEqual({
      name: '0a:00:00:00:00:01',
      nickname: 'hostA',
      uid: 2033597239723757811n,
      connId: 18446744073709551615n,
      shortId: 1488,
      trusted: true,
      features: remote,
    });
  });

  it('treats ShortID and Trusted as optional', () => {
    const rest: Record<string, string> = { ...remote };
    delete rest.ShortID;
    delete rest.Trusted;
    const intro = parseFeatures(rest);
    expect(intro.shortId).toBeUndefined();
    expect(intro.trusted).toBeUndefined();
    expect('shortId' in intro).toBe(false);
  });

  it('requires the mustHave fields, reporting the first missing in upstream order', () => {
    for (const key of REQUIRED_FEATURES) {
      const f: Record<string, string> = { ...remote };
      delete f[key];
      expect(() => parseFeatures(f)).toThrow(MissingFeatureError);
      expect(() => parseFeatures(f)).toThrow(`field ${key} is missing`);
    }
    expect(() => parseFeatures({})).toThrow('field PeerNameFlavour is missing');
    // An empty string is present, not missing.
    expect(parseFeatures({ ...remote, NickName: '' }).nickname).toBe('');
  });

  it('does not take inherited properties for features', () => {
    const f = Object.create({ ConnID: '1' }) as Record<string, string>;
    Object.assign(f, remote);
    delete f.ConnID;
    expect(() => parseFeatures(f)).toThrow('field ConnID is missing');
  });

  it('refuses another peer name flavour before looking at the name', () => {
    expect(() => parseFeatures({ ...remote, PeerNameFlavour: 'hash', Name: 'whatever' })).toThrow(
      PeerNameFlavourMismatchError,
    );
    expect(() => parseFeatures({ ...remote, PeerNameFlavour: 'hash' })).toThrow(
      "Peer name flavour mismatch (ours: 'mac', theirs: 'hash')",
    );
  });

  it('refuses bad names, numbers and booleans', () => {
    expect(() => parseFeatures({ ...remote, Name: 'nope' })).toThrow(InvalidPeerNameError);
    expect(() => parseFeatures({ ...remote, UID: '-1' })).toThrow(
      'strconv.ParseUint: parsing "-1": invalid syntax',
    );
    expect(() => parseFeatures({ ...remote, ConnID: '18446744073709551616' })).toThrow(
      'strconv.ParseUint: parsing "18446744073709551616": value out of range',
    );
    expect(() => parseFeatures({ ...remote, ShortID: '4096' })).toThrow(InvalidFeatureError);
    expect(() => parseFeatures({ ...remote, Trusted: 'yes' })).toThrow(
      'strconv.ParseBool: parsing "yes": invalid syntax',
    );
    try {
      parseFeatures({ ...remote, UID: 'x' });
    } catch (e) {
      expect(e).toMatchObject({ feature: 'UID', value: 'x' });
    }
  });
});

describe('Go-compatible number and bool parsing', () => {
  it('accepts what strconv.ParseUint(s, 10, bits) accepts', () => {
    expect(parseFeatureUint('X', '0', 64)).toBe(0n);
    expect(parseFeatureUint('X', '007', 64)).toBe(7n);
    expect(parseFeatureUint('X', '4095', 12)).toBe(4095n);
    expect(parseFeatureUint('X', `${'0'.repeat(40)}1`, 64)).toBe(1n);
    expect(parseFeatureUint('X', '18446744073709551615', 64)).toBe(2n ** 64n - 1n);
    for (const bad of ['', '+1', ' 1', '1 ', '0x10', '1_000', '1e3', '١']) {
      expect(() => parseFeatureUint('X', bad, 64), bad).toThrow('invalid syntax');
    }
    expect(() => parseFeatureUint('X', '9'.repeat(5000), 64)).toThrow('value out of range');
  });
  it('round-trips any uint64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
        expect(parseFeatureUint('UID', n.toString(), 64)).toBe(n);
      }),
    );
  });
  it('accepts the spellings strconv.ParseBool accepts', () => {
    for (const s of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseFeatureBool('T', s)).toBe(true);
    for (const s of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseFeatureBool('T', s)).toBe(false);
    for (const s of ['', 'tRUE', 'yes', ' true'])
      expect(() => parseFeatureBool('T', s)).toThrow(InvalidFeatureError);
  });
});

describe('connectionUID', () => {
  it('is the XOR of both ConnIDs, the same at both ends', () => {
    expect(connectionUID(0b1100n, 0b1010n)).toBe(0b0110n);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (a, b) => {
          const uid = connectionUID(a, b);
          expect(uid).toBe(connectionUID(b, a));
          expect(uid >= 0n && uid < 2n ** 64n).toBe(true);
          expect(connectionUID(uid, b)).toBe(a);
        },
      ),
    );
  });
});

describe('features message (gob map[string]string)', () => {
  it('round-trips any string map', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), (map) => {
        expect(decodeFeatures(encodeFeatures(map))).toEqual(map);
      }),
      { numRuns: 200 },
    );
  });
  it('keeps a __proto__ key as plain data', () => {
    const f = decodeFeatures(
      encodeFeatures(JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>),
    );
    expect(Object.getPrototypeOf(f)).toBe(Object.prototype);
    expect(Object.hasOwn(f, '__proto__')).toBe(true);
    expect(f.a).toBe('b');
  });
  it('refuses bodies that are not a string map', () => {
    for (const bad of [new Uint8Array(0), Uint8Array.of(1, 2, 3), new TextEncoder().encode('weave')]) {
      expect(() => decodeFeatures(bad)).toThrow(GobError);
    }
  });
});
