import { WeaveError } from './errors.js';

/**
 * Errors of the TCP control-connection protocol (header, crypto intro, framing, features). Messages
 * are the texts upstream Weave uses, so status lines and logs read the same as a stock router's.
 */

/** Renders bytes the way Go's `%v` prints a `[]byte`: `[119 101 97]`. */
export function formatGoBytes(bytes: Uint8Array): string {
  return `[${Array.from(bytes).join(' ')}]`;
}

/** The stream ended cleanly: before a read started (`EOF`) or in the middle of one (`unexpected EOF`). */
export class EndOfStreamError extends WeaveError {
  /** The error's stable name: `'EndOfStreamError'`. */
  override name = 'EndOfStreamError';
  /** True when some bytes of the value being read had already arrived. */
  readonly partial: boolean;
  constructor(partial: boolean) {
    super(partial ? 'unexpected EOF' : 'EOF');
    this.partial = partial;
  }
}

/** Nothing (or not enough) arrived before a read deadline. `detail` names the socket like Go does. */
export class ReadTimeoutError extends WeaveError {
  /** The error's stable name: `'ReadTimeoutError'`. */
  override name = 'ReadTimeoutError';
  constructor(detail: string) {
    super(`read tcp ${detail}: i/o timeout`);
  }
}

/** Not a single header byte arrived before the read failed. */
export class HeaderReceiveError extends WeaveError {
  /** The error's stable name: `'HeaderReceiveError'`. */
  override name = 'HeaderReceiveError';
  constructor(cause: Error) {
    super(`failed to receive remote protocol header: ${cause.message}`, { cause });
  }
}

/** Only part of the 7-byte header arrived before the read failed. */
export class IncompleteHeaderError extends WeaveError {
  /** The error's stable name: `'IncompleteHeaderError'`. */
  override name = 'IncompleteHeaderError';
  constructor(received: Uint8Array, expected: number, cause: Error) {
    super(
      `received incomplete remote protocol header (${received.length} octets instead of ${expected}): ` +
        `${formatGoBytes(received)}; error: ${cause.message}`,
      { cause },
    );
  }
}

/** The header does not start with `weave`. */
export class UnrecognisedHeaderError extends WeaveError {
  /** The error's stable name: `'UnrecognisedHeaderError'`. */
  override name = 'UnrecognisedHeaderError';
  constructor(protocolBytes: Uint8Array) {
    super(`remote protocol header not recognised: ${formatGoBytes(protocolBytes)}`);
  }
}

/** The two version ranges do not overlap. */
export class IncompatibleVersionError extends WeaveError {
  /** The error's stable name: `'IncompatibleVersionError'`. */
  override name = 'IncompatibleVersionError';
  constructor(theirMin: number, theirMax: number, ourMin: number, ourMax: number) {
    super(`remote version range [${theirMin},${theirMax}] is incompatible with ours [${ourMin},${ourMax}]`);
  }
}

/** The ranges overlap only in a version we do not implement (we speak protocol 2 only). */
export class UnsupportedVersionError extends WeaveError {
  /** The error's stable name: `'UnsupportedVersionError'`. */
  override name = 'UnsupportedVersionError';
  constructor(version: number, theirMin: number, theirMax: number) {
    super(`protocol version ${version} is not supported; peer offered [${theirMin},${theirMax}]`);
  }
}

/** We have a password; the remote sent crypto flag 0. */
export class ExpectedCryptoError extends WeaveError {
  /** The error's stable name: `'ExpectedCryptoError'`. */
  override name = 'ExpectedCryptoError';
  constructor() {
    super('password specified, but peer requested an unencrypted connection');
  }
}

/** We have no password; the remote sent crypto flag 1. (The typo is upstream's, kept verbatim.) */
export class ExpectedNoCryptoError extends WeaveError {
  /** The error's stable name: `'ExpectedNoCryptoError'`. */
  override name = 'ExpectedNoCryptoError';
  constructor() {
    super('no password specificed, but peer requested an encrypted connection');
  }
}

/** The crypto flag byte is neither 0 nor 1. */
export class BadEncryptionFlagError extends WeaveError {
  /** The error's stable name: `'BadEncryptionFlagError'`. */
  override name = 'BadEncryptionFlagError';
  constructor(flag: number) {
    super(`Bad encryption flag ${flag}`);
  }
}

/** A message we were asked to send is longer than the protocol allows. */
export class OutgoingMessageTooLargeError extends WeaveError {
  /** The error's stable name: `'OutgoingMessageTooLargeError'`. */
  override name = 'OutgoingMessageTooLargeError';
  constructor(size: number, max: number) {
    super(`outgoing message exceeds maximum size: ${size} > ${max}`);
  }
}

/** A length prefix announces a message longer than the protocol allows. */
export class IncomingMessageTooLargeError extends WeaveError {
  /** The error's stable name: `'IncomingMessageTooLargeError'`. */
  override name = 'IncomingMessageTooLargeError';
  constructor(size: number, max: number) {
    super(`incoming message exceeds maximum size: ${size} > ${max}`);
  }
}

/** A secretbox did not open: wrong key, tampering, or a message out of sequence. */
export class DecryptError extends WeaveError {
  /** The error's stable name: `'DecryptError'`. */
  override name = 'DecryptError';
  constructor() {
    super('Unable to decrypt TCP msg');
  }
}

/** A required handshake feature is absent. */
export class MissingFeatureError extends WeaveError {
  /** The error's stable name: `'MissingFeatureError'`. */
  override name = 'MissingFeatureError';
  /** The feature the remote did not send. */
  readonly feature: string;
  constructor(feature: string) {
    super(`field ${feature} is missing`);
    this.feature = feature;
  }
}

/** The remote uses another peer-name flavour (e.g. `hash`). */
export class PeerNameFlavourMismatchError extends WeaveError {
  /** The error's stable name: `'PeerNameFlavourMismatchError'`. */
  override name = 'PeerNameFlavourMismatchError';
  constructor(ours: string, theirs: string) {
    super(`Peer name flavour mismatch (ours: '${ours}', theirs: '${theirs}')`);
  }
}

/**
 * A feature value does not parse. The message is the text Go's strconv gives for the same input
 * (`strconv.ParseUint: parsing "x": invalid syntax`), which is what upstream reports.
 */
export class InvalidFeatureError extends WeaveError {
  /** The error's stable name: `'InvalidFeatureError'`. */
  override name = 'InvalidFeatureError';
  /** The feature with the bad value. */
  readonly feature: string;
  /** The value as received. */
  readonly value: string;
  constructor(feature: string, value: string, message: string) {
    super(message);
    this.feature = feature;
    this.value = value;
  }
}
