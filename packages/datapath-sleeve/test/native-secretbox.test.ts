// The addon's secretbox against tweetnacl: identical bytes, and the sleeve's encoders and decryptors
// interoperate whichever implementation each end uses.
import { nativeSecretbox } from '@weave-ts/host';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { iterateFrameRecords, NaClDecryptor, NaClFrameEncoder, PacketDecodingError } from '../src/index.js';

const native = nativeSecretbox();
const NAME_A = Uint8Array.of(0x0a, 0, 0, 0, 0, 1);
const NAME_B = Uint8Array.of(0x0a, 0, 0, 0, 0, 2);
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

describe.runIf(native !== undefined)('native secretbox (host addon)', () => {
  const box = native!;

  it('seals exactly what tweetnacl seals and opens it again', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), bytes(24), bytes(32), (msg, nonce, key) => {
        const out = new Uint8Array(msg.length + 16);
        box.seal(out, msg, nonce, key);
        expect(Buffer.from(out).equals(Buffer.from(nacl.secretbox(msg, nonce, key)))).toBe(true);
        const back = new Uint8Array(msg.length);
        expect(box.open(back, out, nonce, key)).toBe(true);
        expect(Buffer.from(back).equals(Buffer.from(msg))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with tweetnacl at every length around the 4-block and 16-byte boundaries', () => {
    // The stream runs four 64-byte blocks at a time after the first 32 bytes; Poly1305 takes 16-byte
    // blocks with a padded tail: lengths around each edge take every mix of the code paths.
    const key = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(24);
    for (let length = 0; length <= 1100; length++) {
      const msg = nacl.randomBytes(length);
      const out = new Uint8Array(length + 16);
      box.seal(out, msg, nonce, key);
      expect(Buffer.from(out).equals(Buffer.from(nacl.secretbox(msg, nonce, key)))).toBe(true);
    }
  });

  it('refuses any flipped bit and leaves the output untouched', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        bytes(24),
        bytes(32),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (msg, nonce, key, at, bit) => {
          const sealed = nacl.secretbox(msg, nonce, key);
          sealed[at % sealed.length]! ^= 1 << bit;
          const out = new Uint8Array(msg.length).fill(0xee);
          expect(box.open(out, sealed, nonce, key)).toBe(false);
          expect(out.every((b) => b === 0xee)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('seals in place when the output is 16 bytes ahead of the message', () => {
    const key = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(24);
    const msg = nacl.randomBytes(200);
    const buf = new Uint8Array(216);
    buf.set(msg, 16);
    box.seal(buf, buf.subarray(16), nonce, key);
    expect(Buffer.from(buf).equals(Buffer.from(nacl.secretbox(msg, nonce, key)))).toBe(true);
  });

  it('rejects wrong lengths with a TypeError', () => {
    const key = new Uint8Array(32);
    expect(() => box.seal(new Uint8Array(20), new Uint8Array(5), new Uint8Array(24), key)).toThrow(TypeError);
    expect(() => box.seal(new Uint8Array(21), new Uint8Array(5), new Uint8Array(23), key)).toThrow(TypeError);
    expect(() => box.open(new Uint8Array(0), new Uint8Array(15), new Uint8Array(24), key)).toThrow(TypeError);
  });

  it('makes the sleeve encoder write the same datagrams as with tweetnacl, and both decrypt them', () => {
    const key = nacl.randomBytes(32);
    const fast = new NaClFrameEncoder(NAME_A, key, true, true, box);
    const slow = new NaClFrameEncoder(NAME_A, key, true, true, null);
    const fastOpen = new NaClDecryptor(key, false, box);
    const slowOpen = new NaClDecryptor(key, false, null);
    for (const size of [1, 60, 1400]) {
      const frame = nacl.randomBytes(size);
      fast.append(NAME_A, NAME_B, frame);
      slow.append(NAME_A, NAME_B, frame);
      const a = fast.seal();
      const b = slow.seal();
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      for (const dec of [fastOpen, slowOpen]) {
        const plain = dec.open(a.subarray(6));
        expect(plain).toBeInstanceOf(Uint8Array);
        const seen: number[] = [];
        iterateFrameRecords(plain as Uint8Array, (_s, _d, f) => seen.push(f.length));
        expect(seen).toEqual([size]);
        // The same datagram again is a replay.
        expect(dec.open(a.subarray(6))).toBeNull();
      }
    }
    const forged = fast.seal();
    forged[forged.length - 1]! ^= 1;
    expect(fastOpen.open(forged.subarray(6))).toBeInstanceOf(PacketDecodingError);
  });
});
