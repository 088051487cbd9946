import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  addAddress,
  createBridge,
  createNetns,
  createTestHosts,
  createVethPair,
  deleteAddress,
  deleteLink,
  deleteNetns,
  findLeftovers,
  getLink,
  InvalidInterfaceNameError,
  InvalidNetnsNameError,
  LinkNotFoundError,
  linkExists,
  listAddresses,
  listLinks,
  listNetns,
  moveLinkToNetns,
  netnsExists,
  parseCidr,
  setLinkDown,
  setLinkMaster,
  setLinkMtu,
  setLinkUp,
  setSysctls,
  type TestHosts,
  uniqueTestPrefix,
} from '../src/index.js';
import { udpBurst, udpListen } from './udp.js';

let set: TestHosts;
let a: string;
let b: string;

beforeAll(async () => {
  set = await createTestHosts({ count: 1 });
  a = set.hosts[0]!.netns;
  b = (await set.addNetns('b')).netns;
});

afterAll(async () => {
  await set.destroy();
  await set.destroy();
  expect(await findLeftovers(set.prefix)).toEqual([]);
});

describe('network namespaces', () => {
  it('creates, lists and deletes a namespace, with clear errors', async () => {
    const name = `${set.prefix}-tmp`;
    await createNetns(name);
    try {
      expect(await netnsExists(name)).toBe(true);
      expect(await listNetns()).toContain(name);
      expect((await getLink('lo', { netns: name })).up).toBe(true);
      await expect(createNetns(name)).rejects.toBeInstanceOf(AlreadyExistsError);
    } finally {
      await deleteNetns(name);
    }
    expect(await netnsExists(name)).toBe(false);
    await expect(deleteNetns(name)).rejects.toBeInstanceOf(LinkNotFoundError);
    await deleteNetns(name, { ifExists: true });
    await expect(createNetns('../etc')).rejects.toBeInstanceOf(InvalidNetnsNameError);
  });

  it('sets kernel parameters inside a namespace', async () => {
    // New namespaces inherit ip_forward from the root namespace (1 on a Docker host or Kubernetes node), so
    // flip a's value to the opposite of what it starts with and check b keeps its own.
    const read = async (ns: string) =>
      (
        await set.hosts[0]!.exec('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward'])
      ).stdout.trim();
    const beforeA = await read(a);
    const beforeB = await read(b);
    const flipped = beforeA === '1' ? '0' : '1';
    await setSysctls({ 'net/ipv4/ip_forward': flipped }, { netns: a });
    expect(await read(a)).toBe(flipped);
    expect((await set.hosts[0]!.exec('cat', ['/proc/sys/net/ipv4/ip_forward'])).stdout.trim()).toBe(flipped);
    expect(await read(b)).toBe(beforeB);
    await expect(setSysctls({ '../../etc/passwd': 'x' })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('links', () => {
  it('creates a bridge with an MTU, brings it up and down, changes the MTU', async () => {
    await createBridge('weave', { netns: a, mtu: 1376 });
    let br = await getLink('weave', { netns: a });
    expect(br).toMatchObject({ name: 'weave', kind: 'bridge', mtu: 1376, up: false });
    await setLinkUp('weave', { netns: a });
    expect((await getLink('weave', { netns: a })).up).toBe(true);
    await setLinkMtu('weave', 1400, { netns: a });
    await setLinkDown('weave', { netns: a });
    br = await getLink('weave', { netns: a });
    expect(br).toMatchObject({ mtu: 1400, up: false });
    await deleteLink('weave', { netns: a });
    expect(await linkExists('weave', { netns: a })).toBe(false);
  });

  it('reuses an existing bridge (idempotent), sets its MAC, and refuses a non-bridge of that name', async () => {
    expect(await createBridge('weave', { netns: a, mac: '0A:00:00:00:00:01' })).toEqual({ created: true });
    expect(await getLink('weave', { netns: a })).toMatchObject({ kind: 'bridge', mac: '0a:00:00:00:00:01' });
    // A container port on it survives the reuse.
    await createVethPair('vport', 'vportpeer', { netns: a });
    await setLinkMaster('vport', 'weave', { netns: a });
    expect(await createBridge('weave', { netns: a, mtu: 1410 })).toEqual({ created: false });
    expect(await getLink('weave', { netns: a })).toMatchObject({ mac: '0a:00:00:00:00:01', mtu: 1410 });
    expect((await getLink('vport', { netns: a })).master).toBe('weave');
    expect(await createBridge('weave', { netns: a, mac: '0a:00:00:00:00:02' })).toEqual({ created: false });
    expect((await getLink('weave', { netns: a })).mac).toBe('0a:00:00:00:00:02');
    await expect(createBridge('vport', { netns: a })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await getLink('vport', { netns: a })).kind).toBe('veth');
    await expect(createBridge('weave', { netns: a, mac: 'zz' })).rejects.toBeInstanceOf(RangeError);
    await deleteLink('vport', { netns: a });
    await deleteLink('weave', { netns: a });
  });

  it('creates a veth pair across namespaces, enslaves one end, moves and renames the other', async () => {
    await createBridge('br1', { netns: a });
    await createVethPair('v1', 'v1peer', { netns: a, mtu: 1300 });
    await setLinkMaster('v1', 'br1', { netns: a });
    expect(await getLink('v1', { netns: a })).toMatchObject({ kind: 'veth', master: 'br1', mtu: 1300 });
    await moveLinkToNetns('v1peer', b, { netns: a, newName: 'inb' });
    expect(await linkExists('v1peer', { netns: a })).toBe(false);
    expect(await getLink('inb', { netns: b })).toMatchObject({ kind: 'veth', mtu: 1300 });
    await setLinkMaster('v1', null, { netns: a });
    expect((await getLink('v1', { netns: a })).master).toBeUndefined();
    await createVethPair('v2', 'v2peer', { netns: a, peerNetns: b });
    expect(await linkExists('v2peer', { netns: b })).toBe(true);
    // Deleting one end of a veth deletes its peer.
    await deleteLink('v1', { netns: a });
    await deleteLink('v2', { netns: a });
    expect((await listLinks({ netns: b })).map((l) => l.name)).toEqual(['lo']);
    await expect(deleteLink('v1', { netns: a })).rejects.toBeInstanceOf(LinkNotFoundError);
    await deleteLink('v1', { netns: a, ifExists: true });
    await expect(getLink('nope', { netns: a })).rejects.toBeInstanceOf(LinkNotFoundError);
    await deleteLink('br1', { netns: a });
  });

  it('refuses bad names and MTUs before running anything', async () => {
    await expect(createBridge('sixteen-chars-xx', { netns: a })).rejects.toBeInstanceOf(
      InvalidInterfaceNameError,
    );
    await expect(createVethPair('ok', 'has space', { netns: a })).rejects.toBeInstanceOf(
      InvalidInterfaceNameError,
    );
    await expect(setLinkMtu('lo', 70000, { netns: a })).rejects.toBeInstanceOf(RangeError);
  });

  it('adds, lists and removes addresses with their prefix length', async () => {
    await createBridge('br2', { netns: a });
    await addAddress('br2', '172.16.16.1/24', { netns: a });
    await addAddress('br2', '10.32.0.1/12', { netns: a });
    expect(await listAddresses('br2', { netns: a })).toEqual(['172.16.16.1/24', '10.32.0.1/12']);
    await expect(addAddress('br2', '172.16.16.1/24', { netns: a })).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    await deleteAddress('br2', '172.16.16.1/24', { netns: a });
    expect(await listAddresses('br2', { netns: a })).toEqual(['10.32.0.1/12']);
    await deleteLink('br2', { netns: a });
  });

  it('parses CIDRs strictly', () => {
    expect(parseCidr('172.16.16.1/24')).toEqual({ address: '172.16.16.1', prefixLength: 24, family: 4 });
    expect(parseCidr('fd00::1/64')).toEqual({ address: 'fd00::1', prefixLength: 64, family: 6 });
    for (const bad of ['172.16.16.1', '172.16.16.1/33', '300.1.1.1/8', '1.2.3.4/', '1.2.3.4/2x']) {
      expect(() => parseCidr(bad)).toThrow(RangeError);
    }
  });
});

describe('createTestHosts', () => {
  it('joins two hosts by a veth underlay with the MTU and addresses asked for', async () => {
    const pair = await createTestHosts({ count: 2, subnet: '10.250.0.0/24', mtu: 1450 });
    try {
      const [h0, h1] = pair.hosts as [(typeof pair.hosts)[0], (typeof pair.hosts)[0]];
      expect([h0.address, h1.address]).toEqual(['10.250.0.1', '10.250.0.2']);
      expect(await getLink(h1.ifName!, { netns: h1.netns })).toMatchObject({
        mtu: 1450,
        up: true,
        kind: 'veth',
      });
      expect(await listAddresses(h0.ifName!, { netns: h0.netns })).toEqual(['10.250.0.1/24']);
      const listener = await udpListen(h1, h1.address!, 6783);
      await udpBurst(h0, h1.address!, 6783, 1);
      expect(await listener.message).toBe('x');
    } finally {
      await pair.destroy();
    }
    expect(await findLeftovers(pair.prefix)).toEqual([]);
  });

  it('joins three hosts through a bridge namespace', async () => {
    const trio = await createTestHosts({ count: 3, subnet: '10.251.0.0/24' });
    try {
      expect(trio.hosts.map((h) => h.address)).toEqual(['10.251.0.1', '10.251.0.2', '10.251.0.3']);
      const last = trio.hosts[2]!;
      const listener = await udpListen(last, last.address!, 6783);
      await udpBurst(trio.hosts[0]!, last.address!, 6783, 1);
      expect(await listener.message).toBe('x');
      expect(await netnsExists(`${trio.prefix}-sw`)).toBe(true);
    } finally {
      await trio.destroy();
    }
    expect(await findLeftovers(trio.prefix)).toEqual([]);
  });

  it('makes prefixes that fit interface names and refuses bad options', async () => {
    const p = uniqueTestPrefix();
    expect(p).toMatch(/^wt[0-9a-z]{5}$/);
    expect(`${p}u31`.length).toBeLessThanOrEqual(15);
    await expect(createTestHosts({ count: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(createTestHosts({ subnet: '10.0.0.0/31' })).rejects.toBeInstanceOf(RangeError);
    await expect(createTestHosts({ prefix: 'Bad-Prefix' })).rejects.toBeInstanceOf(RangeError);
  });
});
