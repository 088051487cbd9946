import { describe, expect, it } from 'vitest';
import { type StreamConnection, systemRandom } from '@weave-ts/core';
import {
  BadEncryptionFlagError,
  DecryptError,
  EndOfStreamError,
  ExpectedCryptoError,
  ExpectedNoCryptoError,
  type HandshakeResult,
  HeaderReceiveError,
  IncompatibleVersionError,
  IncompleteHeaderError,
  IncomingMessageTooLargeError,
  InvalidFeatureError,
  MissingFeatureError,
  PeerNameFlavourMismatchError,
  ReadTimeoutError,
  UnrecognisedHeaderError,
  UnsupportedVersionError,
  performHandshake,
} from '@weave-ts/core/protocol';
import { VirtualClock, createStreamPair } from '@weave-ts/core/testing';
import { enc, flush, peerFeatures, remoteParts, remoteStream, seededRandom } from './handshake-helpers.js';

interface SideOptions {
  minVersion?: number;
  maxVersion?: number;
  password?: Uint8Array;
}

function watchClose(conn: StreamConnection): { closed: boolean; error: Error | undefined } {
  const state = { closed: false, error: undefined as Error | undefined };
  conn.on('close', (error) => {
    state.closed = true;
    state.error = error;
  });
  return state;
}

/** Two of our handshakes on either end of one connection (A dials). */
async function handshakePair(a: SideOptions = {}, b: SideOptions = {}) {
  const [connA, connB] = createStreamPair();
  const clock = new VirtualClock(0);
  const closeA = watchClose(connA);
  const closeB = watchClose(connB);
  const [ra, rb] = await Promise.allSettled([
    performHandshake(connA, {
      outbound: true,
      features: peerFeatures(1, 0x1111n),
      clock,
      random: systemRandom,
      ...a,
    }),
    performHandshake(connB, {
      outbound: false,
      features: peerFeatures(2, 0x2222n),
      clock,
      random: systemRandom,
      ...b,
    }),
  ]);
  await flush();
  return { ra, rb, closeA, closeB, clock };
}

function ok(r: PromiseSettledResult<HandshakeResult>): HandshakeResult {
  if (r.status === 'rejected') throw new Error(`handshake failed: ${(r.reason as Error).message}`);
  return r.value;
}

function failure(r: PromiseSettledResult<HandshakeResult>): Error {
  if (r.status === 'fulfilled') throw new Error('handshake unexpectedly succeeded');
  expect(r.reason).toBeInstanceOf(Error);
  return r.reason as Error;
}

/** Our handshake against a hand-driven remote end. */
function againstRaw(options: { outbound?: boolean; password?: Uint8Array; seed?: number } = {}) {
  const [local, raw] = createStreamPair();
  const clock = new VirtualClock(0);
  const sent: Uint8Array[] = [];
  raw.on('data', (chunk) => sent.push(chunk));
  const closed = watchClose(local);
  const outcome: { result?: HandshakeResult; error?: Error } = {};
  const promise = performHandshake(local, {
    outbound: options.outbound ?? true,
    features: peerFeatures(1, 0x1111n),
    clock,
    random: seededRandom(options.seed ?? 1),
    ...(options.password ? { password: options.password } : {}),
  }).then(
    (result) => {
      outcome.result = result;
    },
    (error: Error) => {
      outcome.error = error;
    },
  );
  return { local, raw, clock, sent, closed, outcome, promise };
}

describe('handshake between two of our peers', () => {
  it('negotiates version 2 and introduces each side to the other', async () => {
    const { ra, rb, closeA, closeB } = await handshakePair();
    const a = ok(ra);
    const b = ok(rb);
    expect(a.version).toBe(2);
    expect(a.remote.name).toBe('0a:00:00:00:00:02');
    expect(a.remote.nickname).toBe('host2');
    expect(a.remote.uid).toBe(1002n);
    expect(a.remote.connId).toBe(0x2222n);
    expect(a.remote.shortId).toBe(2);
    expect(a.remote.trusted).toBe(false);
    expect(b.remote.name).toBe('0a:00:00:00:00:01');
    expect(a.connUID).toBe(0x1111n ^ 0x2222n);
    expect(b.connUID).toBe(a.connUID);
    expect(a.sessionKey).toBeUndefined();
    expect(closeA.closed || closeB.closed).toBe(false);
  });

  it.each([
    [
      { minVersion: 1, maxVersion: 2 },
      { minVersion: 2, maxVersion: 2 },
    ],
    [
      { minVersion: 2, maxVersion: 2 },
      { minVersion: 2, maxVersion: 2 },
    ],
    [
      { minVersion: 1, maxVersion: 2 },
      { minVersion: 1, maxVersion: 9 },
    ],
  ])('accepts %j against %j', async (a, b) => {
    const { ra, rb } = await handshakePair(a, b);
    expect(ok(ra).version).toBe(2);
    expect(ok(rb).version).toBe(2);
  });

  it('refuses a peer that can only speak version 1', async () => {
    const { ra, rb, closeA } = await handshakePair({}, { minVersion: 1, maxVersion: 1 });
    const ea = failure(ra);
    expect(ea).toBeInstanceOf(UnsupportedVersionError);
    expect(ea.message).toBe('protocol version 1 is not supported; peer offered [1,1]');
    expect(failure(rb).message).toBe('protocol version 1 is not supported; peer offered [1,2]');
    expect(closeA.error).toBe(ea);
  });

  it('refuses disjoint version ranges', async () => {
    const { ra, rb } = await handshakePair({}, { minVersion: 3, maxVersion: 4 });
    expect(failure(ra)).toBeInstanceOf(IncompatibleVersionError);
    expect(failure(ra).message).toBe('remote version range [3,4] is incompatible with ours [1,2]');
    expect(failure(rb).message).toBe('remote version range [1,2] is incompatible with ours [3,4]');
  });

  it('encrypts when both have the same password and agrees on the session key', async () => {
    const password = enc('s3cret');
    const { ra, rb } = await handshakePair({ password }, { password });
    const a = ok(ra);
    const b = ok(rb);
    expect(a.sessionKey?.length).toBe(32);
    expect(Buffer.from(a.sessionKey!).equals(Buffer.from(b.sessionKey!))).toBe(true);
    expect(a.remote.nickname).toBe('host2');
  });

  it('fails on both sides when only one has a password', async () => {
    const { ra, rb, closeA, closeB } = await handshakePair({ password: enc('s3cret') }, {});
    const ea = failure(ra);
    const eb = failure(rb);
    expect(ea).toBeInstanceOf(ExpectedCryptoError);
    expect(ea.message).toBe('password specified, but peer requested an unencrypted connection');
    expect(eb).toBeInstanceOf(ExpectedNoCryptoError);
    expect(eb.message).toBe('no password specificed, but peer requested an encrypted connection');
    expect(closeA.error).toBe(ea);
    expect(closeB.error).toBe(eb);
  });

  it('fails to decrypt the features message when the passwords differ', async () => {
    const { ra, rb } = await handshakePair({ password: enc('one') }, { password: enc('two') });
    for (const r of [ra, rb]) {
      const e = failure(r);
      expect(e).toBeInstanceOf(DecryptError);
      expect(e.message).toBe('Unable to decrypt TCP msg');
    }
  });

  for (const password of [undefined, enc('pw')]) {
    it(`carries messages both ways afterwards (${password ? 'encrypted' : 'plain'})`, async () => {
      const { ra, rb } = await handshakePair(
        { ...(password && { password }) },
        { ...(password && { password }) },
      );
      const a = ok(ra);
      const b = ok(rb);
      // B talks before A listens: nothing may be lost.
      b.channel.send(Uint8Array.of(4, 1));
      b.channel.send(new Uint8Array(0));
      b.channel.send(Uint8Array.of(4, 2));
      await flush();
      const atA: number[][] = [];
      const atB: number[][] = [];
      a.channel.onMessage((m) => atA.push(Array.from(m)));
      b.channel.onMessage((m) => atB.push(Array.from(m)));
      a.channel.send(Uint8Array.of(0));
      b.channel.send(Uint8Array.of(4, 3));
      await flush();
      expect(atA).toEqual([[4, 1], [], [4, 2], [4, 3]]);
      expect(atB).toEqual([[0]]);
    });
  }
});

describe('handshake against a hand-driven remote', () => {
  it('writes the header and the crypto intro at once, then the features message', async () => {
    const h = againstRaw();
    await flush();
    expect(Buffer.concat(h.sent).toString('hex')).toBe('7765617665010200');
    h.raw.write(remoteParts({}).header);
    h.raw.write(Uint8Array.of(0));
    await flush();
    const all = Buffer.concat(h.sent);
    expect(all.length).toBeGreaterThan(8 + 4);
    expect(all.readUInt32BE(8)).toBe(all.length - 12);
    h.raw.close();
    await h.promise;
  });

  it('writes 0x01 and its ephemeral public key when it has a password', async () => {
    const h = againstRaw({ password: enc('pw') });
    await flush();
    const all = Buffer.concat(h.sent);
    expect(all.length).toBe(7 + 1 + 32);
    expect(all[7]).toBe(1);
    h.raw.close();
    await h.promise;
  });

  it('delivers messages that arrived in the same chunk as the features map', async () => {
    for (const password of [undefined, enc('pw')]) {
      const h = againstRaw({ ...(password && { password }) });
      const stream = remoteStream({
        ...(password && { password }),
        localSeed: 1,
        extra: [Uint8Array.of(4, 9), Uint8Array.of(6)],
      });
      h.raw.write(stream);
      await h.promise;
      const got: number[][] = [];
      h.outcome.result!.channel.onMessage((m) => got.push(Array.from(m)));
      expect(got).toEqual([[4, 9], [6]]);
      expect(h.outcome.result!.remote.name).toBe('0a:00:00:00:00:02');
    }
  });

  it('reports a header that is not weave, with upstream text', async () => {
    const h = againstRaw();
    h.raw.write(enc('GET / HTTP/1.1\r\n'));
    await h.promise;
    expect(h.outcome.error).toBeInstanceOf(UnrecognisedHeaderError);
    expect(h.outcome.error?.message).toBe('remote protocol header not recognised: [71 69 84 32 47]');
    expect(h.closed.error).toBe(h.outcome.error);
  });

  it('reports a connection closed before any header byte', async () => {
    const h = againstRaw();
    h.raw.close();
    await h.promise;
    expect(h.outcome.error).toBeInstanceOf(HeaderReceiveError);
    expect(h.outcome.error?.message).toBe('failed to receive remote protocol header: EOF');
  });

  it('reports a truncated header', async () => {
    const h = againstRaw();
    h.raw.write(enc('wea'));
    h.raw.close();
    await h.promise;
    expect(h.outcome.error).toBeInstanceOf(IncompleteHeaderError);
    expect(h.outcome.error?.message).toBe(
      'received incomplete remote protocol header (3 octets instead of 7): [119 101 97]; error: unexpected EOF',
    );
  });

  it('reports the error a connection closed with', async () => {
    const h = againstRaw();
    h.raw.write(enc('weave'));
    await flush();
    h.local.close(new Error('read: connection reset by peer'));
    await h.promise;
    expect(h.outcome.error?.message).toBe(
      'received incomplete remote protocol header (5 octets instead of 7): [119 101 97 118 101]; ' +
        'error: read: connection reset by peer',
    );
  });

  it('times out the header phase after 10 s', async () => {
    const h = againstRaw();
    await flush();
    h.clock.advance(9_999);
    await flush();
    expect(h.outcome).toEqual({});
    h.clock.advance(1);
    await h.promise;
    expect(h.outcome.error).toBeInstanceOf(HeaderReceiveError);
    expect(h.outcome.error?.message).toBe(
      'failed to receive remote protocol header: read tcp 10.0.0.1:40000->10.0.0.2:6783: i/o timeout',
    );
    expect(h.closed.error).toBe(h.outcome.error);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('times out a partial header with the bytes received', async () => {
    const h = againstRaw();
    h.raw.write(Uint8Array.of(0x77, 0x65));
    await flush();
    h.clock.advance(10_000);
    await h.promise;
    expect(h.outcome.error?.message).toBe(
      'received incomplete remote protocol header (2 octets instead of 7): [119 101]; ' +
        'error: read tcp 10.0.0.1:40000->10.0.0.2:6783: i/o timeout',
    );
  });

  it('gives the features read 60 s after the header', async () => {
    const h = againstRaw();
    const { header, crypto } = remoteParts({});
    h.clock.advance(9_000);
    h.raw.write(header);
    h.raw.write(crypto);
    await flush();
    h.clock.advance(59_999);
    await flush();
    expect(h.outcome).toEqual({});
    h.clock.advance(1);
    await h.promise;
    expect(h.outcome.error).toBeInstanceOf(ReadTimeoutError);
    expect(h.outcome.error?.message).toBe('read tcp 10.0.0.1:40000->10.0.0.2:6783: i/o timeout');
  });

  it('leaves no timer behind on success', async () => {
    const h = againstRaw();
    h.raw.write(remoteStream({}));
    await h.promise;
    expect(h.outcome.result).toBeDefined();
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('reports a bad crypto flag', async () => {
    const h = againstRaw();
    h.raw.write(Uint8Array.of(...remoteParts({}).header, 7));
    await h.promise;
    expect(h.outcome.error).toBeInstanceOf(BadEncryptionFlagError);
    expect(h.outcome.error?.message).toBe('Bad encryption flag 7');
  });

  it.each([
    ['after the header', (p: ReturnType<typeof remoteParts>) => p.header, 'EOF'],
    [
      'inside the public key',
      (p: ReturnType<typeof remoteParts>) => Buffer.concat([p.header, p.crypto.subarray(0, 9)]),
      'unexpected EOF',
    ],
    [
      'before the features',
      (p: ReturnType<typeof remoteParts>) => Buffer.concat([p.header, p.crypto]),
      'EOF',
    ],
    [
      'inside a length prefix',
      (p: ReturnType<typeof remoteParts>) =>
        Buffer.concat([p.header, p.crypto, p.messages[0]!.subarray(0, 2)]),
      'unexpected EOF',
    ],
    [
      'inside the features',
      (p: ReturnType<typeof remoteParts>) =>
        Buffer.concat([p.header, p.crypto, p.messages[0]!.subarray(0, 20)]),
      'unexpected EOF',
    ],
  ])('reports a close %s as %s', async (_where, cut, message) => {
    const password = enc('pw');
    const h = againstRaw({ password });
    h.raw.write(new Uint8Array(cut(remoteParts({ password, localSeed: 1 }))));
    h.raw.close();
    await h.promise;
    expect(h.outcome.error).toBeInstanceOf(EndOfStreamError);
    expect(h.outcome.error?.message).toBe(message);
  });

  it('refuses an oversized features length', async () => {
    const h = againstRaw();
    const { header, crypto } = remoteParts({});
    h.raw.write(Uint8Array.of(...header, ...crypto, 0xff, 0xff, 0xff, 0xff));
    await h.promise;
    expect(h.outcome.error).toBeInstanceOf(IncomingMessageTooLargeError);
    expect(h.outcome.error?.message).toBe('incoming message exceeds maximum size: 4294967295 > 10485760');
  });

  it('checks the remote features', async () => {
    const without = (key: string) => (f: Record<string, string>) => delete f[key];
    const cases: [(f: Record<string, string>) => void, string, new (...args: never[]) => Error][] = [
      [without('NickName'), 'field NickName is missing', MissingFeatureError],
      [without('ConnID'), 'field ConnID is missing', MissingFeatureError],
      [
        (f) => {
          f.PeerNameFlavour = 'hash';
        },
        "Peer name flavour mismatch (ours: 'mac', theirs: 'hash')",
        PeerNameFlavourMismatchError,
      ],
      [
        (f) => {
          f.UID = '0x10';
        },
        'strconv.ParseUint: parsing "0x10": invalid syntax',
        InvalidFeatureError,
      ],
    ];
    for (const [change, message, type] of cases) {
      const features = peerFeatures(2, 5n);
      change(features);
      const h = againstRaw();
      h.raw.write(remoteStream({ features }));
      await h.promise;
      expect(h.outcome.error).toBeInstanceOf(type);
      expect(h.outcome.error?.message).toBe(message);
      expect(h.closed.error).toBe(h.outcome.error);
    }
  });

  it('rejects at once when our own features lack a ConnID', async () => {
    const [local] = createStreamPair();
    const closed = watchClose(local);
    const features = peerFeatures(1, 1n);
    delete features.ConnID;
    await expect(
      performHandshake(local, { outbound: true, features, clock: new VirtualClock(0), random: systemRandom }),
    ).rejects.toThrow('field ConnID is missing');
    await flush();
    expect(closed.closed).toBe(true);
  });

  it('closes the channel with the error when a later message does not decrypt', async () => {
    const password = enc('pw');
    const h = againstRaw({ password });
    const parts = remoteParts({ password, localSeed: 1, extra: [Uint8Array.of(4, 1)] });
    const tampered = Uint8Array.from(parts.messages[1]!);
    tampered[tampered.length - 1]! ^= 1;
    h.raw.write(Buffer.concat([parts.header, parts.crypto, parts.messages[0]!, tampered]));
    await h.promise;
    expect(h.closed.closed).toBe(false); // undecoded until a handler is installed
    const got: Uint8Array[] = [];
    h.outcome.result!.channel.onMessage((m) => got.push(m));
    await flush();
    expect(got).toEqual([]);
    expect(h.closed.error).toBeInstanceOf(DecryptError);
  });

  it('closes the channel with what a handler throws', async () => {
    const h = againstRaw();
    h.raw.write(remoteStream({ extra: [Uint8Array.of(4)] }));
    await h.promise;
    const boom = new Error('handler failed');
    h.outcome.result!.channel.onMessage(() => {
      throw boom;
    });
    await flush();
    expect(h.closed.error).toBe(boom);
  });
});
