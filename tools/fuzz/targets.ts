/**
 * Fuzz targets: one per parser that takes network input. Each gives seeds (valid inputs made by our
 * own encoders), runs one input, and says which errors are the parser's documented refusals; any other
 * exception is a crash.
 */
import { parsePeerName, systemClock, WeaveError } from '@weave-ts/core';
import {
  checkCryptoFlag,
  decodeFeatures,
  decodeTopology,
  encodeFeatures,
  encodeGob,
  encodeProtocolHeader,
  encodeTopology,
  FrameDecoder,
  frameMessage,
  GobDecoder,
  GobEncoder,
  GobError,
  type GobType,
  makeFeatures,
  PROTOCOL_HEADER_SIZE,
  parseFeatures,
  parseProtocolHeader,
  t,
  TcpOpener,
  TcpSealer,
  TopologyDecodeError,
} from '@weave-ts/core/protocol';
import { Forwarder } from '../../packages/dns/src/forwarder.js';
import { NameGossipData } from '../../packages/dns/src/gossip-data.js';
import { Nameserver } from '../../packages/dns/src/nameserver.js';
import { QueryHandler } from '../../packages/dns/src/query-handler.js';
import { TcpMessageReader } from '../../packages/dns/src/tcp-message-reader.js';
import { query } from '../../packages/dns/test/helpers.js';
import {
  decodeGossipState,
  decodeRangeMessage,
  encodeGossipState,
  encodeRangeMessage,
  gossipStateType,
} from '../../packages/ipam/src/ipam-gossip.js';
import { Ring } from '../../packages/ipam/src/ring.js';
import { GobNameGossip } from '../../packages/dns/src/gossip-data.js';
import { Rng } from './mutator.js';

/** One fuzz target. */
export interface FuzzTarget {
  readonly name: string;
  /** What it feeds the input to. */
  readonly description: string;
  /** Longest input generated. */
  readonly maxLen: number;
  /** Valid inputs to mutate (after `setup`). */
  seeds(): Uint8Array[];
  /** Prepares state shared by all inputs (servers, overlays). */
  setup?(): Promise<void>;
  /** Feeds one input to the parser. */
  run(input: Uint8Array): void | Promise<void>;
  /** Whether an exception is an expected refusal (else it is a crash). */
  expected(error: unknown): boolean;
  teardown?(): Promise<void>;
}

const peer = (i: number) =>
  parsePeerName(
    `0a:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
  );
const isWeaveError = (e: unknown) => e instanceof WeaveError;

/** Splits `input` into chunks whose sizes come from the input itself (reproducible). */
function chunks(input: Uint8Array): Uint8Array[] {
  const rng = new Rng(input.length * 31 + (input[0] ?? 0));
  const out: Uint8Array[] = [];
  for (let at = 0; at < input.length; ) {
    const n = rng.oneIn(3) ? 1 + rng.int(4) : 1 + rng.int(512);
    out.push(input.subarray(at, at + n));
    at += n;
  }
  return out;
}

// ── gob ──────────────────────────────────────────────────────────────────────────────────────────
const genericType = t.struct(
  'G',
  {
    B: t.bool,
    I: t.int,
    I64: t.int64,
    U: t.uint,
    U64: t.uint64,
    S: t.string,
    Y: t.bytes,
    A: t.array(t.int, 3),
    L: t.slice(t.struct('E', { X: t.int, N: t.ptr(t.struct('N', { S: t.string })) })),
    M: t.map(t.string, t.slice(t.uint)),
    P: t.ptr(t.struct('Q', { Z: t.string, W: t.map(t.uint, t.bytes) })),
  },
  { pkg: 'fuzz' },
);
const featuresType = t.map(t.string, t.string);
const peerSummary = t.struct('peerSummary', {
  NameByte: t.bytes,
  NickName: t.string,
  UID: t.uint64,
  Version: t.uint64,
  ShortID: t.uint,
  HasShortID: t.bool,
});
const gobSchemas: GobType[] = [genericType, featuresType, peerSummary, gossipStateType, GobNameGossip];

function topologySample(n: number): Uint8Array {
  return encodeTopology(
    Array.from({ length: n }, (_, i) => ({
      peer: {
        name: peer(i + 1),
        nickname: `host${i}`,
        uid: BigInt(i) * 77n,
        version: i,
        shortId: i,
        hasShortId: i % 2 === 0,
      },
      connections: Array.from({ length: i % 4 }, (_, j) => ({
        remoteName: peer(j + 1),
        remoteTcpAddr: `10.0.0.${j}:6783`,
        outbound: j % 2 === 0,
        established: true,
      })),
    })),
  );
}

function ipamSample(entries: number, paxos: boolean): Uint8Array {
  const base = 0x0a200000;
  return encodeGossipState({
    now: 1_700_000_000n,
    nicknames: new Map([
      [peer(1), 'one'],
      [peer(2), 'two'],
    ]),
    paxos: paxos
      ? [
          {
            node: { name: peer(1), uid: 5n },
            claims: {
              promise: { round: 1, proposer: { name: peer(1), uid: 5n } },
              accepted: { round: 1, proposer: { name: peer(1), uid: 5n } },
              acceptedVal: {
                value: [peer(1), peer(2)],
                origin: { round: 1, proposer: { name: peer(2), uid: 6n } },
              },
            },
          },
        ]
      : undefined,
    ring:
      entries === 0
        ? undefined
        : {
            start: base,
            end: base + 0x100000,
            peer: peer(1),
            entries: Array.from({ length: entries }, (_, i) => ({
              token: base + i * 0x1000,
              peer: peer((i % 3) + 1),
              version: i,
              free: 0x1000 - i,
            })),
            seeds: [peer(1), peer(2)],
          },
  });
}

function dnsGossipSample(n: number): Uint8Array {
  return new NameGossipData(
    1_700_000_000,
    Array.from({ length: n }, (_, i) => ({
      containerId: `c${i}`.padEnd(64, '0'),
      origin: peer((i % 3) + 1),
      addr: 0x0a200001 + i,
      hostname: `host${i}.weave.local.`,
      version: i,
      tombstone: i % 5 === 0 ? 1_700_000_000 : 0,
    })),
  ).encode()[0]!;
}

const gob: FuzzTarget = {
  name: 'gob',
  description:
    'GobDecoder with type definitions, read into 5 schemas (generic, features, peerSummary, IPAM, DNS)',
  maxLen: 4096,
  seeds: () => [
    encodeGob(genericType, {
      B: true,
      I: -5,
      I64: -(2n ** 40n),
      U: 300,
      U64: 2n ** 63n,
      S: 'hello',
      Y: Uint8Array.of(1, 2, 3),
      A: [1, 2, 3],
      L: [
        { X: 1, N: { S: 'n' } },
        { X: 2, N: undefined },
      ],
      M: new Map([
        ['a', [1, 2]],
        ['b', []],
      ]),
      P: { Z: 'z', W: new Map([[1, Uint8Array.of(9)]]) },
    }),
    encodeFeatures(
      makeFeatures({ name: peer(1), nickname: 'a', uid: 1n, connId: 2n, shortId: 3, trusted: false }),
    ),
    topologySample(3),
    ipamSample(4, false),
    ipamSample(0, true),
    dnsGossipSample(3),
    new GobEncoder()
      .encode(featuresType, new Map([['k', 'v']]))
      .encode(t.string, 'x')
      .encode(peerSummary, {
        NameByte: new Uint8Array(6),
        NickName: '',
        UID: 0n,
        Version: 0n,
        ShortID: 0,
        HasShortID: false,
      })
      .finish(),
  ],
  run(input) {
    for (const schema of gobSchemas) {
      try {
        const d = new GobDecoder(input);
        for (let k = 0; k < 8 && !d.atEnd; k++) d.decode(schema);
      } catch (e) {
        if (!(e instanceof GobError)) throw e;
      }
    }
  },
  expected: (e) => e instanceof GobError,
};

// ── handshake ────────────────────────────────────────────────────────────────────────────────────
const SESSION_KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
const OURS = { min: 1, max: 2 };

const handshake: FuzzTarget = {
  name: 'handshake',
  description:
    'protocol header, crypto flag, first framed message (sealed when the flag says so), features map and its checks',
  maxLen: 2048,
  seeds: () => {
    const features = encodeFeatures(
      makeFeatures({ name: peer(2), nickname: 'b', uid: 9n, connId: 77n, shortId: 2, trusted: true }),
    );
    const plain = [encodeProtocolHeader(OURS), Uint8Array.of(0), frameMessage(features)];
    const sealed = [
      encodeProtocolHeader(OURS),
      Uint8Array.of(1),
      new Uint8Array(32).fill(5),
      frameMessage(new TcpSealer(SESSION_KEY, true).seal(features)),
    ];
    return [Buffer.concat(plain), Buffer.concat(sealed)];
  },
  run(input) {
    if (input.length < PROTOCOL_HEADER_SIZE + 1) return;
    parseProtocolHeader(input.subarray(0, PROTOCOL_HEADER_SIZE));
    const flag = input[PROTOCOL_HEADER_SIZE]!;
    const encrypted = flag === 1;
    checkCryptoFlag(flag, encrypted);
    const frames = new FrameDecoder();
    frames.push(input.subarray(PROTOCOL_HEADER_SIZE + 1 + (encrypted ? 32 : 0)));
    let body = frames.next();
    if (body === undefined) return;
    if (encrypted) body = new TcpOpener(SESSION_KEY, false).open(body);
    parseFeatures(decodeFeatures(body));
  },
  expected: isWeaveError,
};

// ── framing ──────────────────────────────────────────────────────────────────────────────────────
const framing: FuzzTarget = {
  name: 'framing',
  description: 'FrameDecoder (4-byte length prefix, 10 MiB limit) fed the input in chunks of 1..512 bytes',
  maxLen: 4096,
  seeds: () => [
    Buffer.concat([
      frameMessage(Uint8Array.of(1, 2, 3)),
      frameMessage(new Uint8Array(0)),
      frameMessage(new Uint8Array(300)),
    ]),
    Uint8Array.of(0, 0xa0, 0, 0),
  ],
  run(input) {
    const d = new FrameDecoder();
    for (const c of chunks(input)) {
      d.push(c);
      while (d.next() !== undefined) {}
    }
    d.endOfStream();
  },
  expected: isWeaveError,
};

// ── topology ─────────────────────────────────────────────────────────────────────────────────────
const topology: FuzzTarget = {
  name: 'topology',
  description: 'decodeTopology (gob stream of peerSummary + []connectionSummary per peer)',
  maxLen: 8192,
  seeds: () => [topologySample(1), topologySample(5), topologySample(0)],
  run(input) {
    decodeTopology(input);
  },
  expected: (e) => e instanceof TopologyDecodeError,
};

// ── IPAM ring ────────────────────────────────────────────────────────────────────────────────────
const ipam: FuzzTarget = {
  name: 'ipam',
  description:
    'IPAM gossip state (ring, Paxos, nicknames) then Ring.fromState; space request ranges (first byte picks)',
  maxLen: 8192,
  seeds: () => [
    Uint8Array.of(0, ...ipamSample(5, false)),
    Uint8Array.of(0, ...ipamSample(0, true)),
    encodeRangeMessage(1, { start: 0x0a000000, end: 0x0a000100 }),
  ],
  run(input) {
    if (input.length === 0) return;
    if (input[0]! % 2 === 0) {
      const state = decodeGossipState(input.subarray(1));
      if (state.ring) Ring.fromState(state.ring);
    } else {
      decodeRangeMessage(input.subarray(1));
    }
  },
  expected: (e) => e instanceof WeaveError || e instanceof GobError,
};

// ── DNS gossip ───────────────────────────────────────────────────────────────────────────────────
const dnsGossip: FuzzTarget = {
  name: 'dns-gossip',
  description: 'NameGossipData.decode (nameserver channel payload) and a merge into the current entries',
  maxLen: 8192,
  seeds: () => [dnsGossipSample(1), dnsGossipSample(6), dnsGossipSample(0)],
  run(input) {
    const g = NameGossipData.decode(input);
    g.merge(new NameGossipData(0, []));
  },
  expected: isWeaveError,
};

// ── DNS queries ──────────────────────────────────────────────────────────────────────────────────
function dnsHandler(): QueryHandler {
  const names = new Nameserver({ ourName: peer(1), isKnownPeer: () => true });
  for (let i = 0; i < 30; i++) names.add(`c${i}`, `10.32.0.${i + 1}`, `h${i % 7}.weave.local.`);
  const rng = new Rng(7);
  return new QueryHandler({
    names,
    ttl: 1,
    upstream: { servers: () => [] },
    upstreamPort: 53,
    upstreamTimeoutMs: 10,
    forwarder: new Forwarder(systemClock),
    random: {
      float: () => rng.u32() / 2 ** 32,
      int: (n) => rng.int(n),
      bytes: (n) => Uint8Array.from({ length: n }, () => rng.int(256)),
    },
    fastPath: true,
    maxForwards: 1024,
  });
}

function dnsQuerySeeds(): Uint8Array[] {
  const two = Buffer.from(query('a.weave.local', 'A', 1));
  two.writeUInt16BE(2, 4); // QDCOUNT 2: the same question twice
  const q2 = query('b', 'MX', 1).subarray(12);
  return [
    query('h1.weave.local', 'A'),
    query('h2', 'A'),
    query('1.0.32.10.in-addr.arpa', 'PTR'),
    query('h3.weave.local', 'AAAA'),
    query('example.com', 'A'),
    query('h1.weave.local', 'A', 7, 4096),
    Buffer.concat([two, q2]),
  ];
}

let handler: QueryHandler | undefined;

const dnsUdp: FuzzTarget = {
  name: 'dns-udp',
  description:
    'QueryHandler.handle over "UDP" (the server’s per-datagram entry point; no upstream: forwards fail at once)',
  maxLen: 1024,
  async setup() {
    handler = dnsHandler();
  },
  seeds: dnsQuerySeeds,
  async run(input) {
    const r = handler!.handle(
      Buffer.from(input.buffer, input.byteOffset, input.length),
      false,
      input.length % 2 === 0,
    );
    if (r instanceof Promise) await r;
  },
  expected: () => false,
};

const dnsTcp: FuzzTarget = {
  name: 'dns-tcp',
  description:
    'TCP stream: TcpMessageReader fed 1..512-byte chunks, each message answered by QueryHandler.handle(tcp)',
  maxLen: 4096,
  async setup() {
    handler = dnsHandler();
  },
  seeds: () => {
    const framed = dnsQuerySeeds().map((q) => {
      const out = Buffer.alloc(q.length + 2);
      out.writeUInt16BE(q.length, 0);
      out.set(q, 2);
      return out;
    });
    return [Buffer.concat(framed), ...framed];
  },
  async run(input) {
    const reader = new TcpMessageReader();
    for (const c of chunks(input)) {
      reader.push(Buffer.from(c.buffer, c.byteOffset, c.length));
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        const r = handler!.handle(m, true, true);
        if (r instanceof Promise) await r;
      }
    }
  },
  expected: () => false,
};

export const coreTargets: FuzzTarget[] = [gob, handshake, framing, topology, ipam, dnsGossip, dnsUdp, dnsTcp];
