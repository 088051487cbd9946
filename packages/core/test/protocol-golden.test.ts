// Golden bytes: control-connection streams written by a stock Weave 2.8.1 router.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  GobTypeIds,
  PUBLIC_KEY_SIZE,
  SECRETBOX_OVERHEAD,
  checkCryptoFlag,
  connectionUID,
  decodeFeatures,
  encodeFeatures,
  encodeGob,
  negotiateVersion,
  parseFeatures,
  parseProtocolHeader,
  performHandshake,
  t,
} from '@weave-ts/core/protocol';
import { VirtualClock, createStreamPair } from '@weave-ts/core/testing';
import { flush, peerFeatures, seededRandom } from './handshake-helpers.js';

interface Direction {
  header_hex: string;
  crypto_flag_hex: string;
  ephemeral_public_key_hex?: string;
  messages: { len: number; hex: string; tag?: number }[];
}
interface Capture {
  client: string;
  server: string;
  client_to_server: Direction;
  server_to_client: Direction;
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/weaver-2.8.1/tcp-intro.json', import.meta.url), 'utf8'),
) as { connections: Record<'ab' | 'c' | 'enc', Capture> };
const { ab, c, enc } = fixture.connections;

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

/** A captured direction as the byte stream it was on the wire. */
function wireBytes(d: Direction): Uint8Array {
  const parts = [hex(d.header_hex), hex(d.crypto_flag_hex)];
  if (d.ephemeral_public_key_hex) parts.push(hex(d.ephemeral_public_key_hex));
  for (const m of d.messages) {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(m.len);
    parts.push(prefix, hex(m.hex));
  }
  return new Uint8Array(Buffer.concat(parts));
}

const directions = (cap: Capture) => [cap.client_to_server, cap.server_to_client];

describe('captured Weave 2.8.1 intro', () => {
  it('headers offer [1,2], which negotiates version 2 with us', () => {
    for (const d of [ab, c, enc].flatMap(directions)) {
      expect(d.header_hex).toBe('77656176650102');
      const theirs = parseProtocolHeader(hex(d.header_hex));
      expect(theirs).toEqual({ min: 1, max: 2 });
      expect(negotiateVersion({ min: 1, max: 2 }, theirs)).toBe(2);
      expect(negotiateVersion({ min: 2, max: 2 }, theirs)).toBe(2);
    }
  });

  it('plain connections send flag 0x00; encrypted ones 0x01 and a fresh 32-byte key each way', () => {
    for (const d of [ab, c].flatMap(directions))
      expect(checkCryptoFlag(hex(d.crypto_flag_hex)[0]!, false)).toBe(false);
    const keys = directions(enc).map((d) => {
      expect(checkCryptoFlag(hex(d.crypto_flag_hex)[0]!, true)).toBe(true);
      return d.ephemeral_public_key_hex!;
    });
    for (const k of keys) expect(hex(k).length).toBe(PUBLIC_KEY_SIZE);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it('features of hostB (dialler) and hostA decode to their introductions', () => {
    const b = parseFeatures(decodeFeatures(hex(ab.client_to_server.messages[0]!.hex)));
    expect(b).toEqual({
      name: '0a:00:00:00:00:02',
      nickname: 'hostB',
      uid: 11206339565063037629n,
      connId: 2984976464539443963n,
      shortId: 3001,
      trusted: false,
      features: {
        PeerNameFlavour: 'mac',
        Name: '0a:00:00:00:00:02',
        NickName: 'hostB',
        UID: '11206339565063037629',
        ConnID: '2984976464539443963',
        ShortID: '3001',
        Trusted: 'false',
        Overlays: 'sleeve',
      },
    });
    const a = parseFeatures(decodeFeatures(hex(ab.server_to_client.messages[0]!.hex)));
    expect(a.name).toBe('0a:00:00:00:00:01');
    expect(a.nickname).toBe('hostA');
    expect(a.uid).toBe(2033597239723757811n);
    expect(a.shortId).toBe(1488);
    expect(a.connId).toBe(13576800455359672819n);
    expect(connectionUID(b.connId, a.connId)).toBe(2984976464539443963n ^ 13576800455359672819n);
    const cIntro = parseFeatures(decodeFeatures(hex(c.client_to_server.messages[0]!.hex)));
    expect([cIntro.name, cIntro.nickname, cIntro.shortId]).toEqual(['0a:00:00:00:00:03', 'hostC', 281]);
    // The same router A presents the same UID on every connection, with a new ConnID.
    const aToC = parseFeatures(decodeFeatures(hex(c.server_to_client.messages[0]!.hex)));
    expect(aToC.uid).toBe(a.uid);
    expect(aToC.connId).not.toBe(a.connId);
  });

  it('our encoding of each captured map is a features message upstream would read the same', () => {
    for (const d of [ab, c].flatMap(directions)) {
      const captured = hex(d.messages[0]!.hex);
      const map = decodeFeatures(captured);
      const ours = encodeFeatures(map);
      expect(decodeFeatures(ours)).toEqual(map);
      // A fresh encoder, as upstream uses for this message.
      expect(ours).toEqual(encodeGob(t.map(t.string, t.string), new Map(Object.entries(map))));
      // Byte for byte the capture, given weaver's process-wide type id for map[string]string (74) and
      // its (random) map iteration order, which the decoded record keeps.
      const weaverIds = new GobTypeIds(73);
      const exact = encodeGob(t.map(t.string, t.string), new Map(Object.entries(map)), {
        typeIds: weaverIds,
      });
      expect(Buffer.from(exact).toString('hex')).toBe(d.messages[0]!.hex);
    }
  });

  it('a stock peer’s whole stream drives our handshake, and every later message comes through intact', async () => {
    for (const [cap, weDialled] of [
      [c, true],
      [ab, false],
    ] as const) {
      // We play the other end: if we dialled, we receive what the server sent.
      const incoming = weDialled ? cap.server_to_client : cap.client_to_server;
      const bytes = wireBytes(incoming);
      for (const chunkSize of [bytes.length, 7, 1]) {
        const [local, raw] = createStreamPair();
        const promise = performHandshake(local, {
          outbound: weDialled,
          features: peerFeatures(3, 42n),
          clock: new VirtualClock(0),
          random: seededRandom(3),
        });
        for (let i = 0; i < bytes.length; i += chunkSize) raw.write(bytes.subarray(i, i + chunkSize));
        const result = await promise;
        expect(result.remote.nickname).toBe(weDialled ? 'hostA' : 'hostB');
        const got: string[] = [];
        result.channel.onMessage((m) => got.push(Buffer.from(m).toString('hex')));
        await flush();
        expect(got).toEqual(incoming.messages.slice(1).map((m) => m.hex));
      }
    }
  });

  it('encrypted messages are secretboxes: 16 bytes longer than the plaintext', () => {
    const plainOverlayControl = ab.client_to_server.messages.concat(c.client_to_server.messages);
    expect(plainOverlayControl.some((m) => m.tag === 7)).toBe(true);
    for (const d of directions(enc)) {
      for (const m of d.messages) {
        expect(hex(m.hex).length).toBe(m.len);
        expect(m.len).toBeGreaterThan(SECRETBOX_OVERHEAD);
      }
      // Overlay control messages are 3 and 5 bytes in the clear (tag, forwarder, sub-tag [, 2-byte mtu]).
      const lens = d.messages.map((m) => m.len);
      expect(lens).toContain(3 + SECRETBOX_OVERHEAD);
      expect(lens).toContain(5 + SECRETBOX_OVERHEAD);
    }
    // The features message: the length of our encoding of such a map (decimal numbers of some
    // digit counts) plus the tag.
    const featuresLength = (uidDigits: number, connIdDigits: number, shortIdDigits: number) =>
      encodeFeatures({
        ConnID: '9'.repeat(connIdDigits),
        Trusted: 'false',
        Overlays: 'sleeve',
        PeerNameFlavour: 'mac',
        Name: '0a:00:00:00:00:01',
        NickName: 'hostA',
        ShortID: '9'.repeat(shortIdDigits),
        UID: '9'.repeat(uidDigits),
      }).length;
    // Checked against a plaintext capture of the same shape: hostB's UID has 20 digits, ConnID 19, ShortID 4.
    expect(featuresLength(20, 19, 4)).toBe(ab.client_to_server.messages[0]!.len);
    const possible = new Set<number>();
    for (let u = 1; u <= 20; u++)
      for (let k = 1; k <= 20; k++) for (let s = 1; s <= 4; s++) possible.add(featuresLength(u, k, s));
    for (const d of directions(enc)) expect(possible.has(d.messages[0]!.len - SECRETBOX_OVERHEAD)).toBe(true);
  });
});
