// gob codec throughput on a 100-peer topology payload: per peer a peerSummary and a
// []connectionSummary of 3–5 entries, written by one encoder (as Weave's topology gossip is).
// Baseline measured in the same run: JSON.stringify/parse of the same values.
import { GobDecoder, GobEncoder, GobValueCache, type Infer } from '../packages/core/src/protocol/index.js';
// The schemas of the gob tests (mesh's peerSummary / []connectionSummary, as the captures spell them).
import { connections, peerSummary } from '../packages/core/test/gob/schemas.js';

const name = (i: number) => Uint8Array.from([0x0a, 0, 0, 0, (i >> 8) & 0xff, i & 0xff]);
const peers: [Infer<typeof peerSummary>, Infer<typeof connections>][] = Array.from(
  { length: 100 },
  (_, i) => [
    {
      NameByte: name(i),
      NickName: `host${i}`,
      UID: 0x9b84ea75effce2bdn + BigInt(i),
      Version: BigInt(i + 1),
      ShortID: i,
      HasShortID: true,
    },
    Array.from({ length: 3 + (i % 3) }, (_, j) => ({
      NameByte: name((i + j + 1) % 100),
      RemoteTCPAddr: `10.250.${j}.${i}:6783`,
      Outbound: j % 2 === 0,
      Established: true,
    })),
  ],
);

function encode(): Uint8Array {
  const e = new GobEncoder();
  for (const [p, c] of peers) e.encode(peerSummary, p).encode(connections, c);
  return e.finish();
}

function decode(bytes: Uint8Array, cache?: GobValueCache): number {
  const d = new GobDecoder(bytes);
  let n = 0;
  while (!d.atEnd) {
    d.decode(peerSummary, cache);
    n += d.decode(connections, cache).length;
  }
  return n;
}

function rate(label: string, fn: () => unknown, ms = 1000): number {
  for (let i = 0; i < 20; i++) fn(); // warm-up
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    fn();
    ops++;
  }
  const perSec = (ops * 1000) / (performance.now() - start);
  console.log(`${label}: ${perSec.toFixed(0)} ops/s`);
  return perSec;
}

const replacer = (_k: string, v: unknown) =>
  typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;

/** Prints encode, decode and round-trip rates for the 100-peer payload, and the JSON baseline ratio. */
export async function bench(): Promise<void> {
  const bytes = encode();
  console.log(`payload: 100 peers, ${decode(bytes)} connections, ${bytes.length} bytes`);
  const enc = rate('gob encode 100-peer topology', encode);
  const dec = rate('gob decode 100-peer topology', () => decode(bytes));
  // Gossip repeats entries: with a value cache, a payload seen before costs a hash and a compare.
  const cache = new GobValueCache();
  rate('gob decode 100-peer topology seen before (GobValueCache)', () => decode(bytes, cache));
  const both = rate('gob encode+decode 100-peer topology', () => decode(encode()));
  const json = rate('baseline JSON stringify+parse of the same values', () =>
    JSON.parse(JSON.stringify(peers, replacer)),
  );
  console.log(
    `ratio gob encode+decode / JSON baseline: ${(both / json).toFixed(2)} (encode ${enc.toFixed(0)}, decode ${dec.toFixed(0)})`,
  );
}
