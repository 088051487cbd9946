import { type NativeSecretbox, nativeSecretbox } from '@weave-ts/host';
import nacl from 'tweetnacl';
import { FRAME_OVERHEAD, MAX_UDP_PACKET_SIZE, NACL_PACKET_OVERHEAD, NAME_SIZE } from './constants.js';
import { PacketDecodingError } from './errors.js';
import { ReplayWindow } from './replay-window.js';
import { type FrameEncoder, PlainFrameEncoder, writeFrameRecord } from './sleeve-packet.js';

/**
 * Sleeve encryption (`router/frame_crypto.go`): NaCl secretbox with the connection's session key.
 *
 * ```
 * datagram = senderName[6] ‖ field ‖ tag[16] ‖ ciphertext      field = seqNo | DF<<63, uint64 BE
 * nonce    = byte 0 bit 7 = "the sender dialled the TCP connection", bit 6 = 0 (TCP nonces set it),
 *            bytes 16..23 = field, the rest zero
 * ```
 *
 * The DF and non-DF paths have their own encoder and sequence numbers (both from 0), and the receiver
 * keeps one {@link ReplayWindow} per path, chosen by the DF bit of the field.
 *
 * The secretbox itself comes from the host addon when it is built (same bytes, several times faster,
 * sealing straight into the datagram and opening straight out of it) and from tweetnacl otherwise.
 */

/**
 * A connection's NaCl state kept outside JS (the host addon's fast path): it seals with the next
 * sequence number of a path and opens with the replay windows, so JS and native code sending on the
 * same connection never reuse a nonce nor accept a replay the other has seen.
 */
export interface SharedNaClState {
  /** `records` sealed as a whole datagram (sender name ‖ field ‖ tag ‖ ciphertext). */
  seal(df: boolean, records: Uint8Array): Uint8Array;
  /** The plain records of a body, `null` for a replay, `false` when it is not authentic. */
  open(body: Uint8Array): Uint8Array | null | false;
}

/** Which secretbox to use: the addon's, or `null` for tweetnacl. */
export type SecretboxChoice = NativeSecretbox | null;

/** The addon's secretbox when the addon is built, else null (tweetnacl). */
export function defaultSecretbox(): SecretboxChoice {
  return nativeSecretbox() ?? null;
}

/** The parts of tweetnacl's `lowlevel` API used here (it is not in tweetnacl's type declarations). */
interface NaClLowLevel {
  crypto_secretbox(c: Uint8Array, m: Uint8Array, d: number, n: Uint8Array, k: Uint8Array): number;
  crypto_secretbox_open(m: Uint8Array, c: Uint8Array, d: number, n: Uint8Array, k: Uint8Array): number;
}

const lowlevel = (nacl as unknown as { lowlevel: NaClLowLevel }).lowlevel;
/** Leading zero bytes of a NaCl plaintext buffer (`crypto_secretbox_ZEROBYTES`). */
const ZERO_BYTES = 32;
/** Leading zero bytes of a NaCl ciphertext buffer (`crypto_secretbox_BOXZEROBYTES`). */
const BOX_ZERO_BYTES = 16;
const DF_BIT = 0x8000_0000;

function nonceFor(senderDialled: boolean): Uint8Array {
  const nonce = new Uint8Array(24);
  if (senderDialled) nonce[0] = 0x80;
  return nonce;
}

/** Encrypting encoder for one path; each sealed datagram takes the next sequence number. */
export class NaClFrameEncoder implements FrameEncoder {
  readonly packetOverhead = NACL_PACKET_OVERHEAD;
  // ZERO_BYTES of zeros, then the plain records: the layout crypto_secretbox wants.
  private readonly plain = new Uint8Array(ZERO_BYTES + MAX_UDP_PACKET_SIZE);
  private used = ZERO_BYTES;
  private count = 0;
  private seqNo = 0;
  private readonly nonce: Uint8Array;
  private readonly sender: Uint8Array;

  /**
   * @param sender our 6-byte name
   * @param sessionKey the 32-byte key both ends derived in the handshake
   * @param outbound whether we dialled the TCP connection
   * @param df whether this encoder serves the DF path (sets bit 63 of the field)
   * @param secretbox the implementation (default {@link defaultSecretbox})
   * @param shared where sequence numbers live instead (then it seals, and `secretbox` is unused)
   */
  constructor(
    sender: Uint8Array,
    private readonly sessionKey: Uint8Array,
    outbound: boolean,
    private readonly df: boolean,
    private readonly secretbox: SecretboxChoice = defaultSecretbox(),
    private readonly shared?: SharedNaClState,
  ) {
    this.sender = sender.slice(0, NAME_SIZE);
    this.nonce = nonceFor(outbound);
  }

  get frameCount(): number {
    return this.count;
  }

  totalLength(): number {
    return NACL_PACKET_OVERHEAD + this.used - ZERO_BYTES;
  }

  fits(frameLength: number, limit: number): boolean {
    return this.totalLength() + FRAME_OVERHEAD + frameLength <= limit;
  }

  append(src: Uint8Array, dst: Uint8Array, frame: Uint8Array): void {
    if (this.totalLength() + FRAME_OVERHEAD + frame.length > MAX_UDP_PACKET_SIZE) {
      throw new RangeError(`frame of ${frame.length} bytes does not fit the datagram`);
    }
    this.used = writeFrameRecord(this.plain, this.used, src, dst, frame);
    this.count++;
  }

  seal(): Uint8Array {
    const length = this.used;
    if (this.shared) {
      const sealed = this.shared.seal(this.df, this.plain.subarray(ZERO_BYTES, length));
      this.used = ZERO_BYTES;
      this.count = 0;
      return sealed;
    }
    const high = (Math.floor(this.seqNo / 2 ** 32) | (this.df ? DF_BIT : 0)) >>> 0;
    const low = this.seqNo >>> 0;
    const nonce = this.nonce;
    writeUint32(nonce, 16, high);
    writeUint32(nonce, 20, low);
    const datagram = this.secretbox ? this.sealNative(length, nonce) : this.sealTweetnacl(length, nonce);
    datagram.set(this.sender, 0);
    writeUint32(datagram, NAME_SIZE, high);
    writeUint32(datagram, NAME_SIZE + 4, low);
    this.seqNo++;
    this.used = ZERO_BYTES;
    this.count = 0;
    return datagram;
  }

  // Tag and ciphertext go straight into the datagram, after room for name (6) and field (8).
  private sealNative(length: number, nonce: Uint8Array): Uint8Array {
    const datagram = new Uint8Array(NACL_PACKET_OVERHEAD + length - ZERO_BYTES);
    this.secretbox!.seal(
      datagram.subarray(NAME_SIZE + 8),
      this.plain.subarray(ZERO_BYTES, length),
      nonce,
      this.sessionKey,
    );
    return datagram;
  }

  private sealTweetnacl(length: number, nonce: Uint8Array): Uint8Array {
    // The box comes out as 16 zero bytes, the tag, the ciphertext. The datagram starts 2 bytes in,
    // so name (6) and field (8) overwrite the zero bytes and the tag lands right after them.
    const box = new Uint8Array(length);
    lowlevel.crypto_secretbox(box, this.plain, length, nonce, this.sessionKey);
    return box.subarray(BOX_ZERO_BYTES - NAME_SIZE - 8);
  }
}

/** Turns a received body (the datagram after the sender name) into plain frame records. */
export interface FrameDecryptor {
  /**
   * The plain records (a buffer the caller owns), `null` for an authentic duplicate or too-old datagram
   * (dropped silently), or why the body was rejected.
   */
  open(body: Uint8Array): Uint8Array | null | PacketDecodingError;
}

/** The decryptor of unencrypted connections: the body is already plain. */
export class PlainDecryptor implements FrameDecryptor {
  open(body: Uint8Array): Uint8Array {
    return body;
  }
}

/** Decrypts and de-duplicates both paths of one connection. */
export class NaClDecryptor implements FrameDecryptor {
  private readonly nonce: Uint8Array;
  private readonly windows = { df: new ReplayWindow(), nonDF: new ReplayWindow() };
  // tweetnacl only: the ciphertext behind the 16 zero bytes NaCl wants.
  private box: Uint8Array | undefined;

  /**
   * `outbound`: whether *we* dialled, so the remote's nonces carry the opposite flag; `secretbox`: the
   * implementation (default {@link defaultSecretbox}); `shared`: where the replay windows live instead.
   */
  constructor(
    private readonly sessionKey: Uint8Array,
    outbound: boolean,
    private readonly secretbox: SecretboxChoice = defaultSecretbox(),
    private readonly shared?: SharedNaClState,
  ) {
    this.nonce = nonceFor(!outbound);
  }

  open(body: Uint8Array): Uint8Array | null | PacketDecodingError {
    if (body.length < 8) {
      return new PacketDecodingError(
        `encrypted UDP packet too short; expected length >= 8, got ${body.length}`,
      );
    }
    const sealed = body.length - 8;
    const length = BOX_ZERO_BYTES + sealed;
    if (sealed < BOX_ZERO_BYTES || length > BOX_ZERO_BYTES + MAX_UDP_PACKET_SIZE) {
      return new PacketDecodingError('UDP packet decryption failed');
    }
    if (this.shared) {
      const plain = this.shared.open(body);
      return plain === false ? new PacketDecodingError('UDP packet decryption failed') : plain;
    }
    const high = readUint32(body, 0);
    const low = readUint32(body, 4);
    this.nonce.set(body.subarray(0, 8), 16);
    const plain = this.secretbox ? this.openNative(body, sealed) : this.openTweetnacl(body, length);
    if (plain === undefined) return new PacketDecodingError('UDP packet decryption failed');
    const window = high & DF_BIT ? this.windows.df : this.windows.nonDF;
    if (!window.accept((high & ~DF_BIT) >>> 0, low)) return null;
    return plain;
  }

  private openNative(body: Uint8Array, sealed: number): Uint8Array | undefined {
    const plain = new Uint8Array(sealed - BOX_ZERO_BYTES);
    return this.secretbox!.open(plain, body.subarray(8), this.nonce, this.sessionKey) ? plain : undefined;
  }

  private openTweetnacl(body: Uint8Array, length: number): Uint8Array | undefined {
    this.box ??= new Uint8Array(BOX_ZERO_BYTES + MAX_UDP_PACKET_SIZE);
    this.box.set(body.subarray(8), BOX_ZERO_BYTES);
    const plain = new Uint8Array(length);
    if (lowlevel.crypto_secretbox_open(plain, this.box, length, this.nonce, this.sessionKey) !== 0) {
      return undefined;
    }
    return plain.subarray(ZERO_BYTES);
  }
}

/** The encoders and decryptor of one sleeve connection. */
export interface SleeveCrypto {
  /** Encoder for the non-DF path. */
  readonly encoder: FrameEncoder;
  /** Encoder for the DF path. */
  readonly encoderDF: FrameEncoder;
  /** Decrypts (or passes through) received datagram bodies. */
  readonly decryptor: FrameDecryptor;
  /** Whether a session key is in use. */
  readonly encrypted: boolean;
}

/**
 * Builds a connection's crypto: NaCl when `sessionKey` is given (password set and the peers do not
 * trust each other's subnets), plain otherwise; with `shared`, NaCl state lives there.
 */
export function createSleeveCrypto(
  localName: Uint8Array,
  sessionKey: Uint8Array | undefined,
  outbound: boolean,
  shared?: SharedNaClState,
): SleeveCrypto {
  if (!sessionKey) {
    return {
      encoder: new PlainFrameEncoder(localName),
      encoderDF: new PlainFrameEncoder(localName),
      decryptor: new PlainDecryptor(),
      encrypted: false,
    };
  }
  return {
    encoder: new NaClFrameEncoder(localName, sessionKey, outbound, false, defaultSecretbox(), shared),
    encoderDF: new NaClFrameEncoder(localName, sessionKey, outbound, true, defaultSecretbox(), shared),
    decryptor: new NaClDecryptor(sessionKey, outbound, defaultSecretbox(), shared),
    encrypted: true,
  };
}

function writeUint32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

function readUint32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}
