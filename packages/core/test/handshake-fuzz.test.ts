// Hostile or broken remotes: whatever arrives, the handshake settles (no hang, no uncaught throw), and
// every failure is an Error that the connection is closed with.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HandshakeResult, performHandshake } from '@weave-ts/core/protocol';
import { VirtualClock, createStreamPair } from '@weave-ts/core/testing';
import { enc, flush, peerFeatures, remoteParts, seededRandom } from './handshake-helpers.js';

/** The correct remote stream cut into named segments, so mutations can aim at each stage. */
function segments(password: Uint8Array | undefined, extra: Uint8Array[]): Uint8Array[] {
  const p = remoteParts({ ...(password && { password }), localSeed: 1, extra });
  const out = [p.header, p.crypto.subarray(0, 1)];
  if (p.crypto.length > 1) out.push(p.crypto.subarray(1));
  for (const m of p.messages) out.push(m.subarray(0, 4), m.subarray(4));
  return out.map((s) => Uint8Array.from(s));
}

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    segment: fc.nat(),
    offset: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), segment: fc.nat(), offset: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    segment: fc.nat(),
    offset: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(segs: Uint8Array[], mutations: Mutation[]): Uint8Array {
  const s = segs.map((x) => Array.from(x));
  let cut: number | undefined;
  for (const m of mutations) {
    const i = m.segment % s.length;
    const seg = s[i]!;
    const at = m.offset % (seg.length + 1);
    if (m.kind === 'set' && seg.length > 0) seg[at % seg.length] = m.value;
    if (m.kind === 'insert') seg.splice(at, 0, ...m.bytes);
    if (m.kind === 'truncate')
      cut = Math.min(cut ?? Number.POSITIVE_INFINITY, s.slice(0, i).flat().length + at);
  }
  const all = s.flat();
  return Uint8Array.from(cut === undefined ? all : all.slice(0, cut));
}

/** Feeds `bytes` in the given chunk sizes; then closes the remote or lets the clock run out. */
async function drive(bytes: Uint8Array, chunkSizes: number[], closeAfter: boolean, password?: Uint8Array) {
  const [local, raw] = createStreamPair();
  const clock = new VirtualClock(0);
  const closes: (Error | undefined)[] = [];
  local.on('close', (e) => closes.push(e));
  let settled: { result?: HandshakeResult; error?: unknown } | undefined;
  performHandshake(local, {
    outbound: true,
    features: peerFeatures(1, 9n),
    clock,
    random: seededRandom(1),
    ...(password && { password }),
  }).then(
    (result) => {
      settled = { result };
    },
    (error: unknown) => {
      settled = { error };
    },
  );
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, chunkSizes[i % Math.max(1, chunkSizes.length)] ?? bytes.length);
    raw.write(bytes.subarray(at, at + n));
    at += n;
  }
  if (closeAfter) raw.close();
  await flush();
  clock.advance(61_000);
  await flush();
  expect(settled).toBeDefined();
  if (settled!.error !== undefined) {
    expect(settled!.error).toBeInstanceOf(Error);
    // Closed once: with the error, or without one when the remote hung up first.
    expect(closes.length).toBe(1);
    if (closes[0] !== undefined) expect(closes[0]).toBe(settled!.error);
  } else {
    settled!.result!.channel.onMessage(() => {});
    await flush();
    for (const e of closes) if (e !== undefined) expect(e).toBeInstanceOf(Error);
  }
  expect(clock.pendingTimers).toBe(0);
  return settled!;
}

describe('handshake under fuzzing', () => {
  for (const password of [undefined, enc('pw')]) {
    const mode = password ? 'encrypted' : 'plain';

    it(`mutated ${mode} streams settle with an Error or a usable channel`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 6 }),
          fc.boolean(),
          async (mutations, chunks, closeAfter) => {
            const segs = segments(password, [Uint8Array.of(4, 1, 2), Uint8Array.of(0)]);
            await drive(mutate(segs, mutations), chunks, closeAfter, password);
          },
        ),
        { numRuns: 120 },
      );
    });

    it(`random bytes after a valid ${mode} prefix settle`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 4 }),
          fc.uint8Array({ maxLength: 200 }),
          fc.boolean(),
          async (keep, garbage, closeAfter) => {
            const segs = segments(password, []).slice(0, keep);
            await drive(
              Uint8Array.from([...segs.flatMap((s) => Array.from(s)), ...garbage]),
              [17],
              closeAfter,
              password,
            );
          },
        ),
        { numRuns: 100 },
      );
    });
  }

  it('an unmutated stream always succeeds, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        async (chunks) => {
          const outcome = await drive(mutate(segments(enc('pw'), []), []), chunks, false, enc('pw'));
          expect(outcome.result?.remote.nickname).toBe('host2');
        },
      ),
      { numRuns: 50 },
    );
  });
});
