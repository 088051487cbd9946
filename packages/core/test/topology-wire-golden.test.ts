import { fileURLToPath } from 'node:url';
// Golden checks against a stock Weave 2.8.1 router: replay every topology gossip payload a peer received
// in the captures into our Peers table, then compare the table, its routes and `status peers` with what
// that upstream peer reported at the end of the capture.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type PeerName, parsePeerName } from '@weave-ts/core';
import {
  GobDecoder,
  LocalPeer,
  Peer,
  Peers,
  Routes,
  type TopologyUpdateResult,
  t,
} from '@weave-ts/core/protocol';
import { MockConnection, seededRandom } from './peers-fixtures.js';

const DIR = fileURLToPath(new URL('../../../fixtures/weaver-2.8.1', import.meta.url));

interface ReportConnection {
  Name: string;
  NickName: string;
  Address: string;
  Outbound: boolean;
  Established: boolean;
}
interface ReportPeer {
  Name: string;
  NickName: string;
  UID: string; // kept as text: uint64 does not fit a JS number
  ShortID: number;
  Version: number;
  Connections: ReportConnection[] | null;
}
interface Report {
  Name: string;
  Peers: ReportPeer[];
  UnicastRoutes: { Dest: string; Via: string }[];
  BroadcastRoutes: { Source: string; Via: string[] | null }[];
}

function readReport(path: string): Report {
  const text = readFileSync(`${DIR}/${path}`, 'utf8').replace(/"UID":\s*(\d+)/g, '"UID": "$1"');
  return JSON.parse(text).Router;
}

interface CapturedMessage {
  hex: string;
  channel?: string;
}
interface CapturedConnection {
  client: string;
  server: string;
  client_to_server: { messages: CapturedMessage[] };
  server_to_client: { messages: CapturedMessage[] };
}

/** Topology payloads received per IP address, over every capture file (connections seen twice counted once). */
function topologyPayloadsByReceiver(files: string[]): Map<string, Uint8Array[]> {
  const byIp = new Map<string, Uint8Array[]>();
  const seen = new Set<string>();
  for (const file of files) {
    const conns: CapturedConnection[] = JSON.parse(readFileSync(`${DIR}/${file}`, 'utf8')).tcp_connections;
    for (const c of conns) {
      const key = `${c.client}>${c.server}`;
      if (seen.has(key)) continue;
      seen.add(key);
      for (const [receiver, dir] of [
        [c.server, c.client_to_server],
        [c.client, c.server_to_client],
      ] as const) {
        const ip = receiver.split(':')[0]!;
        for (const m of dir.messages) {
          if (m.channel !== 'topology') continue;
          const d = new GobDecoder(Buffer.from(m.hex, 'hex').subarray(1));
          expect(d.decode(t.string)).toBe('topology');
          d.decode(t.uint); // sender
          const payload = d.decode(t.bytes);
          expect(d.atEnd).toBe(true);
          byIp.set(ip, [...(byIp.get(ip) ?? []), payload]);
        }
      }
    }
  }
  return byIp;
}

/** Our table for the reporting peer: its own live connections as the report lists them, then all gossip. */
function replay(report: Report, payloads: readonly Uint8Array[]) {
  const byName = new Map(report.Peers.map((p) => [p.Name, p]));
  const self = byName.get(report.Name)!;
  const local = new LocalPeer({
    name: parsePeerName(self.Name),
    nickname: self.NickName,
    uid: BigInt(self.UID),
    version: 0,
    shortId: self.ShortID,
    hasShortId: true,
  });
  const peers = new Peers(local, seededRandom(1));
  for (const c of self.Connections ?? []) {
    const other = byName.get(c.Name)!;
    const remote = peers.fetchWithDefault(
      new Peer({
        name: parsePeerName(c.Name),
        nickname: c.NickName,
        uid: BigInt(other.UID),
        version: 0,
        shortId: other.ShortID,
        hasShortId: true,
      }),
    );
    const conn = new MockConnection(remote, c.Address, c.Outbound);
    local.addConnection(conn);
    if (c.Established) {
      conn.established = true;
      local.connectionEstablished(conn);
    }
  }
  const results: TopologyUpdateResult[] = payloads.map((p) => peers.applyUpdate(p));
  return { local, peers, results };
}

function expectTableMatches(peers: Peers, report: Report): void {
  expect([...peers.names()].sort()).toEqual(report.Peers.map((p) => p.Name).sort());
  for (const rp of report.Peers) {
    const p = peers.fetch(rp.Name as PeerName)!;
    expect(p.summary(), rp.Name).toEqual({
      name: rp.Name,
      nickname: rp.NickName,
      uid: BigInt(rp.UID),
      version: rp.Version,
      shortId: rp.ShortID,
      hasShortId: true,
    });
    const ours = [...p.connections.values()].map((c) => ({
      Name: c.remoteName,
      NickName: peers.fetch(c.remoteName)?.nickname,
      Address: c.remoteTcpAddr,
      Outbound: c.outbound,
      Established: c.established,
    }));
    const byName = (a: { Name: string }, b: { Name: string }) => (a.Name < b.Name ? -1 : 1);
    expect(ours.sort(byName), rp.Name).toEqual([...(rp.Connections ?? [])].sort(byName));
  }
}

/** `weave status peers` as our table would print it, one line per connection, sorted within each peer. */
function statusPeerLines(peers: Peers): string[] {
  const label = (name: PeerName) => `${name}(${peers.fetch(name)?.nickname ?? ''})`;
  return [...peers]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((p) => [
      label(p.name),
      ...[...p.connections.values()]
        .map((c) =>
          [
            c.outbound ? '->' : '<-',
            c.remoteTcpAddr,
            label(c.remoteName),
            c.established ? 'established' : 'pending',
          ].join(' '),
        )
        .sort()
        .map((line) => `  ${line}`),
    ]);
}

/** The captured `status peers` text in the same normalised form. */
function capturedStatusPeers(path: string): string[] {
  const blocks: string[][] = [];
  for (const line of readFileSync(`${DIR}/${path}`, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith(' ')) blocks.push([line.trim()]);
    else blocks.at(-1)!.push(`  ${line.trim().split(/\s+/).join(' ')}`);
  }
  return blocks
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
    .flatMap(([head, ...rest]) => [head!, ...rest.sort()]);
}

function expectRoutesMatch(peers: Peers, report: Report): void {
  const routes = new Routes(peers);
  routes.recalculate();
  expect(new Map(routes.unicastRoutes())).toEqual(new Map(report.UnicastRoutes.map((r) => [r.Dest, r.Via])));
  for (const b of report.BroadcastRoutes) {
    expect(routes.broadcast(b.Source as PeerName), `broadcast from ${b.Source}`).toEqual(
      [...(b.Via ?? [])].sort(),
    );
  }
}

const scenarios = [
  {
    title: 'three hosts (A, B, C joining later)',
    files: ['ab.json', 'c.json'],
    peers: [
      { ip: '10.250.0.1', prefix: 'hostA' },
      { ip: '10.250.0.2', prefix: 'hostB' },
      { ip: '10.250.1.3', prefix: 'hostC' },
    ],
  },
  {
    title: 'four peers meshed by discovery',
    files: ['mesh4/mesh4.json'],
    peers: [1, 2, 3, 4].map((i) => ({ ip: `10.250.0.${i}`, prefix: `mesh4/docker${i}` })),
  },
  {
    title: 'four peers in a line without discovery',
    files: ['mesh4/line4.json'],
    peers: [1, 2, 3, 4].map((i) => ({ ip: `10.250.0.${i}`, prefix: `mesh4/line${i}` })),
  },
];

describe.each(scenarios)('golden topology: $title', ({ files, peers: members }) => {
  const received = topologyPayloadsByReceiver(files);

  it.each(members)(
    '$prefix ends up with the peers, routes and status upstream reported',
    ({ ip, prefix }) => {
      const report = readReport(`${prefix}_report.json`);
      const payloads = received.get(ip) ?? [];
      expect(payloads.length).toBeGreaterThan(0);
      const { peers, results } = replay(report, payloads);
      expect(results.some((r) => r.improved.size > 0)).toBe(true);
      expect(peers.garbageCollect()).toEqual([]);
      expectTableMatches(peers, report);
      expect(statusPeerLines(peers)).toEqual(capturedStatusPeers(`${prefix}_status_peers.txt`));
      expectRoutesMatch(peers, report);
    },
  );
});

describe('golden topology: re-encoding', () => {
  it('every captured payload survives decode → encode → decode unchanged', () => {
    const all = topologyPayloadsByReceiver(['ab.json', 'c.json', 'mesh4/mesh4.json', 'mesh4/line4.json']);
    let count = 0;
    for (const payloads of all.values()) {
      for (const payload of payloads) {
        const local = LocalPeer.create(parsePeerName('7e::1'), 'probe', seededRandom(count));
        const a = new Peers(local, seededRandom(1));
        const { received } = a.applyUpdate(payload);
        const again = new Peers(
          LocalPeer.create(parsePeerName('7e::2'), 'probe', seededRandom(count)),
          seededRandom(1),
        );
        again.applyUpdate(a.encodePeers(received));
        for (const name of received) {
          expect(again.fetch(name)?.summary()).toEqual(a.fetch(name)?.summary());
          expect(new Map(again.fetch(name)!.connections)).toEqual(new Map(a.fetch(name)!.connections));
        }
        count++;
      }
    }
    expect(count).toBe(61 + 15 + 81 + 23 - 7); // the C→B connection (7 topology messages) is in ab.json and c.json
  });
});
