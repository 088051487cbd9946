import { createTestHosts, findLeftovers, type TestHost, type TestHosts } from '@weave-ts/host';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bindNativeSleeveSocket,
  type ReceivedDatagram,
  SleeveOverlay,
  type SleeveSocket,
} from '../src/index.js';
import { arpFrame, hex, ipv4Frame } from './frames.js';
import { A, B } from './harness.js';
import { connectOverlays, until } from './real-sockets.js';

// Two hosts (network namespaces) joined by a veth pair with a 1000-byte MTU: the sleeve must find
// the path MTU from the kernel's EMSGSIZE alone, with no configured pathMtu.
let set: TestHosts;
let h0: TestHost;
let h1: TestHost;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

beforeAll(async () => {
  set = await createTestHosts({ count: 2, mtu: 1000 });
  [h0, h1] = set.hosts as [TestHost, TestHost];
});

afterAll(async () => {
  for (const c of cleanup.splice(0)) await c();
  await set.destroy();
  expect(await findLeftovers(set.prefix)).toEqual([]);
});

function bindIn(host: TestHost, port = 6783): SleeveSocket {
  const socket = bindNativeSleeveSocket({ host: host.address!, port }, { netns: host.netns });
  cleanup.push(() => socket.close());
  return socket;
}

describe('sleeve socket over the native UDP socket', () => {
  it('reports EMSGSIZE with the kernel path MTU for DF sends only', async () => {
    const a = bindIn(h0);
    const b = bindIn(h1);
    const got: ReceivedDatagram[] = [];
    b.onReceive((batch) => got.push(...batch));
    expect(a.local).toEqual({ host: h0.address, port: 6783 });
    expect(a.send([[new Uint8Array(973)], [Uint8Array.of(1)]], b.local, { df: true })).toEqual({
      code: 'EMSGSIZE',
      pmtu: 1000,
    });
    expect(a.send([[new Uint8Array(900), new Uint8Array(2000)]], b.local, { df: false })).toBeUndefined();
    await until(() => got.length === 2);
    expect(got.map((d) => d.data.length).sort((x, y) => x - y)).toEqual([1, 2900]);
    expect(got[0]!.from).toEqual(a.local);
  });

  it('drops sends after close and unmaps IPv4-mapped destinations', async () => {
    const a = bindIn(h0, 0);
    const b = bindIn(h0, 0);
    const got: ReceivedDatagram[] = [];
    b.onReceive((batch) => got.push(...batch));
    a.send([[Uint8Array.of(7)]], { host: `::ffff:${b.local.host}`, port: b.local.port }, { df: false });
    await until(() => got.length === 1);
    await a.close();
    expect(a.send([[Uint8Array.of(8)]], b.local, { df: false })).toBeUndefined();
    await new Promise((r) => setTimeout(r, 30));
    expect(got.map((d) => d.data[0])).toEqual([7]);
  });
});

describe('two sleeve overlays over native sockets in two namespaces', () => {
  it('establish and discover overlay MTU 938 (1000 − 62) from the kernel, then carry frames', async () => {
    const a = new SleeveOverlay({ localPeer: A, socket: bindIn(h0) });
    const b = new SleeveOverlay({ localPeer: B, socket: bindIn(h1) });
    cleanup.push(
      () => a.stop(),
      () => b.stop(),
    );
    // The dialling side knows the peer's address; the other learns it from heartbeats.
    const { fa, fb, received } = connectOverlays(a, b, { host: h0.address!, port: 40001 });
    await until(() => fa.established && fb.established);
    await until(() => fa.mtu === 938 && fb.mtu === 938);
    expect(fb.remoteAddress).toEqual(a.local);
    // The 60001-byte fragmentation test went without DF and the kernel fragmented it.
    await until(() => a.diagnostics().forwarders[0]?.stackFrag === true);

    const fits = ipv4Frame({ ipLength: 938, df: true });
    expect(a.forward({ srcPeer: A, dstPeer: B }, [fits, arpFrame()])).toBe('forwarded');
    expect(b.forward({ srcPeer: B, dstPeer: A }, [arpFrame(60)])).toBe('forwarded');
    await until(() => received.b.length === 2 && received.a.length === 1);
    expect(received.b.map((f) => hex(f.frame)).sort()).toEqual([hex(fits), hex(arpFrame())].sort());
    expect(a.diagnostics().forwarders).toEqual([
      expect.objectContaining({
        peer: B,
        remoteAddress: `${h1.address}:6783`,
        established: true,
        mtu: 938,
        stackFrag: true,
      }),
    ]);
  });
});
