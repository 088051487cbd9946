// Shared fixtures of the handshake tests: deterministic keys, a hand-built remote.
import { type Random, parsePeerName } from '@weave-ts/core';
import {
  encodeCryptoIntro,
  encodeFeatures,
  encodeProtocolHeader,
  formSessionKey,
  frameMessage,
  generateEphemeralKeyPair,
  makeFeatures,
  TcpSealer,
} from '@weave-ts/core/protocol';

/** Lets every queued microtask and one macrotask turn run. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A Random whose `bytes()` returns `seed` repeated (so key pairs are known in advance). */
export function seededRandom(seed: number): Random {
  return {
    float: () => 0.5,
    int: (n) => seed % n,
    bytes: (n) => new Uint8Array(n).fill(seed),
  };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A complete features map for test peer `n` (name 0a:00:00:00:00:0n). */
export function peerFeatures(
  n: number,
  connId: bigint,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...makeFeatures({
      name: parsePeerName(`0a:00:00:00:00:0${n}`),
      nickname: `host${n}`,
      uid: 1000n + BigInt(n),
      connId,
      shortId: n,
      trusted: false,
    }),
    ...extra,
  };
}

/** What a hand-driven remote sends: header, crypto intro and framed (maybe sealed) messages. */
export interface RemoteScript {
  readonly range?: { min: number; max: number };
  /** The remote's password; encrypts when set (the local side's key must be `localSeed`'s). */
  readonly password?: Uint8Array;
  /** Seed of the local side's Random, so the remote can compute the session key. */
  readonly localSeed?: number;
  /** True when the remote dialled. */
  readonly remoteOutbound?: boolean;
  readonly features?: Record<string, string>;
  /** Messages after the features map. */
  readonly extra?: readonly Uint8Array[];
}

/** The byte stream a correct remote sends for `script`, as separate parts. */
export function remoteParts(script: RemoteScript): {
  header: Uint8Array;
  crypto: Uint8Array;
  messages: Uint8Array[];
} {
  const header = encodeProtocolHeader(script.range ?? { min: 1, max: 2 });
  const bodies = [encodeFeatures(script.features ?? peerFeatures(2, 77n)), ...(script.extra ?? [])];
  if (script.password === undefined) {
    return { header, crypto: encodeCryptoIntro(undefined), messages: bodies.map(frameMessage) };
  }
  const remoteKeys = generateEphemeralKeyPair(seededRandom(0x5a));
  const localKeys = generateEphemeralKeyPair(seededRandom(script.localSeed ?? 1));
  const key = formSessionKey(localKeys.publicKey, remoteKeys.secretKey, script.password);
  const sealer = new TcpSealer(key, script.remoteOutbound ?? false);
  return {
    header,
    crypto: encodeCryptoIntro(remoteKeys.publicKey),
    messages: bodies.map((b) => frameMessage(sealer.seal(b))),
  };
}

/** All of `remoteParts` in one buffer. */
export function remoteStream(script: RemoteScript): Uint8Array {
  const { header, crypto, messages } = remoteParts(script);
  return new Uint8Array(Buffer.concat([header, crypto, ...messages]));
}
