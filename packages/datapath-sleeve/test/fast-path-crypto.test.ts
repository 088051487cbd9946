// The fast path's NaCl state (host addon, native/fastpath.c) against the JS sleeve crypto: its
// datagrams open with JS decryptors and vice versa, sequence numbers are shared with JS encoders
// through SharedNaClState, and its replay windows agree with ReplayWindow number for number.
import { nativeSecretbox, SleeveFastPath } from '@weave-ts/host';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSleeveCrypto,
  iterateFrameRecords,
  NaClDecryptor,
  NaClFrameEncoder,
  type PacketDecodingError,
  ReplayWindow,
} from '../src/index.js';
import { hex } from './frames.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => 7 * i + 3);
const NAME_A = Uint8Array.of(0x0a, 0, 0, 0, 0, 1);
const NAME_B = Uint8Array.of(0x0a, 0, 0, 0, 0, 2);
const BLOCK = 2 ** 20;
const DF = 1n << 63n;

const fastPaths: SleeveFastPath[] = [];
afterEach(() => {
  for (const fp of fastPaths.splice(0)) fp.close();
});

/** A fast path named NAME_A with one encrypted connection to NAME_B. */
function connection(outbound: boolean) {
  const fp = SleeveFastPath.create({ ourName: NAME_A });
  fastPaths.push(fp);
  return fp.addConnection(NAME_B, KEY, outbound);
}

function records(...frames: Uint8Array[]): Uint8Array {
  const enc = new NaClFrameEncoder(NAME_A, KEY, true, false, null);
  for (const f of frames) enc.append(NAME_A, NAME_B, f);
  // Reach the plain records the encoder packed: open its own datagram with the matching decryptor.
  const plain = new NaClDecryptor(KEY, false, null).open(enc.seal().subarray(6));
  if (!(plain instanceof Uint8Array)) throw new Error('could not build records');
  return plain;
}

function framesOf(plain: Uint8Array | null | false | PacketDecodingError): string[] {
  if (!(plain instanceof Uint8Array)) throw new Error(`not opened: ${String(plain)}`);
  const out: string[] = [];
  expect(iterateFrameRecords(plain, (_s, _d, f) => out.push(hex(f)))).toBeUndefined();
  return out;
}

/** A body (field ‖ tag ‖ ciphertext) sealed with tweetnacl for an arbitrary 64-bit field. */
function bodyAt(field: bigint, senderDialled: boolean, plain: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(24);
  if (senderDialled) nonce[0] = 0x80;
  const fieldBytes = new Uint8Array(8);
  new DataView(fieldBytes.buffer).setBigUint64(0, field);
  nonce.set(fieldBytes, 16);
  const sealed = nacl.secretbox(plain, nonce, KEY);
  const body = new Uint8Array(8 + sealed.length);
  body.set(fieldBytes);
  body.set(sealed, 8);
  return body;
}

describe.runIf(nativeSecretbox() !== undefined)('fast path NaCl state (host addon)', () => {
  const frameX = Uint8Array.from({ length: 60 }, (_, i) => i);
  const frameY = Uint8Array.from({ length: 1400 }, (_, i) => (i * 13) & 0xff);

  it('seals datagrams a JS decryptor opens, numbering each path from 0 with the DF bit', () => {
    const conn = connection(true);
    const js = new NaClDecryptor(KEY, false, null);
    const plain = records(frameX, frameY);
    const first = conn.seal(false, plain);
    const second = conn.seal(false, plain);
    const df = conn.seal(true, plain);
    expect(Buffer.from(first.subarray(0, 6)).equals(Buffer.from(NAME_A))).toBe(true);
    const field = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset + 6, 8).getBigUint64(0);
    expect([field(first), field(second), field(df)]).toEqual([0n, 1n, DF]);
    for (const d of [first, second, df])
      expect(framesOf(js.open(d.subarray(6)))).toEqual([hex(frameX), hex(frameY)]);
    expect(js.open(second.subarray(6))).toBeNull();
  });

  it('opens JS-sealed datagrams once: replays are null, tampering is false', () => {
    const conn = connection(true);
    const enc = new NaClFrameEncoder(NAME_B, KEY, false, true, null);
    enc.append(NAME_B, NAME_A, frameY);
    const datagram = enc.seal();
    expect(framesOf(conn.open(datagram.subarray(6)))).toEqual([hex(frameY)]);
    expect(conn.open(datagram.subarray(6))).toBeNull();
    const forged = datagram.slice(6);
    forged[forged.length - 1]! ^= 1;
    expect(conn.open(forged)).toBe(false);
    // Our own nonces carry the other dialled flag: a reflected datagram of ours is not authentic.
    expect(conn.open(conn.seal(true, records(frameX)).subarray(6))).toBe(false);
    expect(conn.open(Uint8Array.of(1, 2, 3))).toBe(false);
  });

  it('shares sequence numbers with the JS encoders of the same connection', () => {
    const conn = connection(false);
    const crypto = createSleeveCrypto(NAME_A, KEY, false, conn);
    crypto.encoderDF.append(NAME_A, NAME_B, frameX);
    const fromJs = crypto.encoderDF.seal();
    const fromNative = conn.seal(true, records(frameY));
    const remote = new NaClDecryptor(KEY, true, null);
    expect(framesOf(remote.open(fromJs.subarray(6)))).toEqual([hex(frameX)]);
    expect(framesOf(remote.open(fromNative.subarray(6)))).toEqual([hex(frameY)]);
    const seq = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset + 6, 8).getBigUint64(0) & ~DF;
    expect([seq(fromJs), seq(fromNative)]).toEqual([0n, 1n]);
    // And the JS decryptor's replay check is the native window.
    const incoming = new NaClFrameEncoder(NAME_B, KEY, true, false, null);
    incoming.append(NAME_B, NAME_A, frameX);
    const datagram = incoming.seal();
    expect(framesOf(crypto.decryptor.open(datagram.subarray(6)))).toEqual([hex(frameX)]);
    expect(conn.open(datagram.subarray(6))).toBeNull();
    expect(crypto.decryptor.open(datagram.subarray(6))).toBeNull();
  });

  it('drops replays exactly as ReplayWindow does, per path (property)', () => {
    const plain = records(frameX);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 6 * BLOCK })), { maxLength: 60 }),
        fc.constantFrom(0, 2 ** 40),
        (seqs, base) => {
          const conn = connection(true);
          const windows = [new ReplayWindow(), new ReplayWindow()];
          for (const [df, offset] of seqs) {
            const seq = base + offset;
            const expected = windows[df ? 1 : 0]!.accept(Math.floor(seq / 2 ** 32), seq >>> 0);
            const field = BigInt(seq) | (df ? DF : 0n);
            const opened = conn.open(bodyAt(field, false, plain));
            expect(opened === null ? 'replay' : opened === false ? 'forged' : 'fresh').toBe(
              expected ? 'fresh' : 'replay',
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses use after close with a clear error', () => {
    const fp = SleeveFastPath.create({ ourName: NAME_A });
    const conn = fp.addConnection(NAME_B, KEY, true);
    fp.close();
    expect(() => conn.seal(false, records(frameX))).toThrow(/fast path .* is closed/);
    expect(() => fp.addConnection(NAME_B, KEY, true)).toThrow(/closed/);
    fp.close();
    conn.remove();
  });
});
