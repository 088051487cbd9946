// Issue 12 finding 4, end to end with the native fast path (root): two weave hosts (router + sleeve +
// TAP + fast path, examples/weave-host.ts) in two namespaces joined by a veth, one container on each.
// Once the receiving host's fast path holds a deliver flow for container 0 → container 1, a hand-made
// unencrypted sleeve datagram naming the connected peer, carrying a UDP packet from container 0 to a
// listener in container 1, is sent to UDP 6783 of the receiving host:
//   - from a third address (an extra address on the sender's veth): the fast path must not deliver it
//     (its address check hands it to JS), and JS must drop it and count it as `wrongAddress`;
//   - the very same bytes from the peer's own address 10.250.0.1:6783 (the control): delivered, by the
//     fast path, so the test can tell the two apart.
// The peer's address is bound by its weave host, so both datagrams are forged with a raw socket (perl,
// part of every Debian's perl-base), which sets the UDP source port itself.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parsePeerName, peerNameToBytes } from '@weave-ts/core';
import { ethernetFrame, ipv4Packet } from '@weave-ts/core/testing';
import {
  addAddress,
  createTestHosts,
  nativeSecretbox,
  type TestHost,
  type TestHosts,
  uniqueTestPrefix,
} from '@weave-ts/host';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addContainer,
  eventually,
  type RunningHost,
  startWeaveHost,
} from '../../../examples/weave-host-harness.js';
import { FRAME_OVERHEAD, NAME_SIZE } from '../src/constants.js';
import type { SleeveDiagnostics } from '../src/sleeve-diagnostics.js';
import { writeFrameRecord } from '../src/sleeve-packet.js';

const SLEEVE_PORT = 6783;
const LISTEN_PORT = 5555;
/** The third address, added to the sending host's veth next to the peer's own 10.250.0.1. */
const FOREIGN = '10.250.0.3';

/** Sends a UDP datagram from `src`:`sport` (any local address, even one a socket has bound) via a raw socket. */
const RAW_UDP_SEND = `
use Socket;
my ($src, $sport, $dst, $dport, $hex) = @ARGV;
my $payload = pack('H*', $hex);
socket(my $s, PF_INET, SOCK_RAW, 17) or die "socket: $!";
bind($s, pack_sockaddr_in(0, inet_aton($src))) or die "bind: $!";
my $udp = pack('nnnn', $sport, $dport, 8 + length($payload), 0) . $payload;
defined(send($s, $udp, 0, pack_sockaddr_in(0, inet_aton($dst)))) or die "send: $!";
`;

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TAP)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (nativeSecretbox() === undefined) return 'the host addon (native fast path) is not built';
  if (spawnSync('perl', ['-MSocket', '-e', '1']).status !== 0) return 'needs perl (raw socket)';
  return undefined;
}
const reason = skipReason();

let hosts: TestHosts | undefined;
let running: RunningHost[] = [];
let listener: ChildProcess | undefined;

afterAll(async () => {
  listener?.kill();
  await Promise.all(running.map((r) => r.stop()));
  running = [];
  await hosts?.destroy();
  hosts = undefined;
});

/** The MAC address of `ifName` inside `host`'s namespace. */
async function macOf(host: TestHost, ifName: string): Promise<string> {
  const out = await host.exec('ip', ['-j', 'link', 'show', ifName]);
  return (JSON.parse(out.stdout) as { address: string }[])[0]!.address;
}

/** One ping; whether a reply came back. */
function pingOnce(from: TestHost, to: string): Promise<boolean> {
  return from.exec('ping', ['-c', '1', '-W', '1', to]).then(
    () => true,
    () => false,
  );
}

/** A UDP listener in `host` on `ip`:LISTEN_PORT; what it received so far goes to `received`. */
async function startListener(host: TestHost, ip: string, received: string[]): Promise<ChildProcess> {
  const proc = host.spawn(
    process.execPath,
    [
      '-e',
      `const s=require('dgram').createSocket('udp4');
       s.on('message',(m,r)=>console.log(JSON.stringify({from:r.address,text:String(m)})));
       s.bind(${LISTEN_PORT},'${ip}',()=>console.log('listening'))`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let ready = false;
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line === 'listening') ready = true;
    else received.push(line);
  });
  await eventually(
    async () => ready,
    (ok) => ok,
    10_000,
  );
  return proc;
}

describe.skipIf(reason !== undefined)(
  `spoofed unencrypted sleeve datagrams with the native fast path${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    it('drops one from a foreign address (fast path declines, JS counts wrongAddress); delivers it from the peer', async () => {
      hosts = await createTestHosts({ count: 2, prefix: `wn${uniqueTestPrefix().slice(2)}` });
      const [h0, h1] = hosts.hosts as [TestHost, TestHost];
      // A legitimate third address on the sending host's veth: routed, passes rp_filter, never a peer.
      await addAddress(h0.ifName!, `${FOREIGN}/24`, { netns: h0.netns });
      const sender = await startWeaveHost(h0, ['--name', 'a::1', '--nickname', 'host1']);
      running.push(sender);
      const receiver = await startWeaveHost(h1, [
        '--name',
        'a::2',
        '--nickname',
        'host2',
        '--peer',
        h0.address!,
      ]);
      running.push(receiver);
      for (const r of running) {
        await eventually(
          () => r.request<string>('connections'),
          (text) => text.includes(' established sleeve '),
        );
      }
      const sleeveOf = () => receiver.request<SleeveDiagnostics>('sleeve');
      const peerAddress = `${h0.address}:${SLEEVE_PORT}`;
      expect((await sleeveOf()).forwarders).toMatchObject([
        { remoteAddress: peerAddress, established: true },
      ]);

      const containers: TestHost[] = [];
      const ips: string[] = [];
      for (const [i, host] of [h0, h1].entries()) {
        const cidr = await running[i]!.request<string>('allocate', { container: `container${i}` });
        ips.push(cidr.split('/')[0]!);
        containers.push(await addContainer(hosts, host, `c${i}`, cidr));
      }
      const [c0, c1] = containers as [TestHost, TestHost];
      const [ip0, ip1] = ips as [string, string];
      const [mac0, mac1] = [await macOf(c0, 'ethwe'), await macOf(c1, 'ethwe')];
      const received: string[] = [];
      listener = await startListener(c1, ip1, received);

      // Teach both routers the MACs, then make sure the receiver's fast path holds a fresh deliver flow
      // (a::1, mac0 → mac1): a ping whose request JS carried (JS then offers the flow for 10 s), then one
      // the fast path delivered itself.
      await eventually(
        () => pingOnce(c0, ip1),
        (ok) => ok,
      );
      let offered = false;
      let nativeDelivered = false;
      for (let attempt = 0; attempt < 40 && !nativeDelivered; attempt++) {
        const before = (await sleeveOf()).fastPath!.framesReceived;
        const ok = await pingOnce(c0, ip1);
        const carried = (await sleeveOf()).fastPath!.framesReceived > before;
        if (ok && !carried) offered = true;
        else if (ok && carried && offered) nativeDelivered = true;
        else await new Promise((r) => setTimeout(r, 300));
      }
      expect({ offered, nativeDelivered }).toEqual({ offered: true, nativeDelivered: true });
      // Silence container 0 so that nothing but our datagrams can use that flow from now on.
      await c0.exec('ip', ['link', 'set', 'ethwe', 'down']);

      // The datagram: sender name a::1 ‖ record(a::1 → a::2, frame mac0 → mac1, UDP ip0 → ip1:5555).
      const text = 'spoofed-into-container-1';
      const udp = new Uint8Array(8 + text.length);
      new DataView(udp.buffer).setUint16(0, 40000);
      new DataView(udp.buffer).setUint16(2, LISTEN_PORT);
      new DataView(udp.buffer).setUint16(4, udp.length);
      udp.set(Buffer.from(text), 8);
      const frame = ethernetFrame({
        dst: mac1,
        src: mac0,
        etherType: 0x0800,
        payload: ipv4Packet({ src: ip0, dst: ip1, protocol: 17, payload: udp }),
      });
      const a1 = peerNameToBytes(parsePeerName('a::1'));
      const a2 = peerNameToBytes(parsePeerName('a::2'));
      const datagram = new Uint8Array(NAME_SIZE + FRAME_OVERHEAD + frame.length);
      datagram.set(a1, 0);
      writeFrameRecord(datagram, NAME_SIZE, a1, a2, frame);
      const send = (from: string) =>
        h0.exec('perl', [
          '-e',
          RAW_UDP_SEND,
          from,
          String(SLEEVE_PORT),
          h1.address!,
          String(SLEEVE_PORT),
          Buffer.from(datagram).toString('hex'),
        ]);

      // From the foreign address: the fast path declines it, JS drops it as wrongAddress.
      const before = await sleeveOf();
      await send(FOREIGN);
      // Until JS counts the drop, or (the bug) the frame reaches the container.
      const afterSpoof = await eventually(
        sleeveOf,
        (d) => d.counters.wrongAddress > before.counters.wrongAddress || received.length > 0,
        5_000,
      );
      expect(received, 'the spoofed frame reached the container').toEqual([]);
      expect(afterSpoof.counters.wrongAddress).toBe(before.counters.wrongAddress + 1);
      expect(afterSpoof.counters.framesReceived).toBe(before.counters.framesReceived);
      expect(afterSpoof.fastPath!.framesReceived).toBe(before.fastPath!.framesReceived);
      expect(afterSpoof.fastPath!.datagramsReceived).toBe(before.fastPath!.datagramsReceived);
      expect(afterSpoof.forwarders).toMatchObject([{ remoteAddress: peerAddress, established: true }]);

      // The very same bytes from the peer's own address: delivered to the container, by the fast path.
      await send(h0.address!);
      await eventually(
        async () => received.length,
        (n) => n > 0,
        5_000,
      );
      const afterLegit = await sleeveOf();
      expect(afterLegit.fastPath!.framesReceived).toBe(afterSpoof.fastPath!.framesReceived + 1);
      expect(afterLegit.fastPath!.datagramsReceived).toBe(afterSpoof.fastPath!.datagramsReceived + 1);
      expect(afterLegit.counters.wrongAddress).toBe(afterSpoof.counters.wrongAddress);
      // Exactly one arrival (the control): the spoofed copy never reached the container.
      await new Promise((r) => setTimeout(r, 300));
      expect(received.map((l) => JSON.parse(l))).toEqual([{ from: ip0, text }]);
    }, 120_000);
  },
);
