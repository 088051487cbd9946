import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { type Random, systemRandom } from '@weave-ts/core';
import {
  BadEncryptionFlagError,
  DecryptError,
  ExpectedCryptoError,
  ExpectedNoCryptoError,
  SECRETBOX_OVERHEAD,
  TcpOpener,
  TcpSealer,
  checkCryptoFlag,
  encodeCryptoIntro,
  formSessionKey,
  generateEphemeralKeyPair,
  tcpNonce,
} from '@weave-ts/core/protocol';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const enc = (s: string) => new TextEncoder().encode(s);

// The Curve25519 test keys from the NaCl distribution (tests/box.c), and its crypto_box_beforenm output.
const ALICE_SK = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const ALICE_PK = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const BOB_SK = '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb';
const BOB_PK = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const BEFORENM = '1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389';

const bytesRandom = (b: string): Random => ({ float: () => 0, int: () => 0, bytes: () => hex(b) });

describe('ephemeral keys and the session key', () => {
  it('derives the public key from 32 random bytes (X25519 base point multiplication)', () => {
    const pair = generateEphemeralKeyPair(bytesRandom(ALICE_SK));
    expect(toHex(pair.publicKey)).toBe(ALICE_PK);
    expect(toHex(pair.secretKey)).toBe(ALICE_SK);
  });

  it('is SHA-256 of the NaCl precomputed key (not the raw X25519 secret) and the password', () => {
    const password = enc('s3cret');
    const expected = createHash('sha256').update(hex(BEFORENM)).update(password).digest('hex');
    expect(toHex(formSessionKey(hex(BOB_PK), hex(ALICE_SK), password))).toBe(expected);
    // Both ends agree.
    expect(toHex(formSessionKey(hex(ALICE_PK), hex(BOB_SK), password))).toBe(expected);
  });

  it('depends on the password', () => {
    const a = formSessionKey(hex(BOB_PK), hex(ALICE_SK), enc('one'));
    const b = formSessionKey(hex(BOB_PK), hex(ALICE_SK), enc('two'));
    expect(toHex(a)).not.toBe(toHex(b));
  });

  it('fresh key pairs differ per connection', () => {
    const a = generateEphemeralKeyPair(systemRandom);
    const b = generateEphemeralKeyPair(systemRandom);
    expect(toHex(a.publicKey)).not.toBe(toHex(b.publicKey));
  });
});

describe('crypto intro', () => {
  it('is 0x00 when plain, 0x01 ‖ 32-byte key when encrypting', () => {
    expect(Array.from(encodeCryptoIntro(undefined))).toEqual([0]);
    const intro = encodeCryptoIntro(hex(ALICE_PK));
    expect(intro.length).toBe(33);
    expect(intro[0]).toBe(1);
    expect(toHex(intro.subarray(1))).toBe(ALICE_PK);
  });

  it('checks the remote flag against our password with upstream texts', () => {
    expect(checkCryptoFlag(0, false)).toBe(false);
    expect(checkCryptoFlag(1, true)).toBe(true);
    expect(() => checkCryptoFlag(0, true)).toThrow(ExpectedCryptoError);
    expect(() => checkCryptoFlag(0, true)).toThrow(
      'password specified, but peer requested an unencrypted connection',
    );
    expect(() => checkCryptoFlag(1, false)).toThrow(ExpectedNoCryptoError);
    expect(() => checkCryptoFlag(1, false)).toThrow(
      'no password specificed, but peer requested an encrypted connection',
    );
    for (const flag of [2, 0x80, 0xff]) {
      expect(() => checkCryptoFlag(flag, true)).toThrow(BadEncryptionFlagError);
      expect(() => checkCryptoFlag(flag, false)).toThrow(`Bad encryption flag ${flag}`);
    }
  });
});

describe('TCP nonces', () => {
  it('sets bit 7 for the dialler, bit 6 always, and the sequence in bytes 16..23', () => {
    const out0 = tcpNonce(true, 0n);
    expect(out0.length).toBe(24);
    expect(out0[0]).toBe(0xc0);
    expect(Array.from(out0.subarray(1))).toEqual(new Array(23).fill(0));
    expect(tcpNonce(false, 0n)[0]).toBe(0x40);
    const n = tcpNonce(false, 0x0102030405060708n);
    expect(Array.from(n.subarray(16))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(n.subarray(1, 16))).toEqual(new Array(15).fill(0));
  });
});

describe('TCP sealer and opener', () => {
  const key = createHash('sha256').update('k').digest();

  it('seals message i under the sender-polarity nonce with sequence i', () => {
    for (const outbound of [true, false]) {
      const sealer = new TcpSealer(key, outbound);
      for (let i = 0n; i < 5n; i++) {
        const msg = enc(`message ${i}`);
        const sealed = sealer.seal(msg);
        expect(sealed.length).toBe(msg.length + SECRETBOX_OVERHEAD);
        const opened = nacl.secretbox.open(sealed, tcpNonce(outbound, i), key);
        expect(opened && new TextDecoder().decode(opened)).toBe(`message ${i}`);
      }
      expect(sealer.nextSequence).toBe(5n);
    }
  });

  it('round-trips both directions of one connection', () => {
    const dialler = { sealer: new TcpSealer(key, true), opener: new TcpOpener(key, true) };
    const listener = { sealer: new TcpSealer(key, false), opener: new TcpOpener(key, false) };
    for (let i = 0; i < 3; i++) {
      expect(toHex(listener.opener.open(dialler.sealer.seal(enc(`d${i}`))))).toBe(toHex(enc(`d${i}`)));
      expect(toHex(dialler.opener.open(listener.sealer.seal(enc(`l${i}`))))).toBe(toHex(enc(`l${i}`)));
    }
    expect(toHex(listener.opener.open(dialler.sealer.seal(new Uint8Array(0))))).toBe('');
  });

  it('fails with upstream text on the wrong polarity, key, order or a flipped bit', () => {
    const sealed = new TcpSealer(key, true).seal(enc('x'));
    // The dialler's own opener expects the listener's polarity.
    expect(() => new TcpOpener(key, true).open(sealed)).toThrow(DecryptError);
    expect(() => new TcpOpener(key, true).open(sealed)).toThrow('Unable to decrypt TCP msg');
    const otherKey = createHash('sha256').update('other').digest();
    expect(() => new TcpOpener(otherKey, false).open(sealed)).toThrow(DecryptError);

    const sealer = new TcpSealer(key, true);
    const m0 = sealer.seal(enc('zero'));
    const m1 = sealer.seal(enc('one'));
    const opener = new TcpOpener(key, false);
    expect(() => opener.open(m1)).toThrow(DecryptError); // out of order / replay
    for (let bit = 0; bit < m0.length * 8; bit += 13) {
      const tampered = Uint8Array.from(m0);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => opener.open(tampered)).toThrow(DecryptError);
    }
    // Failures do not advance the sequence.
    expect(new TextDecoder().decode(opener.open(m0))).toBe('zero');
    expect(new TextDecoder().decode(opener.open(m1))).toBe('one');
    expect(() => opener.open(m1)).toThrow(DecryptError); // a replay
  });

  it('refuses keys of the wrong size', () => {
    expect(() => new TcpSealer(new Uint8Array(16), true)).toThrow(RangeError);
  });
});
