import { WeaveError } from './errors.js';

/**
 * A peer's name in Weave's "mac" flavour: 48 bits printed as a MAC address (`aa:bb:cc:dd:ee:ff`).
 * Kept as its canonical lower-case string, so it can key a Map and sorts like the number it stands for.
 */
export type PeerName = string & {
  /** Brand only: marks a string checked by {@link parsePeerName} (or built from bytes or a number). */
  readonly __peerName: unique symbol;
};

/** The flavour string exchanged in the handshake feature `PeerNameFlavour`. */
export const PEER_NAME_FLAVOUR = 'mac';
/** Bytes in a binary peer name. */
export const PEER_NAME_SIZE = 6;
/** The zero name, which upstream uses for "no peer". */
export const UNKNOWN_PEER_NAME = '00:00:00:00:00:00' as PeerName;

export class InvalidPeerNameError extends WeaveError {
  /** The error's stable name: `'InvalidPeerNameError'`. */
  override name = 'InvalidPeerNameError';
  constructor(input: string) {
    super(`invalid peer name: ${JSON.stringify(input)}`);
  }
}

const GROUP = /^[0-9a-fA-F]{1,2}$/;

function parseGroups(part: string): number[] | undefined {
  if (part === '') return [];
  const groups = part.split(':');
  if (!groups.every((g) => GROUP.test(g))) return undefined;
  return groups.map((g) => Number.parseInt(g, 16));
}

/**
 * Parses a peer name: the full MAC form or the abbreviated forms upstream accepts, where `::` stands for
 * one or more zero bytes (`::1` → `00:00:00:00:00:01`, `a::` → `0a:00:00:00:00:00`).
 * @throws InvalidPeerNameError
 */
export function parsePeerName(input: string): PeerName {
  const halves = input.split('::');
  let bytes: number[] | undefined;
  if (halves.length === 1) {
    bytes = parseGroups(input);
    if (bytes?.length !== PEER_NAME_SIZE) bytes = undefined;
  } else if (halves.length === 2) {
    const head = parseGroups(halves[0]!);
    const tail = parseGroups(halves[1]!);
    if (head && tail && head.length + tail.length < PEER_NAME_SIZE && head.length + tail.length > 0) {
      bytes = [...head, ...new Array<number>(PEER_NAME_SIZE - head.length - tail.length).fill(0), ...tail];
    }
  }
  if (!bytes) throw new InvalidPeerNameError(input);
  return peerNameFromBytes(Uint8Array.from(bytes));
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** The name whose 6 big-endian bytes these are. */
export function peerNameFromBytes(bytes: Uint8Array): PeerName {
  if (bytes.length !== PEER_NAME_SIZE) throw new InvalidPeerNameError(`<${bytes.length} bytes>`);
  // Hot in gossip decoding: a table lookup per byte instead of formatting.
  return `${HEX[bytes[0]!]}:${HEX[bytes[1]!]}:${HEX[bytes[2]!]}:${HEX[bytes[3]!]}:${HEX[bytes[4]!]}:${HEX[bytes[5]!]}` as PeerName;
}

/** The 6 big-endian bytes of a name (as the sleeve wire format and `NameByte` carry it). */
export function peerNameToBytes(name: PeerName): Uint8Array {
  const out = new Uint8Array(PEER_NAME_SIZE);
  for (let i = 0; i < PEER_NAME_SIZE; i++) out[i] = (hexDigit(name, i * 3) << 4) | hexDigit(name, i * 3 + 1);
  return out;
}

function hexDigit(s: string, at: number): number {
  const c = s.charCodeAt(at);
  return c <= 0x39 ? c - 0x30 : c - 0x57; // canonical names hold only 0-9 and a-f
}

/** The name as the number gob carries for a Go `PeerName` (uint64 holding 48 bits). */
export function peerNameToNumber(name: PeerName): number {
  let n = 0;
  for (let i = 0; i < PEER_NAME_SIZE; i++)
    n = n * 256 + ((hexDigit(name, i * 3) << 4) | hexDigit(name, i * 3 + 1));
  return n;
}

/** The name for a number in [0, 2^48). */
export function peerNameFromNumber(value: number | bigint): PeerName {
  const n = BigInt(value);
  if (n < 0n || n >= 1n << 48n) throw new InvalidPeerNameError(String(value));
  const hex = n.toString(16).padStart(12, '0');
  return hex.replace(/(..)(?!$)/g, '$1:') as PeerName;
}

/** Orders names as their numbers do (the canonical strings sort the same way). */
export function comparePeerNames(a: PeerName, b: PeerName): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
