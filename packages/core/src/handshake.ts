import { ByteQueue } from './byte-queue.js';
import type { Clock, TimerHandle } from './clock.js';
import {
  type RemoteIntro,
  connectionUID,
  decodeFeatures,
  encodeFeatures,
  parseFeatureUint,
  parseFeatures,
} from './features.js';
import { type MessageChannel, TcpMessageChannel } from './message-channel.js';
import {
  type EphemeralKeyPair,
  PUBLIC_KEY_SIZE,
  TcpOpener,
  TcpSealer,
  checkCryptoFlag,
  encodeCryptoIntro,
  formSessionKey,
  generateEphemeralKeyPair,
} from './protocol-crypto.js';
import {
  EndOfStreamError,
  HeaderReceiveError,
  IncompleteHeaderError,
  MissingFeatureError,
  ReadTimeoutError,
  UnsupportedVersionError,
} from './protocol-errors.js';
import {
  HEADER_TIMEOUT_MS,
  PROTOCOL_HEADER_SIZE,
  PROTOCOL_MAX_VERSION,
  PROTOCOL_MIN_VERSION,
  type VersionRange,
  encodeProtocolHeader,
  negotiateVersion,
  parseProtocolHeader,
} from './protocol-header.js';
import type { Random } from './random.js';
import type { StreamConnection } from './transport.js';

/**
 * The control-connection handshake (protocol V2). Both ends run the same steps; nothing waits for the
 * other side before writing, so neither can deadlock:
 *
 * ```
 * write header ‖ crypto intro ─┐
 * read header (10 s) ──────────┴▶ negotiate ─▶ read crypto flag [+ key] ─▶ session key
 *   ─▶ write features message ─▶ read features message (60 s after the header) ─▶ RemoteIntro
 * ```
 *
 * The features message is written once the remote's crypto intro has been checked (it is the first
 * encrypted message, so it needs the session key, and upstream never sends it after a mismatch).
 */

/** Read deadline after the header phase (upstream: twice the 30 s TCP heartbeat). */
export const HANDSHAKE_READ_TIMEOUT_MS = 60_000;
/** The only protocol version we speak. */
export const SUPPORTED_PROTOCOL_VERSION = 2;

/** Parameters of {@link performHandshake}. */
export interface HandshakeOptions {
  /** True when we dialled the connection (decides nonce polarity). */
  readonly outbound: boolean;
  /** The mesh password; when set the connection is encrypted and the remote must have one too. */
  readonly password?: Uint8Array;
  /** Our features map (see `makeFeatures`), including `ConnID` and any overlay features. */
  readonly features: Readonly<Record<string, string>>;
  /** Times the handshake out (upstream's 10 s read deadline). */
  readonly clock: Clock;
  /** Source of the ephemeral key pair. */
  readonly random: Random;
  /** Advertised range; default [1, 2]. Only version 2 is accepted as the outcome. */
  readonly minVersion?: number;
  /** Highest protocol version to advertise (default 2). */
  readonly maxVersion?: number;
}

/** A completed handshake. */
export interface HandshakeResult {
  /** The negotiated protocol version (always 2). */
  readonly version: 2;
  /** The remote peer's introduction (name, nickname, uid, features). */
  readonly remote: RemoteIntro;
  /** Our ConnID XOR the remote's: the same number at both ends. */
  readonly connUID: bigint;
  /** The session key, when encrypted (the overlay may use it for the datapath). */
  readonly sessionKey?: Uint8Array;
  /** Messages after the features map; bytes that already arrived are delivered once a handler is set. */
  readonly channel: MessageChannel;
}

type Stage = 'header' | 'crypto-flag' | 'crypto-key' | 'features' | 'done';

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Runs the handshake on a fresh connection. Resolves with the remote's introduction and a message
 * channel; on any failure (bad header, version or crypto mismatch, bad features, timeout, the
 * connection closing) it closes `conn` with the error and rejects with that same error.
 */
export function performHandshake(conn: StreamConnection, opts: HandshakeOptions): Promise<HandshakeResult> {
  return new Promise((resolve, reject) => {
    new Handshake(conn, opts, resolve, reject).start();
  });
}

class Handshake {
  #stage: Stage = 'header';
  readonly #queue = new ByteQueue();
  #timer: TimerHandle | undefined;
  #ours: VersionRange = { min: PROTOCOL_MIN_VERSION, max: PROTOCOL_MAX_VERSION };
  #localConnId = 0n;
  #keyPair: EphemeralKeyPair | undefined;
  #sessionKey: Uint8Array | undefined;
  #channel: TcpMessageChannel | undefined;
  readonly #onData = (chunk: Uint8Array): void => this.#receive(chunk);
  readonly #onClose = (error?: Error): void => this.#closed(error);

  constructor(
    private readonly conn: StreamConnection,
    private readonly opts: HandshakeOptions,
    private readonly resolve: (result: HandshakeResult) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  start(): void {
    try {
      this.#ours = {
        min: this.opts.minVersion ?? PROTOCOL_MIN_VERSION,
        max: this.opts.maxVersion ?? PROTOCOL_MAX_VERSION,
      };
      const header = encodeProtocolHeader(this.#ours);
      const connId = this.opts.features.ConnID;
      if (connId === undefined) throw new MissingFeatureError('ConnID');
      this.#localConnId = parseFeatureUint('ConnID', connId, 64);
      if (this.opts.password !== undefined) this.#keyPair = generateEphemeralKeyPair(this.opts.random);
      this.conn.on('data', this.#onData);
      this.conn.on('close', this.#onClose);
      this.#timer = this.opts.clock.setTimeout(() => this.#timedOut(), HEADER_TIMEOUT_MS);
      this.conn.write(header);
      this.conn.write(encodeCryptoIntro(this.#keyPair?.publicKey));
    } catch (err) {
      this.#fail(toError(err));
    }
  }

  #receive(chunk: Uint8Array): void {
    if (this.#stage === 'done') return;
    try {
      this.#queue.push(chunk);
      this.#advance();
    } catch (err) {
      this.#fail(toError(err));
    }
  }

  /** Consumes as much of the fixed-size intro as has arrived; hands the rest to the message channel. */
  #advance(): void {
    if (this.#stage === 'header') {
      if (this.#queue.length < PROTOCOL_HEADER_SIZE) return;
      const theirs = parseProtocolHeader(this.#queue.take(PROTOCOL_HEADER_SIZE));
      const version = negotiateVersion(this.#ours, theirs);
      if (version !== SUPPORTED_PROTOCOL_VERSION)
        throw new UnsupportedVersionError(version, theirs.min, theirs.max);
      this.#restartTimer(HANDSHAKE_READ_TIMEOUT_MS);
      this.#stage = 'crypto-flag';
    }
    if (this.#stage === 'crypto-flag') {
      if (this.#queue.length < 1) return;
      const hasKey = checkCryptoFlag(this.#queue.take(1)[0]!, this.opts.password !== undefined);
      this.#stage = hasKey ? 'crypto-key' : 'features';
    }
    if (this.#stage === 'crypto-key') {
      if (this.#queue.length < PUBLIC_KEY_SIZE) return;
      const remoteKey = this.#queue.take(PUBLIC_KEY_SIZE);
      this.#sessionKey = formSessionKey(remoteKey, this.#keyPair!.secretKey, this.opts.password!);
      this.#stage = 'features';
    }
    this.#openChannel();
  }

  #openChannel(): void {
    this.conn.off('data', this.#onData);
    const key = this.#sessionKey;
    const crypto = key
      ? { sealer: new TcpSealer(key, this.opts.outbound), opener: new TcpOpener(key, this.opts.outbound) }
      : undefined;
    const channel = new TcpMessageChannel(this.conn, crypto, this.#queue.takeAll());
    this.#channel = channel;
    channel.send(encodeFeatures(this.opts.features));
    channel.onMessage((msg) => {
      channel.pause();
      this.#introduced(msg);
    });
  }

  #introduced(msg: Uint8Array): void {
    if (this.#stage === 'done') return;
    try {
      const remote = parseFeatures(decodeFeatures(msg));
      const result: HandshakeResult = {
        version: SUPPORTED_PROTOCOL_VERSION,
        remote,
        connUID: connectionUID(this.#localConnId, remote.connId),
        ...(this.#sessionKey ? { sessionKey: this.#sessionKey } : {}),
        channel: this.#channel!,
      };
      this.#finish();
      this.resolve(result);
    } catch (err) {
      this.#fail(toError(err));
    }
  }

  /** What the pending read reports when the stream ends with `error` (or cleanly when undefined). */
  #readError(error: Error | undefined): Error {
    switch (this.#stage) {
      case 'header': {
        const cause = error ?? new EndOfStreamError(this.#queue.length > 0);
        return this.#headerError(cause);
      }
      case 'features':
        return error ?? this.#channel?.endOfStream() ?? new EndOfStreamError(false);
      default:
        return error ?? new EndOfStreamError(this.#queue.length > 0);
    }
  }

  /** Header reads report how much of the header had arrived. */
  #headerError(cause: Error): Error {
    if (this.#queue.length === 0) return new HeaderReceiveError(cause);
    return new IncompleteHeaderError(this.#queue.take(this.#queue.length), PROTOCOL_HEADER_SIZE, cause);
  }

  #closed(error: Error | undefined): void {
    if (this.#stage === 'done') return;
    this.#fail(this.#readError(error));
  }

  #timedOut(): void {
    this.#timer = undefined;
    if (this.#stage === 'done') return;
    const { local, remote } = this.conn;
    const timeout = new ReadTimeoutError(`${local.host}:${local.port}->${remote.host}:${remote.port}`);
    this.#fail(this.#stage === 'header' ? this.#headerError(timeout) : timeout);
  }

  #restartTimer(ms: number): void {
    if (this.#timer !== undefined) this.opts.clock.clearTimeout(this.#timer);
    this.#timer = this.opts.clock.setTimeout(() => this.#timedOut(), ms);
  }

  #finish(): void {
    this.#stage = 'done';
    if (this.#timer !== undefined) this.opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.conn.off('data', this.#onData);
    this.conn.off('close', this.#onClose);
  }

  #fail(error: Error): void {
    if (this.#stage === 'done') return;
    this.#finish();
    this.conn.close(error);
    this.reject(error);
  }
}
