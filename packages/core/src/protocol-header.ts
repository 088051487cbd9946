import { IncompatibleVersionError, UnrecognisedHeaderError } from './protocol-errors.js';

/**
 * The 7-byte protocol header both ends of a control connection send first:
 *
 * ```
 * 'w' 'e' 'a' 'v' 'e' | minVersion | maxVersion
 * ```
 *
 * Each side then picks the highest version inside both ranges.
 */

/** The protocol identifier that opens every control connection. */
export const PROTOCOL_NAME = 'weave';
/** `PROTOCOL_NAME` as bytes. */
export const PROTOCOL_NAME_BYTES: Uint8Array = new TextEncoder().encode(PROTOCOL_NAME);
/** Header length: the name plus the two version bytes. */
export const PROTOCOL_HEADER_SIZE = PROTOCOL_NAME_BYTES.length + 2;
/** Lowest version we advertise by default (upstream's default; raise to 2 to refuse V1 peers early). */
export const PROTOCOL_MIN_VERSION = 1;
/** Highest version we speak. */
export const PROTOCOL_MAX_VERSION = 2;
/** How long the whole header exchange may take (upstream `HeaderTimeout`). */
export const HEADER_TIMEOUT_MS = 10_000;

/** An advertised range of protocol versions (inclusive). */
export interface VersionRange {
  /** Lowest protocol version offered. */
  readonly min: number;
  /** Highest protocol version offered. */
  readonly max: number;
}

function checkVersionByte(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`${what} must be a byte, got ${v}`);
}

/**
 * The header we send for our version range.
 * @throws RangeError when a version is not a byte.
 */
export function encodeProtocolHeader(range: VersionRange): Uint8Array {
  checkVersionByte(range.min, 'minimum protocol version');
  checkVersionByte(range.max, 'maximum protocol version');
  const header = new Uint8Array(PROTOCOL_HEADER_SIZE);
  header.set(PROTOCOL_NAME_BYTES);
  header[PROTOCOL_NAME_BYTES.length] = range.min;
  header[PROTOCOL_NAME_BYTES.length + 1] = range.max;
  return header;
}

/**
 * Reads the remote's version range from a complete header.
 * @throws UnrecognisedHeaderError when the header does not start with `weave`.
 * @throws RangeError when `header` is not exactly {@link PROTOCOL_HEADER_SIZE} bytes (a caller bug).
 */
export function parseProtocolHeader(header: Uint8Array): VersionRange {
  if (header.length !== PROTOCOL_HEADER_SIZE) {
    throw new RangeError(`a protocol header is ${PROTOCOL_HEADER_SIZE} bytes, got ${header.length}`);
  }
  const name = header.subarray(0, PROTOCOL_NAME_BYTES.length);
  if (!name.every((b, i) => b === PROTOCOL_NAME_BYTES[i])) throw new UnrecognisedHeaderError(name);
  return { min: header[PROTOCOL_NAME_BYTES.length]!, max: header[PROTOCOL_NAME_BYTES.length + 1]! };
}

/**
 * The version both sides settle on: the lower of the two maxima, provided it is not below the higher of
 * the two minima. Both ends compute the same answer independently.
 * @throws IncompatibleVersionError when the ranges do not overlap.
 */
export function negotiateVersion(ours: VersionRange, theirs: VersionRange): number {
  const low = Math.max(ours.min, theirs.min);
  const high = Math.min(ours.max, theirs.max);
  if (low > high) throw new IncompatibleVersionError(theirs.min, theirs.max, ours.min, ours.max);
  return high;
}
