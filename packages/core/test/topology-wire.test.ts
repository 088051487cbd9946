import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GobDecoder,
  GobEncoder,
  type TopologyEntry,
  TopologyDecodeError,
  connectionSummariesType,
  decodeTopology,
  encodeTopology,
  peerSummaryType,
  t,
} from '@weave-ts/core/protocol';
import { churnLinks, connect, makeNode, n, seededRandom } from './peers-fixtures.js';

const CAPTURES = fileURLToPath(new URL('../../../fixtures/weaver-2.8.1', import.meta.url));

/** The topology payload inside a captured tag-4 message: gob(channel) gob(src) gob(payload []byte). */
function firstTopologyPayload(): { payload: Uint8Array; defs: string } {
  const capture = JSON.parse(readFileSync(`${CAPTURES}/ab.json`, 'utf8'));
  const msg = capture.tcp_connections[0].client_to_server.messages.find(
    (m: { channel?: string }) => m.channel === 'topology',
  );
  const body = Buffer.from(msg.hex, 'hex').subarray(1);
  const d = new GobDecoder(body);
  expect(d.decode(t.string)).toBe('topology');
  d.decode(t.uint);
  const payload = d.decode(t.bytes);
  return { payload, defs: Buffer.from(payload).toString('latin1') };
}

const entry = (i: number, conns: number[]): TopologyEntry => ({
  peer: {
    name: n(i),
    nickname: `host${i}`,
    uid: 2n ** 64n - BigInt(i),
    version: i * 3,
    shortId: i,
    hasShortId: i % 2 === 0,
  },
  connections: conns.map((c) => ({
    remoteName: n(c),
    remoteTcpAddr: `10.0.0.${c}:6783`,
    outbound: c % 2 === 0,
    established: c % 3 === 0,
  })),
});

describe('topology payload', () => {
  it('uses the Go type and field names a stock router sends', () => {
    const { defs } = firstTopologyPayload();
    for (const word of [
      'peerSummary',
      'NameByte',
      'NickName',
      'UID',
      'Version',
      'ShortID',
      'HasShortID',
      'connectionSummary',
      'RemoteTCPAddr',
      'Outbound',
      'Established',
    ]) {
      expect(defs).toContain(word);
    }
    expect(Object.keys(peerSummaryType.fields)).toEqual([
      'NameByte',
      'NickName',
      'UID',
      'Version',
      'ShortID',
      'HasShortID',
    ]);
    expect(Object.keys(connectionSummariesType.elem.fields)).toEqual([
      'NameByte',
      'RemoteTCPAddr',
      'Outbound',
      'Established',
    ]);
  });

  it('decodes a captured payload from upstream', () => {
    const { payload } = firstTopologyPayload();
    const entries = decodeTopology(payload);
    expect(entries.map((e) => e.peer.name)).toEqual(['0a:00:00:00:00:01', '0a:00:00:00:00:02']);
    expect(entries[1]!.peer).toMatchObject({ nickname: 'hostB', hasShortId: true });
    expect(entries[1]!.connections).toEqual([
      {
        remoteName: '0a:00:00:00:00:01',
        remoteTcpAddr: '10.250.0.1:6783',
        outbound: true,
        established: false,
      },
    ]);
    expect(entries[0]!.connections).toEqual([
      {
        remoteName: '0a:00:00:00:00:02',
        remoteTcpAddr: '10.250.0.2:51341',
        outbound: false,
        established: false,
      },
    ]);
  });

  it('round-trips, including empty connection lists and full-range UIDs', () => {
    const entries = [entry(1, [2, 3]), entry(2, []), entry(3, [1, 2, 4, 6])];
    expect(decodeTopology(encodeTopology(entries))).toEqual(entries);
    expect(decodeTopology(encodeTopology([]))).toEqual([]);
    expect(decodeTopology(new Uint8Array())).toEqual([]);
  });

  it('round-trips arbitrary entries (property)', () => {
    const summary = fc.record({
      name: fc.integer({ min: 0, max: 2 ** 48 - 1 }).map(n),
      nickname: fc.string(),
      uid: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      version: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      shortId: fc.integer({ min: 0, max: 4095 }),
      hasShortId: fc.boolean(),
    });
    const conn = fc.record({
      remoteName: fc.integer({ min: 0, max: 2 ** 48 - 1 }).map(n),
      remoteTcpAddr: fc.string(),
      outbound: fc.boolean(),
      established: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(fc.record({ peer: summary, connections: fc.array(conn, { maxLength: 4 }) }), {
          maxLength: 5,
        }),
        (es) => {
          expect(decodeTopology(encodeTopology(es))).toEqual(es);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('turns every malformed payload into TopologyDecodeError', () => {
    const good = encodeTopology([entry(1, [2]), entry(2, [1])]);
    // cut right after the first peer's pair of values, the stream is a valid one-peer update
    const onePeer = encodeTopology([entry(1, [2])]).length;
    expect(decodeTopology(good.subarray(0, onePeer))).toEqual([entry(1, [2])]);
    for (let len = 1; len < good.length; len++) {
      if (len === onePeer) continue;
      expect(() => decodeTopology(good.subarray(0, len)), `truncated at ${len}`).toThrow(TopologyDecodeError);
    }
    const ps = {
      NameByte: new Uint8Array(6),
      NickName: '',
      UID: 1n,
      Version: 1n,
      ShortID: 1,
      HasShortID: true,
    };
    const withoutConns = new GobEncoder().encode(peerSummaryType, ps).finish();
    expect(() => decodeTopology(withoutConns)).toThrow(/without its connection list/);
    const badName = new GobEncoder()
      .encode(peerSummaryType, { ...ps, NameByte: new Uint8Array(5) })
      .encode(connectionSummariesType, [])
      .finish();
    expect(() => decodeTopology(badName)).toThrow(TopologyDecodeError);
    const hugeVersion = new GobEncoder()
      .encode(peerSummaryType, { ...ps, Version: 2n ** 60n })
      .encode(connectionSummariesType, [])
      .finish();
    expect(() => decodeTopology(hugeVersion)).toThrow(/version .* out of range/);
    const wrongType = new GobEncoder().encode(t.string, 'hello').finish();
    expect(() => decodeTopology(wrongType)).toThrow(TopologyDecodeError);
  });

  it('rejects random bytes with a typed error, never anything else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
        try {
          decodeTopology(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(TopologyDecodeError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('Peers over the wire', () => {
  it('leaves a malformed update without effect', () => {
    const { peers } = makeNode(n(1));
    const payload = encodeTopology([entry(2, [3])]);
    expect(() => peers.applyUpdate(payload.subarray(0, payload.length - 3))).toThrow(TopologyDecodeError);
    expect(peers.size).toBe(1);
  });

  it('copies whole topologies through encodePeers/applyUpdate (mesh TestPeersEncoding)', () => {
    const random = seededRandom(21);
    const nodes = Array.from({ length: 10 }, (_, i) => makeNode(n(i + 1), { random }));
    churnLinks(nodes, random, 150, (changed) => {
      const source = changed.peers;
      const testbed = makeNode(n(0x99));
      connect(testbed, changed.local);
      const { received, improved } = testbed.peers.applyUpdate(source.encodeAll());
      expect(received).toEqual(source.names());
      expect(improved).toEqual(source.names());
      for (const p of source) {
        const copy = testbed.peers.fetch(p.name)!;
        expect(copy.summary()).toEqual(p.summary());
        expect(new Map([...copy.connections].map(([k, c]) => [k, { ...c }]))).toEqual(
          new Map(
            [...p.connections].map(([k, c]) => [
              k,
              {
                remoteName: c.remoteName,
                remoteTcpAddr: c.remoteTcpAddr,
                outbound: c.outbound,
                established: c.established,
              },
            ]),
          ),
        );
      }
      // gossiping the same again brings nothing new
      expect(testbed.peers.applyUpdate(source.encodeAll()).improved.size).toBe(0);
    });
  });

  it('encodes only the named peers that exist', () => {
    const a = makeNode(n(1));
    const b = makeNode(n(2));
    connect(a, b.local);
    const entries = decodeTopology(a.peers.encodePeers([n(2), n(9)]));
    expect(entries.map((e) => e.peer.name)).toEqual([n(2)]);
    expect(decodeTopology(a.peers.encodeAll()).map((e) => e.peer.name)).toEqual([n(1), n(2)]);
  });
});
