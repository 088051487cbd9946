import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import {
  BadEncryptionFlagError,
  DecryptError,
  ExpectedCryptoError,
  ExpectedNoCryptoError,
} from './protocol-errors.js';
import type { Random } from './random.js';

/**
 * Encryption of the control connection (protocol V2). After the header each side sends one flag byte:
 * `0x00` (plain) or `0x01` followed by a fresh X25519 public key. With keys exchanged, both compute
 *
 * ```
 * sessionKey = SHA-256( crypto_box_beforenm(remotePublic, localSecret) ‖ password )
 * ```
 *
 * and every length-prefixed message body becomes `secretbox(msg, nonce, sessionKey)` (msg + 16 bytes).
 * The 24-byte nonce is all zero except:
 *
 * ```
 * byte 0:      bit 7 = sender dialled the connection, bit 6 = 1 (TCP, so overlay nonces never collide)
 * bytes 16-23: big-endian message sequence number, from 0, one per message and direction
 * ```
 */

/** Crypto flag: the sender wants a plain connection. */
export const CRYPTO_FLAG_PLAIN = 0;
/** Crypto flag: the sender wants encryption; its public key follows. */
export const CRYPTO_FLAG_KEY = 1;
/** Bytes of an X25519 public key. */
export const PUBLIC_KEY_SIZE = 32;
/** Bytes of a session key. */
export const SESSION_KEY_SIZE = 32;
/** Bytes secretbox adds to each message (the Poly1305 tag). */
export const SECRETBOX_OVERHEAD = nacl.secretbox.overheadLength;

/** A per-connection X25519 key pair. */
export interface EphemeralKeyPair {
  /** The 32-byte Curve25519 public key, sent in the handshake. */
  readonly publicKey: Uint8Array;
  /** The 32-byte secret key; never leaves the process. */
  readonly secretKey: Uint8Array;
}

/** A fresh key pair from 32 bytes of `random` (upstream makes one per connection: forward secrecy). */
export function generateEphemeralKeyPair(random: Random): EphemeralKeyPair {
  const pair = nacl.box.keyPair.fromSecretKey(random.bytes(nacl.box.secretKeyLength));
  return { publicKey: pair.publicKey, secretKey: pair.secretKey };
}

/** What we send after the header: the flag byte, plus our public key when encrypting. */
export function encodeCryptoIntro(publicKey: Uint8Array | undefined): Uint8Array {
  if (!publicKey) return Uint8Array.of(CRYPTO_FLAG_PLAIN);
  const out = new Uint8Array(1 + PUBLIC_KEY_SIZE);
  out[0] = CRYPTO_FLAG_KEY;
  out.set(publicKey, 1);
  return out;
}

/**
 * Checks the remote's flag byte against whether we have a password; returns true when a public key
 * follows.
 * @throws ExpectedCryptoError, ExpectedNoCryptoError, BadEncryptionFlagError
 */
export function checkCryptoFlag(flag: number, havePassword: boolean): boolean {
  switch (flag) {
    case CRYPTO_FLAG_PLAIN:
      if (havePassword) throw new ExpectedCryptoError();
      return false;
    case CRYPTO_FLAG_KEY:
      if (!havePassword) throw new ExpectedNoCryptoError();
      return true;
    default:
      throw new BadEncryptionFlagError(flag);
  }
}

/** SHA-256 of the NaCl precomputed box key (HSalsa20 of the X25519 secret, not the raw secret) and the password. */
export function formSessionKey(
  remotePublicKey: Uint8Array,
  localSecretKey: Uint8Array,
  password: Uint8Array,
): Uint8Array {
  const shared = nacl.box.before(remotePublicKey, localSecretKey);
  return new Uint8Array(createHash('sha256').update(shared).update(password).digest());
}

/** The nonce for message `seq` sent by the end that did (`senderOutbound`) or did not dial. */
export function tcpNonce(senderOutbound: boolean, seq: bigint): Uint8Array {
  const nonce = new Uint8Array(nacl.secretbox.nonceLength);
  nonce[0] = (senderOutbound ? 0x80 : 0) | 0x40;
  new DataView(nonce.buffer).setBigUint64(16, seq);
  return nonce;
}

/**
 * One direction's encryption state: the key, whose messages it handles (the sending end's polarity),
 * and the next sequence number. The sender uses its own polarity, the receiver the opposite one.
 */
class TcpCryptoState {
  protected seq = 0n;
  protected readonly nonce: Uint8Array;
  constructor(
    protected readonly key: Uint8Array,
    senderOutbound: boolean,
  ) {
    if (key.length !== SESSION_KEY_SIZE) throw new RangeError(`a session key is ${SESSION_KEY_SIZE} bytes`);
    this.nonce = tcpNonce(senderOutbound, 0n);
  }
  /** The sequence number the next message will use. */
  get nextSequence(): bigint {
    return this.seq;
  }
  protected advance(): void {
    this.seq = BigInt.asUintN(64, this.seq + 1n);
    new DataView(this.nonce.buffer).setBigUint64(16, this.seq);
  }
}

/** Seals the messages we send; `outbound` = we dialled the connection. */
export class TcpSealer extends TcpCryptoState {
  constructor(sessionKey: Uint8Array, outbound: boolean) {
    super(sessionKey, outbound);
  }
  /** The secretbox of `msg` under the next nonce. */
  seal(msg: Uint8Array): Uint8Array {
    const sealed = nacl.secretbox(msg, this.nonce, this.key);
    this.advance();
    return sealed;
  }
}

/** Opens the messages we receive; `outbound` = we dialled, so the remote's nonces have bit 7 clear. */
export class TcpOpener extends TcpCryptoState {
  constructor(sessionKey: Uint8Array, outbound: boolean) {
    super(sessionKey, !outbound);
  }
  /**
   * The plaintext of the next message. The sequence only advances on success.
   * @throws DecryptError
   */
  open(sealed: Uint8Array): Uint8Array {
    const msg = nacl.secretbox.open(sealed, this.nonce, this.key);
    if (!msg) throw new DecryptError();
    this.advance();
    return msg;
  }
}
