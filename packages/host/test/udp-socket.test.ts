import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  addAddress,
  addRoute,
  createVethPair,
  findLeftovers,
  createTestHosts,
  NativeUdpSocket,
  setLinkUp,
  setSysctls,
  type TestHost,
  type TestHosts,
  UdpAddressInUseError,
  type UdpDatagram,
  UdpSocketClosedError,
} from '../src/index.js';

const addonPath = fileURLToPath(new URL('../build/Release/weave_host.node', import.meta.url));

// Two hosts on a 1000-byte underlay, plus a routed path a ─(1500)─ r ─(1000)─ b where only the
// router knows the small MTU, so the sender learns it from ICMP "fragmentation needed".
let set: TestHosts;
let h0: TestHost;
let h1: TestHost;
let ra: TestHost;
let rb: TestHost;
const A_ADDR = '10.252.1.1';
const B_ADDR = '10.252.2.1';

const open: NativeUdpSocket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function bind(netns: string, host: string, port = 0): NativeUdpSocket {
  const s = NativeUdpSocket.bind({ host, port, netns });
  open.push(s);
  return s;
}

/** Collects every received datagram, keeping the batch boundaries. */
function collect(s: NativeUdpSocket) {
  const batches: UdpDatagram[][] = [];
  s.onReceive((batch) => batches.push(batch));
  return { batches, all: () => batches.flat() };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  set = await createTestHosts({ count: 2, mtu: 1000 });
  [h0, h1] = set.hosts as [TestHost, TestHost];
  ra = await set.addNetns('ra');
  const rr = await set.addNetns('rr');
  rb = await set.addNetns('rb');
  const p = set.prefix;
  await createVethPair(`${p}a`, `${p}ra`, { netns: ra.netns, peerNetns: rr.netns, mtu: 1500 });
  await createVethPair(`${p}b`, `${p}rb`, { netns: rb.netns, peerNetns: rr.netns, mtu: 1000 });
  await addAddress(`${p}a`, `${A_ADDR}/24`, { netns: ra.netns });
  await addAddress(`${p}ra`, '10.252.1.254/24', { netns: rr.netns });
  await addAddress(`${p}rb`, '10.252.2.254/24', { netns: rr.netns });
  await addAddress(`${p}b`, `${B_ADDR}/24`, { netns: rb.netns });
  for (const [dev, ns] of [
    [`${p}a`, ra.netns],
    [`${p}ra`, rr.netns],
    [`${p}rb`, rr.netns],
    [`${p}b`, rb.netns],
  ] as const)
    await setLinkUp(dev, { netns: ns });
  await addRoute('10.252.2.0/24', `${p}a`, { netns: ra.netns, via: '10.252.1.254' });
  await addRoute('10.252.1.0/24', `${p}b`, { netns: rb.netns, via: '10.252.2.254' });
  await setSysctls({ 'net/ipv4/ip_forward': '1' }, { netns: rr.netns });
});

afterAll(async () => {
  for (const s of open.splice(0)) s.close();
  await set.destroy();
  expect(await findLeftovers(set.prefix)).toEqual([]);
});

describe('NativeUdpSocket on loopback', () => {
  it('delivers a burst in few callbacks, with gathered buffers and the source address', async () => {
    const a = bind(h0.netns, '127.0.0.1');
    const b = bind(h0.netns, '127.0.0.1');
    expect(a.local.port).toBeGreaterThan(0);
    expect(a.local.port).not.toBe(b.local.port);
    const rx = collect(b);
    const datagrams = Array.from({ length: 40 }, (_, i) => [Uint8Array.of(i), new Uint8Array(i).fill(0xee)]);
    expect(a.send(datagrams, b.local, { df: false })).toEqual({ sent: 40 });
    await until(() => rx.all().length === 40);
    const got = rx.all();
    expect(got.map((d) => d.data.length)).toEqual(datagrams.map((_, i) => i + 1));
    expect(got.every((d, i) => d.data[0] === i && d.data.subarray(1).every((x) => x === 0xee))).toBe(true);
    expect(got[0]!.from).toEqual({ host: '127.0.0.1', port: a.local.port });
    // All 40 were queued before the reader woke: they come in batches, never 40 separate calls.
    expect(rx.batches.length).toBeLessThan(40);
    expect(Math.max(...rx.batches.map((batch) => batch.length))).toBeGreaterThan(1);
    expect(Math.max(...rx.batches.map((batch) => batch.length))).toBeLessThanOrEqual(64);
  });

  it('splits a burst bigger than the batch size over several callbacks', async () => {
    const a = bind(h0.netns, '127.0.0.1');
    const b = NativeUdpSocket.bind({ host: '127.0.0.1', port: 0, netns: h0.netns, batchSize: 8 });
    open.push(b);
    const rx = collect(b);
    a.send(
      Array.from({ length: 30 }, () => [Uint8Array.of(7)]),
      b.local,
      { df: true },
    );
    await until(() => rx.all().length === 30);
    expect(rx.batches.length).toBeGreaterThanOrEqual(4);
    expect(rx.batches.every((batch) => batch.length <= 8)).toBe(true);
  });

  it('gives received buffers to the handler: later batches do not overwrite them', async () => {
    const a = bind(h0.netns, '127.0.0.1');
    const b = bind(h0.netns, '127.0.0.1');
    const rx = collect(b);
    a.send([[Uint8Array.of(1, 1, 1)]], b.local, { df: false });
    await until(() => rx.all().length === 1);
    a.send([[Uint8Array.of(2, 2, 2)]], b.local, { df: false });
    await until(() => rx.all().length === 2);
    expect(rx.all().map((d) => Array.from(d.data))).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
  });

  it('refuses a second socket on the same address and reports bind failures by errno', () => {
    const a = bind(h0.netns, '127.0.0.1');
    expect(() => bind(h0.netns, '127.0.0.1', a.local.port)).toThrow(UdpAddressInUseError);
    expect(() => bind(h0.netns, '10.9.9.9')).toThrow(
      expect.objectContaining({ name: 'UdpSocketError', code: 'EADDRNOTAVAIL' }),
    );
    expect(() => NativeUdpSocket.bind({ host: 'localhost', port: 0 })).toThrow(RangeError);
    expect(() => a.send([[Uint8Array.of(1)]], { host: '127.0.0.1', port: 0 }, { df: false })).toThrow(
      RangeError,
    );
  });

  it('asks for 4 MiB socket buffers by default', () => {
    const a = bind(h0.netns, '127.0.0.1');
    // The kernel reports twice the requested size (it counts its bookkeeping); as root past rmem_max.
    expect(a.recvBufferSize).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(a.sendBufferSize).toBeGreaterThanOrEqual(4 * 1024 * 1024);
  });
});

describe('NativeUdpSocket close', () => {
  it('runs no callback after close, not even for datagrams already queued, and is idempotent', async () => {
    const a = bind(h0.netns, '127.0.0.1');
    const b = bind(h0.netns, '127.0.0.1');
    const rx = collect(b);
    a.send([[Uint8Array.of(1)], [Uint8Array.of(2)]], b.local, { df: false });
    b.close();
    b.close();
    await sleep(50);
    expect(rx.all()).toEqual([]);
    expect(b.closed).toBe(true);
    expect(() => b.send([[Uint8Array.of(1)]], a.local, { df: false })).toThrow(UdpSocketClosedError);
    expect(() => b.onReceive(() => {})).toThrow(UdpSocketClosedError);
    // The port is free again.
    bind(h0.netns, '127.0.0.1', b.local.port);
  });

  it('lets the process exit after close, and with setRef(false) while still open', async () => {
    const script = (body: string) => `const a=require(${JSON.stringify(addonPath)});
const [h]=a.udpOpen(null,'127.0.0.1',0,65536,65536);a.udpRecvStart(h,64,()=>{});${body}`;
    const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
    const run = promisify(execFile);
    await expect(run('node', ['-e', script('a.udpClose(h)')], { env, timeout: 5000 })).resolves.toBeDefined();
    await expect(
      run('node', ['-e', script('a.udpRef(h,false)')], { env, timeout: 5000 }),
    ).resolves.toBeDefined();
    // Control: an open, referenced socket keeps the process alive until the timeout kills it.
    await expect(run('node', ['-e', script('')], { env, timeout: 500 })).rejects.toMatchObject({
      killed: true,
    });
  });
});

describe("Don't Fragment and path MTU", () => {
  it('refuses DF datagrams over the 1000-byte link MTU with EMSGSIZE and pmtu 1000, sends the rest', async () => {
    const a = bind(h0.netns, h0.address!);
    const b = bind(h1.netns, h1.address!);
    const rx = collect(b);
    const result = a.send([[new Uint8Array(972)], [new Uint8Array(973)], [Uint8Array.of(5)]], b.local, {
      df: true,
    });
    expect(result).toEqual({ sent: 2, emsgsize: { pmtu: 1000 } });
    await until(() => rx.all().length === 2);
    expect(rx.all().map((d) => d.data.length)).toEqual([972, 1]);
    expect(rx.all()[0]!.from).toEqual(a.local);
  });

  it('lets the kernel fragment a non-DF datagram bigger than the MTU', async () => {
    const a = bind(h0.netns, h0.address!);
    const b = bind(h1.netns, h1.address!);
    const rx = collect(b);
    const big = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
    expect(a.send([[big.subarray(0, 1000), big.subarray(1000)]], b.local, { df: false })).toEqual({
      sent: 1,
    });
    await until(() => rx.all().length === 1);
    expect(rx.all()[0]!.data).toEqual(big);
    // Switching back to DF afterwards still refuses (the option follows every batch).
    expect(a.send([[big]], b.local, { df: true }).emsgsize).toEqual({ pmtu: 1000 });
  });

  it('learns a smaller MTU behind a router from ICMP: DF is really set on the wire', async () => {
    const a = bind(ra.netns, A_ADDR);
    const b = bind(rb.netns, B_ADDR);
    const rx = collect(b);
    const payload = new Uint8Array(1200).fill(3);
    // The first DF datagram leaves (the local link is 1500); the router drops it and answers with
    // "fragmentation needed", after which the kernel refuses DF datagrams of that size.
    let result = a.send([[payload]], b.local, { df: true });
    expect(result).toEqual({ sent: 1 });
    await until(() => {
      result = a.send([[payload]], b.local, { df: true });
      return result.emsgsize !== undefined;
    });
    expect(result.emsgsize).toEqual({ pmtu: 1000 });
    expect(rx.all().filter((d) => d.data.length === 1200)).toEqual([]);
    // Without DF the router fragments it, and a DF datagram that fits the path goes through.
    expect(a.send([[payload]], b.local, { df: false })).toEqual({ sent: 1 });
    expect(a.send([[new Uint8Array(972)]], b.local, { df: true })).toEqual({ sent: 1 });
    await until(() => rx.all().length === 2);
    expect(
      rx
        .all()
        .map((d) => d.data.length)
        .sort((x, y) => x - y),
    ).toEqual([972, 1200]);
  });
});
