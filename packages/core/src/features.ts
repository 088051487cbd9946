import { decodeGob, encodeGob, t } from './gob/index.js';
import type { RemotePeerInfo } from './overlay.js';
import { InvalidFeatureError, MissingFeatureError, PeerNameFlavourMismatchError } from './protocol-errors.js';
import { PEER_SHORT_ID_BITS } from './peer.js';
import { PEER_NAME_FLAVOUR, type PeerName, parsePeerName } from './peer-name.js';

/**
 * The features map: the first message on a control connection, a gob `map[string]string` written by
 * a fresh encoder (so the map's type definition travels with it). It introduces the sender:
 *
 * | key | value |
 * |---|---|
 * | PeerNameFlavour | `mac` |
 * | Name, NickName | peer name, nickname |
 * | UID | decimal uint64, new on every process start |
 * | ConnID | decimal uint64, random per connection |
 * | ShortID | decimal 0..4095 (optional; needed for fastdp) |
 * | Trusted | `true`/`false`: does the sender trust the receiver's address (optional) |
 * | Overlays | space-separated overlay names, added by the overlay (optional) |
 */

/** Features a receiver insists on (upstream `mustHave`), in the order it checks them. */
export const REQUIRED_FEATURES = ['PeerNameFlavour', 'Name', 'NickName', 'UID', 'ConnID'] as const;

/**
 * Most entries a features map may have. Weave 2.8.1 sends 8; the map is read before the peer is
 * authenticated, so a longer one is refused (GobLimitError) before its entries are allocated.
 */
export const MAX_FEATURES = 256;

const FEATURES_TYPE = t.map(t.string, t.string, { maxLen: MAX_FEATURES });

/** What we say about ourselves on one connection. */
export interface LocalIntro {
  /** Our peer name. */
  readonly name: PeerName;
  /** Our nickname. */
  readonly nickname: string;
  /** Our 64-bit instance id. */
  readonly uid: bigint;
  /** This connection's random id (our half of the connection uid). */
  readonly connId: bigint;
  /** Our 12-bit short id. */
  readonly shortId: number;
  /** Whether we trust the remote's address (`--trusted-subnets`). */
  readonly trusted: boolean;
}

/** The remote peer as its features introduced it. */
export interface RemoteIntro extends RemotePeerInfo {
  /** The remote's half of the connection uid. */
  readonly connId: bigint;
  /** Whether the remote trusts our address; absent when it did not say (upstream then assumes false). */
  readonly trusted?: boolean;
  /** Every feature as received, including ones we do not interpret (e.g. `Overlays`). */
  readonly features: Readonly<Record<string, string>>;
}

/**
 * Our features for one connection, without `Overlays`: the overlay adds that itself
 * (`Overlay.addFeaturesTo`).
 */
export function makeFeatures(local: LocalIntro): Record<string, string> {
  return {
    PeerNameFlavour: PEER_NAME_FLAVOUR,
    Name: local.name,
    NickName: local.nickname,
    ShortID: String(local.shortId),
    UID: local.uid.toString(),
    ConnID: local.connId.toString(),
    Trusted: String(local.trusted),
  };
}

/** The features message body: what Go's `gob.NewEncoder(buf).Encode(map[string]string)` writes. */
export function encodeFeatures(features: Readonly<Record<string, string>>): Uint8Array {
  return encodeGob(FEATURES_TYPE, new Map(Object.entries(features)));
}

/**
 * The map carried by a features message body.
 * @throws GobError when the body is not one gob `map[string]string`.
 */
export function decodeFeatures(body: Uint8Array): Record<string, string> {
  // fromEntries defines own properties, so a key like "__proto__" stays plain data.
  return Object.fromEntries(decodeGob(FEATURES_TYPE, body));
}

const DECIMAL = /^[0-9]+$/;

/**
 * Parses an unsigned decimal the way Go's `strconv.ParseUint(s, 10, bits)` does, with its error text.
 * @throws InvalidFeatureError
 */
export function parseFeatureUint(feature: string, value: string, bits: number): bigint {
  if (!DECIMAL.test(value)) {
    throw new InvalidFeatureError(
      feature,
      value,
      `strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`,
    );
  }
  // Bound the digits first so a huge string cannot make a huge bigint.
  const n = value.replace(/^0+(?=.)/, '').length > 20 ? 1n << 64n : BigInt(value);
  if (n >= 1n << BigInt(bits)) {
    throw new InvalidFeatureError(
      feature,
      value,
      `strconv.ParseUint: parsing ${JSON.stringify(value)}: value out of range`,
    );
  }
  return n;
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Parses a boolean the way Go's `strconv.ParseBool` does.
 * @throws InvalidFeatureError
 */
export function parseFeatureBool(feature: string, value: string): boolean {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new InvalidFeatureError(
    feature,
    value,
    `strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
  );
}

/**
 * Validates and interprets a remote's features, in upstream's order of checks.
 * @throws MissingFeatureError, PeerNameFlavourMismatchError, InvalidPeerNameError, InvalidFeatureError
 */
export function parseFeatures(features: Readonly<Record<string, string>>): RemoteIntro {
  const get = (key: string): string | undefined => (Object.hasOwn(features, key) ? features[key] : undefined);
  for (const key of REQUIRED_FEATURES) {
    if (get(key) === undefined) throw new MissingFeatureError(key);
  }
  const flavour = get('PeerNameFlavour')!;
  if (flavour !== PEER_NAME_FLAVOUR) throw new PeerNameFlavourMismatchError(PEER_NAME_FLAVOUR, flavour);
  const name = parsePeerName(get('Name')!);
  const nickname = get('NickName')!;
  const shortIdText = get('ShortID');
  const shortId =
    shortIdText === undefined
      ? undefined
      : Number(parseFeatureUint('ShortID', shortIdText, PEER_SHORT_ID_BITS));
  const trustedText = get('Trusted');
  const trusted = trustedText === undefined ? undefined : parseFeatureBool('Trusted', trustedText);
  const uid = parseFeatureUint('UID', get('UID')!, 64);
  const connId = parseFeatureUint('ConnID', get('ConnID')!, 64);
  return {
    name,
    nickname,
    uid,
    connId,
    ...(shortId === undefined ? {} : { shortId }),
    ...(trusted === undefined ? {} : { trusted }),
    features: { ...features },
  };
}

/** The connection uid both ends compute: our ConnID XOR theirs (used for tie-breaks and heartbeats). */
export function connectionUID(localConnId: bigint, remoteConnId: bigint): bigint {
  return BigInt.asUintN(64, localConnId ^ remoteConnId);
}
