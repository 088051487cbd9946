import { fileURLToPath } from 'node:url';
// The `nameserver` gossip payload against traffic captured from a real Weave 2.8.1 router.
import { readFileSync } from 'node:fs';
import { parsePeerName } from '@weave-ts/core';
import { GobDecoder, GobEncoder, GobTypeIds, t } from '@weave-ts/core/protocol';
import { describe, expect, it } from 'vitest';
import { InvalidNameGossipError } from '../src/errors.js';
import { GobNameGossip, NameGossipData } from '../src/gossip-data.js';
import { formatIPv4 } from '../src/ipv4.js';

const CAPTURE = fileURLToPath(new URL('../../../fixtures/weaver-2.8.1/ab.json', import.meta.url));

interface Captured {
  tcp_connections: Array<
    Record<
      'client_to_server' | 'server_to_client',
      { messages: Array<{ channel?: string; tag?: number; hex: string }> }
    >
  >;
}

/** Every nameserver gossip payload in the capture: the []byte after the channel and sender singletons. */
function capturedPayloads(): Array<{ tag: number; sender: bigint; payload: Uint8Array }> {
  const capture = JSON.parse(readFileSync(CAPTURE, 'utf8')) as Captured;
  const out: Array<{ tag: number; sender: bigint; payload: Uint8Array }> = [];
  for (const conn of capture.tcp_connections) {
    for (const dir of ['client_to_server', 'server_to_client'] as const) {
      for (const m of conn[dir].messages) {
        if (m.channel !== 'nameserver') continue;
        const bytes = Buffer.from(m.hex, 'hex');
        const d = new GobDecoder(bytes.subarray(1));
        expect(d.decode(t.string)).toBe('nameserver');
        const sender = d.decode(t.uint64);
        out.push({ tag: bytes[0]!, sender, payload: d.decode(t.bytes) });
      }
    }
  }
  return out;
}

describe('nameserver gossip wire format', () => {
  const payloads = capturedPayloads();

  it('finds periodic gossip and broadcasts in the capture', () => {
    expect(payloads.filter((p) => p.tag === 4).length).toBeGreaterThan(10);
    expect(payloads.filter((p) => p.tag === 6).length).toBe(2);
  });

  it('decodes every captured payload into the records weave 2.8.1 held', () => {
    const web1 = {
      hostname: 'web1.weave.local.',
      containerId: 'web1cid0000000000',
      origin: parsePeerName('0a:00:00:00:00:01'),
      addr: 0xac101001,
      version: 0,
      tombstone: 0,
    };
    const web2 = {
      hostname: 'web2.weave.local.',
      containerId: 'web2cid0000000000',
      origin: parsePeerName('0a:00:00:00:00:02'),
      addr: 0xac101080,
      version: 0,
      tombstone: 0,
    };
    const seen = new Set<string>();
    for (const { tag, sender, payload } of payloads) {
      const g = NameGossipData.decode(payload);
      expect(g.timestamp).toBeGreaterThan(1_600_000_000);
      for (const e of g.entries) expect([web1, web2]).toContainEqual(e);
      if (tag === 6) {
        // A broadcast carries the sender's own new record only.
        expect(g.entries).toHaveLength(1);
        expect(BigInt(Number.parseInt(g.entries[0]!.origin.replaceAll(':', ''), 16))).toBe(sender);
      }
      for (const e of g.entries) seen.add(`${e.hostname}/${formatIPv4(e.addr)}`);
    }
    expect([...seen].sort()).toEqual(['web1.weave.local./172.16.16.1', 'web2.weave.local./172.16.16.128']);
  });

  it('re-encodes captured payloads byte for byte (with the capturing process type ids)', () => {
    for (const { payload } of payloads) {
      const g = NameGossipData.decode(payload);
      // Type ids depend on what the sending process registered before (A numbered GossipData 83,
      // B 86); the payload defines GossipData first as a one-byte negative id: ff <zigzag>.
      expect(payload[1]).toBe(0xff);
      const gossipDataId = (payload[2]! >> 1) + 1;
      const ours = new GobEncoder({ typeIds: new GobTypeIds(gossipDataId - 1) })
        .encode(GobNameGossip, {
          Timestamp: g.timestamp,
          Entries: g.entries.map((e) => ({
            ContainerID: e.containerId,
            Origin: Number.parseInt(e.origin.replaceAll(':', ''), 16),
            Addr: e.addr,
            Hostname: e.hostname,
            Version: e.version,
            Tombstone: e.tombstone,
          })),
        })
        .finish();
      expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(payload).toString('hex'));
    }
  });

  it('round-trips through encode() and decode()', () => {
    const g = NameGossipData.decode(payloads.at(-1)!.payload);
    const again = NameGossipData.decode(g.encode()[0]!);
    expect(again).toEqual(g);
  });

  it('encodes entries in case-sensitive order', () => {
    const mk = (hostname: string) => ({
      hostname,
      containerId: 'c',
      origin: parsePeerName('0a:00:00:00:00:01'),
      addr: 1,
      version: 0,
      tombstone: 0,
    });
    const g = new NameGossipData(1, [mk('b.'), mk('a.'), mk('B.')]);
    expect(NameGossipData.decode(g.encode()[0]!).entries.map((e) => e.hostname)).toEqual(['B.', 'a.', 'b.']);
  });

  it('rejects malformed payloads with InvalidNameGossipError', () => {
    const good = payloads.at(-1)!.payload;
    expect(() => NameGossipData.decode(new Uint8Array([1, 2, 3]))).toThrow(InvalidNameGossipError);
    expect(() => NameGossipData.decode(good.subarray(0, good.length - 5))).toThrow(InvalidNameGossipError);
    for (let i = 0; i < good.length; i++) {
      const bad = Uint8Array.from(good);
      bad[i] = bad[i]! ^ 0xff;
      try {
        NameGossipData.decode(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidNameGossipError);
      }
    }
  });

  it('rejects out-of-range origins and addresses', () => {
    const bad = (Origin: number, Addr: number) =>
      new GobEncoder()
        .encode(GobNameGossip, {
          Timestamp: 1,
          Entries: [{ ContainerID: 'c', Origin, Addr, Hostname: 'h.', Version: 0, Tombstone: 0 }],
        })
        .finish();
    expect(() => NameGossipData.decode(bad(2 ** 48, 1))).toThrow(InvalidNameGossipError);
    expect(() => NameGossipData.decode(bad(1, 2 ** 32))).toThrow(/address .* out of range/);
  });
});
