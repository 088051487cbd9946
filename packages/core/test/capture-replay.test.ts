import { readFileSync } from 'node:fs';
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import {
  type Endpoint,
  type PeerName,
  Router,
  type RouterStatus,
  type StreamConnection,
  type StreamConnectionEvents,
  type StreamTransport,
  formatConnections,
  formatPeers,
  formatStatus,
  formatTargets,
  parsePeerName,
  routerSection,
} from '@weave-ts/core';
import { SeededRandom, VirtualClock } from '@weave-ts/core/testing';

// Golden data from a stock Weave Net 2.8.1 router (see /work/shared/interop/weaver-2.8.1/README.md).
const dir = new URL('../../../fixtures/weaver-2.8.1/', import.meta.url);
const text = (file: string) => readFileSync(new URL(file, dir), 'utf8');
const json = (file: string) => JSON.parse(text(file));

interface CapturedDirection {
  header_hex: string;
  crypto_flag_hex: string;
  messages: { hex: string }[];
}

/** The bytes one side wrote: header, crypto flag, then every length-prefixed message. */
function wireBytes(side: CapturedDirection): Uint8Array {
  const parts = [Buffer.from(side.header_hex + side.crypto_flag_hex, 'hex')];
  for (const m of side.messages) {
    const body = Buffer.from(m.hex, 'hex');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    parts.push(len, body);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A dialled "connection" that plays back what the captured remote sent, in small chunks. */
class ReplayConnection extends EventEmitter<StreamConnectionEvents> implements StreamConnection {
  written = 0;
  constructor(
    readonly local: Endpoint,
    readonly remote: Endpoint,
    private readonly bytes: Uint8Array,
  ) {
    super();
  }
  /** Playback starts once our side has begun its handshake (so a listener is attached). */
  write(chunk: Uint8Array): void {
    if (this.written === 0) setImmediate(() => void this.play());
    this.written += chunk.length;
  }
  private async play(): Promise<void> {
    for (let at = 0; at < this.bytes.length; at += 997) {
      this.emit('data', this.bytes.subarray(at, at + 997));
      await Promise.resolve();
    }
  }
  close(error?: Error): void {
    this.emit('close', error);
  }
}

describe('replaying a stock Weave 2.8.1 router', () => {
  it("accepts hostA's handshake and gossip and learns the same topology hostB printed", async () => {
    const capture = json('ab.json');
    const aToB = capture.tcp_connections[0].server_to_client as CapturedDirection;
    let conn: ReplayConnection | undefined;
    const transport: StreamTransport = {
      listen: async (local) => ({ local, close: async () => {} }),
      dial: async (remote) => {
        conn = new ReplayConnection({ host: '10.250.0.2', port: 51341 }, remote, wireBytes(aToB));
        return conn;
      },
    };
    const router = new Router({
      name: parsePeerName('0a:00:00:00:00:02'),
      nickname: 'hostB',
      host: '10.250.0.2',
      transport,
      clock: new VirtualClock(),
      random: new SeededRandom(2),
    });
    await router.start();
    router.connect(['10.250.0.1']);
    (router.clock as VirtualClock).advance(1);
    for (let i = 0; i < 500; i++) await new Promise((r) => setImmediate(r));

    expect(conn?.written).toBeGreaterThan(7);
    const status = router.status();
    expect(status.connections).toMatchObject([
      { address: '10.250.0.1:6783', state: 'established', outbound: true },
    ]);
    expect(status.peers.map((p) => p.name).sort()).toEqual([
      '0a:00:00:00:00:01',
      '0a:00:00:00:00:02',
      '0a:00:00:00:00:03',
    ]);
    // hostA's and hostC's blocks of `status peers` are what hostB printed (up to line order).
    const ours = blocks(router.peersText());
    const theirs = blocks(text('hostB_status_peers.txt'));
    for (const peer of ['0a:00:00:00:00:01(hostA)', '0a:00:00:00:00:03(hostC)']) {
      expect(ours.get(peer)?.sort()).toEqual(theirs.get(peer)?.sort());
    }
    await router.stop();
  });
});

function blocks(peersText: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of peersText.split('\n').filter(Boolean)) {
    if (line.startsWith(' ')) {
      current.push(line);
    } else {
      current = [];
      out.set(line, current);
    }
  }
  return out;
}

const sortedLines = (s: string) => s.split('\n').sort();
const sortedBlocks = (s: string) => [...blocks(s)].map(([peer, lines]) => [peer, ...lines.sort()]).sort();

/** The router part of upstream's /report, as our status data. */
function fromReport(report: ReturnType<typeof json>): RouterStatus {
  const r = report.Router;
  return {
    protocol: 'weave',
    protocolMinVersion: r.ProtocolMinVersion,
    protocolMaxVersion: r.ProtocolMaxVersion,
    encryption: r.Encryption,
    peerDiscovery: r.PeerDiscovery,
    name: r.Name,
    nickname: r.NickName,
    port: r.Port,
    peers: r.Peers.map((p: Record<string, unknown> & { Connections: Record<string, unknown>[] }) => ({
      name: p.Name as PeerName,
      nickname: p.NickName,
      uid: BigInt(p.UID as number),
      shortId: p.ShortID,
      version: p.Version,
      connections: p.Connections.map((c) => ({
        name: c.Name,
        nickname: c.NickName,
        address: c.Address,
        outbound: c.Outbound,
        established: c.Established,
      })),
    })),
    unicastRoutes: [],
    broadcastRoutes: [],
    connections: r.Connections.map((c: Record<string, unknown>) => ({
      address: c.Address,
      outbound: c.Outbound,
      state: c.State,
      info: c.Info,
      attrs: c.Attrs,
    })),
    terminationCount: r.TerminationCount,
    targets: r.Targets ?? [],
    trustedSubnets: r.TrustedSubnets ?? [],
  };
}

describe('status texts match upstream line for line', () => {
  for (const host of ['hostA', 'hostB', 'hostC']) {
    it(`${host}: status, connections, peers, targets`, () => {
      const report = json(`${host}_report.json`);
      const status = fromReport(report);
      const ipam = report.IPAM;
      const dns = report.DNS;
      const full = formatStatus('unreleased (version check update disabled)', [
        routerSection(status),
        {
          service: 'ipam',
          fields: [
            ['Status', 'ready'],
            ['Range', ipam.Range],
            ['DefaultSubnet', ipam.DefaultSubnet],
          ],
        },
        {
          service: 'dns',
          fields: [
            ['Domain', dns.Domain],
            ['Upstream', dns.Upstream.join(', ')],
            ['TTL', dns.TTL],
            ['Entries', dns.Entries.length],
          ],
        },
      ]);
      expect(full).toBe(text(`${host}_status.txt`));
      expect(sortedLines(formatConnections(status))).toEqual(
        sortedLines(text(`${host}_status_connections.txt`)),
      );
      // Go prints peers and their connections in map order: compare blocks, not their order.
      expect(sortedBlocks(formatPeers(status))).toEqual(sortedBlocks(text(`${host}_status_peers.txt`)));
      expect(
        formatTargets({ ...status, targets: text(`${host}_status_targets.txt`).split('\n').filter(Boolean) }),
      ).toBe(text(`${host}_status_targets.txt`));
    });
  }

  it('mesh4 seeds and line topologies', () => {
    for (const host of ['docker1', 'docker2', 'docker3', 'docker4', 'line1', 'line2', 'line3', 'line4']) {
      const report = json(`mesh4/${host}_report.json`);
      const status = fromReport(report);
      const sections = [routerSection(status)];
      const ipam = report.IPAM;
      sections.push({
        service: 'ipam',
        fields: [
          ['Status', 'idle'],
          ['Range', ipam.Range],
          ['DefaultSubnet', ipam.DefaultSubnet],
        ],
      });
      expect(formatStatus('unreleased (version check update disabled)', sections), host).toBe(
        text(`mesh4/${host}_status.txt`),
      );
      expect(sortedLines(formatConnections(status)), host).toEqual(
        sortedLines(text(`mesh4/${host}_status_connections.txt`)),
      );
      expect(sortedBlocks(formatPeers(status)), host).toEqual(
        sortedBlocks(text(`mesh4/${host}_status_peers.txt`)),
      );
    }
  });
});
