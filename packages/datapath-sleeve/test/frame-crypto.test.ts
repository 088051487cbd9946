import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  createSleeveCrypto,
  iterateFrameRecords,
  NACL_PACKET_OVERHEAD,
  NaClDecryptor,
  NaClFrameEncoder,
  PacketDecodingError,
  PlainFrameEncoder,
} from '../src/index.js';
import { bytesOf, captures } from './golden.js';
import { hex } from './frames.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const NAME_A = Uint8Array.of(0x0a, 0, 0, 0, 0, 1);
const NAME_B = Uint8Array.of(0x0a, 0, 0, 0, 0, 2);

function seal(enc: NaClFrameEncoder, ...frames: Uint8Array[]): Uint8Array {
  for (const f of frames) enc.append(NAME_A, NAME_B, f);
  return enc.seal();
}

function frames(plain: Uint8Array | null | PacketDecodingError): string[] {
  if (!(plain instanceof Uint8Array)) throw new Error(`not decrypted: ${String(plain)}`);
  const out: string[] = [];
  expect(iterateFrameRecords(plain, (_s, _d, f) => out.push(hex(f)))).toBeUndefined();
  return out;
}

describe('NaCl sleeve encryption', () => {
  it('writes name ‖ seqNo|DF ‖ secretbox, 24 bytes bigger than the plain datagram', () => {
    const enc = new NaClFrameEncoder(NAME_A, KEY, true, false);
    const plain = new PlainFrameEncoder(NAME_A);
    plain.append(NAME_A, NAME_B, new Uint8Array(22));
    enc.append(NAME_A, NAME_B, new Uint8Array(22));
    expect(enc.totalLength()).toBe(plain.totalLength() + 24);
    const datagram = enc.seal();
    expect(datagram.length).toBe(plain.seal().length + 24);
    expect(datagram.length).toBe(NACL_PACKET_OVERHEAD + 14 + 22);
    expect(hex(datagram.subarray(0, 14))).toBe('0a00000000010000000000000000');
  });

  it('numbers each path from 0 and sets bit 63 on the DF path', () => {
    const df = new NaClFrameEncoder(NAME_A, KEY, false, true);
    const fields = [0, 1, 2].map(() => hex(seal(df, Uint8Array.of(1)).subarray(6, 14)));
    expect(fields).toEqual(['8000000000000000', '8000000000000001', '8000000000000002']);
  });

  it('uses the nonce upstream uses: bit 7 of byte 0 = sender dialled, bytes 16..23 = the field', () => {
    const enc = new NaClFrameEncoder(NAME_A, KEY, true, true);
    const datagram = seal(enc, Uint8Array.of(5, 6, 7));
    const nonce = new Uint8Array(24);
    nonce[0] = 0x80;
    nonce.set(datagram.subarray(6, 14), 16);
    const opened = nacl.secretbox.open(datagram.subarray(14), nonce, KEY);
    expect(opened).not.toBeNull();
    expect(hex(opened!)).toBe(`${hex(NAME_A)}${hex(NAME_B)}0003050607`);
  });

  it('decrypts what the other end of the connection encrypted, on both paths', () => {
    const a = createSleeveCrypto(NAME_A, KEY, true);
    const b = createSleeveCrypto(NAME_B, KEY, false);
    expect(a.encrypted).toBe(true);
    a.encoder.append(NAME_A, NAME_B, Uint8Array.of(1, 2));
    a.encoderDF.append(NAME_A, NAME_B, Uint8Array.of(3));
    expect(frames(b.decryptor.open(a.encoder.seal().subarray(6)))).toEqual(['0102']);
    expect(frames(b.decryptor.open(a.encoderDF.seal().subarray(6)))).toEqual(['03']);
    b.encoderDF.append(NAME_B, NAME_A, Uint8Array.of(4));
    expect(frames(a.decryptor.open(b.encoderDF.seal().subarray(6)))).toEqual(['04']);
  });

  it('cannot decrypt its own direction (the nonces differ by who dialled)', () => {
    const a = createSleeveCrypto(NAME_A, KEY, true);
    const alsoOutbound = createSleeveCrypto(NAME_B, KEY, true);
    a.encoder.append(NAME_A, NAME_B, Uint8Array.of(1));
    const result = alsoOutbound.decryptor.open(a.encoder.seal().subarray(6));
    expect(result).toBeInstanceOf(PacketDecodingError);
    expect((result as PacketDecodingError).message).toBe(
      'Failed to decode packet: UDP packet decryption failed',
    );
  });

  it('drops an exact replay silently, per path', () => {
    const enc = new NaClFrameEncoder(NAME_A, KEY, true, false);
    const dec = new NaClDecryptor(KEY, false);
    const d0 = seal(enc, Uint8Array.of(1)).subarray(6);
    expect(frames(dec.open(d0))).toEqual(['01']);
    expect(dec.open(d0)).toBeNull();
    // The DF path has its own window: its seq 0 is fresh.
    const df = new NaClFrameEncoder(NAME_A, KEY, true, true);
    expect(frames(dec.open(seal(df, Uint8Array.of(2)).subarray(6)))).toEqual(['02']);
  });

  it('accepts reordered datagrams once each', () => {
    const enc = new NaClFrameEncoder(NAME_A, KEY, true, false);
    const dec = new NaClDecryptor(KEY, false);
    const ds = [0, 1, 2, 3].map((i) => seal(enc, Uint8Array.of(i)).subarray(6));
    for (const i of [2, 0, 3, 1]) expect(frames(dec.open(ds[i]!))).toEqual([`0${i}`]);
    for (const d of ds) expect(dec.open(d)).toBeNull();
  });

  it('rejects corrupted and truncated datagrams without disturbing the stream', () => {
    const enc = new NaClFrameEncoder(NAME_A, KEY, true, false);
    const dec = new NaClDecryptor(KEY, false);
    const d0 = seal(enc, Uint8Array.of(1, 2, 3)).subarray(6);
    const flipped = d0.slice();
    flipped[flipped.length - 1]! ^= 1;
    expect(dec.open(flipped)).toBeInstanceOf(PacketDecodingError);
    const short = dec.open(d0.subarray(0, 5));
    expect((short as PacketDecodingError).message).toBe(
      'Failed to decode packet: encrypted UDP packet too short; expected length >= 8, got 5',
    );
    expect(dec.open(d0.subarray(0, 20))).toBeInstanceOf(PacketDecodingError);
    expect(frames(dec.open(d0))).toEqual(['010203']);
  });

  it('advances the replay window only after authentication (a forged huge seqNo changes nothing)', () => {
    const enc = new NaClFrameEncoder(NAME_A, KEY, true, false);
    const dec = new NaClDecryptor(KEY, false);
    const genuine = seal(enc, Uint8Array.of(1)).subarray(6);
    const forged = genuine.slice();
    forged.set([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
    expect(dec.open(forged)).toBeInstanceOf(PacketDecodingError);
    expect(frames(dec.open(genuine))).toEqual(['01']);
  });

  it('plain connections pass the body through', () => {
    const plain = createSleeveCrypto(NAME_A, undefined, true);
    expect(plain.encrypted).toBe(false);
    plain.encoder.append(NAME_A, NAME_B, Uint8Array.of(9));
    const datagram = plain.encoder.seal();
    expect(plain.decryptor.open(datagram.subarray(6))).toEqual(datagram.subarray(6));
  });
});

describe('golden: encrypted datagrams of a stock Weave 2.8.1 sleeve (enc.json)', () => {
  const datagrams = captures.enc.map((d) => ({ d, bytes: bytesOf(d) }));

  it('carries the DF bit of the IP header in bit 63 of the sequence field', () => {
    expect(datagrams.length).toBeGreaterThan(5);
    for (const { d, bytes } of datagrams) {
      expect(bytes[6]! >>> 7).toBe(d.df === '1' ? 1 : 0);
    }
  });

  it('numbers each sender and path on its own, increasing', () => {
    const last = new Map<string, bigint>();
    for (const { d, bytes } of datagrams) {
      const field = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(6);
      const seq = field & ((1n << 63n) - 1n);
      const key = `${d.src}/${d.df}`;
      const previous = last.get(key);
      if (previous !== undefined) expect(seq > previous).toBe(true);
      expect(seq < 10n).toBe(true);
      last.set(key, seq);
    }
    expect(last.size).toBe(4);
  });

  it('is exactly 24 bytes bigger than the plain equivalents: heartbeat 66, PMTU test 1472 for MTU 1414', () => {
    const sizes = datagrams.map(({ bytes }) => bytes.length);
    const heartbeats = datagrams.filter(({ d, bytes }) => d.df === '1' && bytes.length === 66);
    expect(heartbeats.length).toBeGreaterThanOrEqual(3);
    expect(sizes).toContain(1472);
    // Our encoder produces the same sizes for the same plaintexts.
    const enc = new NaClFrameEncoder(NAME_A, KEY, true, true);
    expect(seal(enc, new Uint8Array(22)).length).toBe(66);
    expect(seal(enc, new Uint8Array(1414 + 14)).length).toBe(1472);
  });
});
