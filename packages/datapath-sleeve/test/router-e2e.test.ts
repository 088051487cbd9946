import { arpFrame, parseFrame } from '@weave-ts/core/testing';
import { describe, expect, it } from 'vitest';
import type { UnderlayDatagram } from '../src/index.js';
import {
  cipOf,
  drain,
  ipOf,
  macOf,
  type OverlayMode,
  ping,
  pong,
  type SimMesh,
  type SimNode,
  simMesh,
  stopAll,
} from './sim-routers.js';

// Real Routers end to end over the sleeve, all in memory: a frame captured on one host's port comes
// out of another host's port, through the L2 forwarder, the overlay (switch) and UDP datagrams.

const BCAST = 'ff:ff:ff:ff:ff:ff';
const flow = (from: number, to: number) => `${macOf(from)} > ${macOf(to)}`;
const arpRequest = (from: number, to: number) =>
  arpFrame({ op: 'request', senderMac: macOf(from), senderIp: cipOf(from), targetIp: cipOf(to) });
const nameRe = (n: number) => `0a:00:00:00:00:0${n}\\(host${n}\\)`;

/** A ping A→B and its reply, returning what each port saw. */
async function pingPong(mesh: SimMesh, from: number, to: number, seq: number): Promise<string[][]> {
  const { sim, nodes } = mesh;
  nodes[from - 1]!.port.capture([ping(from, to, { seq })]);
  await sim.runUntilQuiet();
  const there = drain(nodes);
  nodes[to - 1]!.port.capture([pong(from, to, seq)]);
  await sim.runUntilQuiet();
  const back = drain(nodes);
  return nodes.map((_, i) => [...there[i]!, ...back[i]!]);
}

describe('two routers over the sleeve', () => {
  const modes: [string, (n: number) => OverlayMode][] = [
    ['both in an OverlaySwitch', () => 'switch'],
    ['both standalone (compat peers)', () => 'standalone'],
    ['switch dialling a standalone sleeve', (n) => (n === 2 ? 'switch' : 'standalone')],
  ];
  for (const [label, mode] of modes) {
    it(`${label}: establish at MTU 1438, a ping crosses intact and the reply comes back`, async () => {
      const mesh = await simMesh(2, [[2, 1]], { mode });
      const [a, b] = mesh.nodes as [SimNode, SimNode];
      expect(a.router.connectionsText()).toMatch(
        new RegExp(`^<- ${ipOf(2)}:\\d+ +established sleeve ${nameRe(2)} mtu=1438\n$`),
      );
      expect(b.router.connectionsText()).toBe(
        `-> ${`${ipOf(1)}:6783`.padEnd(21)} established sleeve 0a:00:00:00:00:01(host1) mtu=1438\n`,
      );
      const frame = ping(1, 2, { seq: 7 });
      a.port.capture([frame]);
      await mesh.sim.runUntilQuiet();
      const got = b.port.takeInjected();
      expect(got).toEqual([frame]);
      expect(parseFrame(got[0]!).ipv4?.icmp).toMatchObject({ type: 8, seq: 7, checksumValid: true });
      b.port.capture([pong(1, 2, 7)]);
      await mesh.sim.runUntilQuiet();
      expect(drain(mesh.nodes)).toEqual([[flow(2, 1)], []]);
      expect(a.sleeve.diagnostics().counters.framesReceived).toBe(1);
      expect(b.sleeve.diagnostics().counters.framesReceived).toBe(1);
      await stopAll(mesh);
    });
  }
});

describe('three routers over the sleeve', () => {
  it('full mesh: a broadcast ARP reaches every other host once, unicast then only its target', async () => {
    const mesh = await simMesh(3, [
      [2, 1],
      [3, 1],
      [3, 2],
    ]);
    const { sim, nodes } = mesh;
    for (const node of nodes) expect(node.router.statusText()).toContain('Connections: 2 (2 established)');
    nodes[0]!.port.capture([arpRequest(1, 2)]);
    await sim.runUntilQuiet();
    expect(drain(nodes)).toEqual([[], [`${macOf(1)} > ${BCAST}`], [`${macOf(1)} > ${BCAST}`]]);
    // Host 2 learnt macOf(1) from the ARP: its reply, and everything after, is unicast.
    expect(await pingPong(mesh, 2, 1, 1)).toEqual([[flow(2, 1)], [flow(1, 2)], []]);
    expect(await pingPong(mesh, 1, 2, 2)).toEqual([[flow(2, 1)], [flow(1, 2)], []]);
    expect(nodes[2]!.sleeve.diagnostics().counters.framesReceived).toBe(1);
    await stopAll(mesh);
  });

  for (const mode of ['switch', 'standalone'] as const) {
    it(`a line 1–2–3 without discovery relays frames between the ends through the middle (${mode})`, async () => {
      const mesh = await simMesh(
        3,
        [
          [2, 1],
          [3, 2],
        ],
        { mode: () => mode },
      );
      const { sim, nodes } = mesh;
      const [one, two, three] = nodes as [SimNode, SimNode, SimNode];
      expect(one.router.statusText()).toContain('Connections: 1 (1 established)');
      expect(one.router.routes.unicast(three.name)).toBe(two.name);
      one.port.capture([arpRequest(1, 3)]);
      await sim.runUntilQuiet();
      expect(drain(nodes)).toEqual([[], [`${macOf(1)} > ${BCAST}`], [`${macOf(1)} > ${BCAST}`]]);
      const relayedBefore = two.sleeve.diagnostics().counters.framesReceived;
      // Unicast both ways: the middle carries the frames without its containers seeing them.
      expect(await pingPong(mesh, 3, 1, 1)).toEqual([[flow(3, 1)], [], [flow(1, 3)]]);
      expect(await pingPong(mesh, 1, 3, 2)).toEqual([[flow(3, 1)], [], [flow(1, 3)]]);
      expect(two.sleeve.diagnostics().counters.framesReceived - relayedBefore).toBe(4);
      expect(two.sleeve.diagnostics().counters.framesSent).toBeGreaterThanOrEqual(5);
      await stopAll(mesh);
    });
  }
});

describe('encryption, MTU and hostile traffic', () => {
  it('with a password the sleeve encrypts (MTU 1414) and frames still flow', async () => {
    const mesh = await simMesh(2, [[2, 1]], { password: 's3cret' });
    const [a, b] = mesh.nodes as [SimNode, SimNode];
    expect(a.router.connectionsText()).toMatch(
      new RegExp(
        `^<- ${ipOf(2)}:\\d+ +established encrypted {3}sleeve ${nameRe(2)} encrypted=truemtu=1414\n$`,
      ),
    );
    expect(b.router.connectionsText()).toContain('established encrypted   sleeve');
    const wire: UnderlayDatagram[] = [];
    const untap = mesh.underlay.tap((d) => wire.push(d));
    const frame = ping(1, 2, { seq: 3 });
    a.port.capture([frame]);
    await mesh.sim.runUntilQuiet();
    untap();
    expect(b.port.takeInjected()).toEqual([frame]);
    // The ping's ICMP body (bytes 0..55) never appears in clear on the wire.
    const body = Buffer.from(frame.subarray(42)).toString('hex');
    expect(wire.length).toBeGreaterThan(0);
    for (const d of wire) expect(Buffer.from(d.data).toString('hex')).not.toContain(body);
    await stopAll(mesh);
  });

  for (const [password, mtu] of [
    [undefined, 938],
    ['s3cret', 914],
  ] as const) {
    it(`underlay path MTU 1000${password ? ', encrypted' : ''}: overlay MTU ${mtu}, too-big DF pings get ICMP frag-needed`, async () => {
      const mesh = await simMesh(2, [[2, 1]], { path: { mtu: 1000 }, ...(password ? { password } : {}) });
      const [a, b] = mesh.nodes as [SimNode, SimNode];
      for (const node of mesh.nodes)
        expect(node.router.connectionsText()).toMatch(new RegExp(`mtu=${mtu}\n$`));
      expect(a.logs).toContain(
        `sleeve ->[${ipOf(2)}:6783|0a:00:00:00:00:02(host2)]: Effective MTU verified at ${mtu}`,
      );
      // Learn where both containers are first: a flooded too-big frame is dropped, not answered.
      await pingPong(mesh, 1, 2, 1);
      const fits = ping(1, 2, { seq: 2, df: true, size: mtu - 28 });
      const tooBig = ping(1, 2, { seq: 3, df: true, size: mtu - 27 });
      a.port.capture([fits, tooBig]);
      await mesh.sim.runUntilQuiet();
      expect(b.port.takeInjected()).toEqual([fits]);
      const [icmp, ...more] = a.port.takeInjected();
      expect(more).toEqual([]);
      const parsed = parseFrame(icmp!);
      expect(parsed).toMatchObject({ src: macOf(2), dst: macOf(1) });
      expect(parsed.ipv4).toMatchObject({ src: cipOf(2), dst: cipOf(1), headerChecksumValid: true });
      // Type 3 code 4, the next-hop MTU in the low 16 bits of the second word.
      expect(parsed.ipv4?.icmp).toMatchObject({ type: 3, code: 4, seq: mtu, checksumValid: true });
      expect(a.sleeve.diagnostics().counters.icmpFragNeeded).toBe(1);
      await stopAll(mesh);
    });
  }

  it('where the underlay drops IP fragments, the sleeve fragments big non-DF packets itself', async () => {
    const mesh = await simMesh(2, [[2, 1]], { path: { mtu: 1000, dropFragments: true } });
    const [a, b] = mesh.nodes as [SimNode, SimNode];
    await pingPong(mesh, 1, 2, 1);
    a.port.capture([ping(1, 2, { seq: 2, size: 1400 })]);
    await mesh.sim.runUntilQuiet();
    const pieces = b.port.takeInjected().map((f) => parseFrame(f).ipv4!);
    expect(pieces.length).toBe(2);
    expect(pieces.every((p) => p.totalLength <= 938 && p.headerChecksumValid)).toBe(true);
    expect(pieces.reduce((sum, p) => sum + p.totalLength - 20, 0)).toBe(1408);
    expect(a.sleeve.diagnostics().counters.fragmented).toBe(1);
    await stopAll(mesh);
  });

  it('drops replayed and corrupted datagrams without harm; frames keep flowing', async () => {
    const mesh = await simMesh(2, [[2, 1]], { password: 's3cret' });
    const [a, b] = mesh.nodes as [SimNode, SimNode];
    const wire: UnderlayDatagram[] = [];
    const untap = mesh.underlay.tap((d) => wire.push(d));
    const frame = ping(1, 2, { seq: 1 });
    a.port.capture([frame]);
    await mesh.sim.runUntilQuiet();
    untap();
    expect(b.port.takeInjected()).toEqual([frame]);
    const [sent] = wire;
    expect(wire.length).toBe(1);

    const before = b.sleeve.diagnostics().counters;
    const toB = { host: ipOf(2), port: 6783 };
    // Replays (the same bytes again, twice), damage (a flipped byte, a cut-off tail), junk.
    mesh.underlay.inject(sent!.from, toB, sent!.data);
    mesh.underlay.inject(sent!.from, toB, sent!.data);
    const flipped = sent!.data.slice();
    flipped[30] = flipped[30]! ^ 0x01;
    mesh.underlay.inject(sent!.from, toB, flipped);
    mesh.underlay.inject(sent!.from, toB, sent!.data.subarray(0, sent!.data.length - 5));
    mesh.underlay.inject(sent!.from, toB, Uint8Array.of(1, 2, 3));
    mesh.underlay.inject(sent!.from, toB, Uint8Array.of(0x0a, 0, 0, 0, 0, 0x99, 1, 2, 3));
    await mesh.sim.runUntilQuiet();
    expect(b.port.takeInjected()).toEqual([]);
    const after = b.sleeve.diagnostics().counters;
    expect(after.duplicates - before.duplicates).toBe(2);
    expect(after.decodeErrors - before.decodeErrors).toBe(2);
    expect(after.shortDatagrams - before.shortDatagrams).toBe(1);
    expect(after.unknownSender - before.unknownSender).toBe(1);
    expect(after.framesReceived).toBe(before.framesReceived);

    // Nothing broke: both directions still work, long after (heartbeats keep the connection up).
    await mesh.sim.runUntilQuiet({ horizonMs: 70_000 });
    expect(await pingPong(mesh, 1, 2, 2)).toEqual([[flow(2, 1)], [flow(1, 2)]]);
    for (const node of mesh.nodes) expect(node.router.connectionsText()).toContain('established encrypted');
    await stopAll(mesh);
  });
});
