import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachContainer,
  BridgeNotFoundError,
  createBridge,
  createTestHosts,
  detachContainer,
  findLeftovers,
  getLink,
  linkExists,
  listAddresses,
  listLinks,
  listRoutes,
  moveLinkToNetns,
  setLinkMaster,
  setLinkUp,
  Tap,
  type TestHost,
  type TestHosts,
} from '../src/index.js';
import { arpRequest } from './frames.js';
import { udpBurst, udpListen } from './udp.js';

let set: TestHosts;
let host: TestHost;
let c1: string;
let c2: string;
let container1: TestHost;
let container2: TestHost;
let tap: Tap;
const arps: { senderIp: string; targetIp: string; senderMac: string }[] = [];

beforeAll(async () => {
  set = await createTestHosts({ count: 1 });
  host = set.hosts[0]!;
  container1 = await set.addNetns('c1');
  container2 = await set.addNetns('c2');
  c1 = container1.netns;
  c2 = container2.netns;
  await createBridge('weave', { netns: host.netns, mtu: 1376 });
  await setLinkUp('weave', { netns: host.netns });
  // A TAP on the bridge sees what the containers broadcast, e.g. their gratuitous ARPs.
  tap = Tap.open({ name: `${set.prefix}tap` });
  tap.onFrames((frames) => {
    for (const f of frames) {
      const arp = arpRequest(f);
      if (arp !== undefined) arps.push(arp);
    }
  });
  await moveLinkToNetns(tap.name, host.netns);
  await setLinkMaster(tap.name, 'weave', { netns: host.netns });
  await setLinkUp(tap.name, { netns: host.netns });
});

afterAll(async () => {
  tap?.close();
  await set?.destroy();
  expect(await findLeftovers(set.prefix)).toEqual([]);
});

function until(cond: () => boolean, ms = 3000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() - start > ms) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

const inHost = () => ({ bridge: 'weave', bridgeNetns: host.netns });

describe('attachContainer / detachContainer', () => {
  it('gives the container a working ethwe on the bridge', async () => {
    const att = await attachContainer({ ...inHost(), netns: c1, id: 1, cidr: '172.16.16.1/24' });
    expect(att).toEqual({
      netns: c1,
      hostIfName: 'vethwepl1',
      containerIfName: 'ethwe',
      mtu: 1376,
      cidrs: ['172.16.16.1/24'],
    });
    expect(await getLink('vethwepl1', { netns: host.netns })).toMatchObject({
      master: 'weave',
      up: true,
      mtu: 1376,
    });
    expect(await getLink('ethwe', { netns: c1 })).toMatchObject({ kind: 'veth', up: true, mtu: 1376 });
    expect((await getLink('lo', { netns: c1 })).up).toBe(true);
    expect(await listRoutes('ethwe', { netns: c1 })).toEqual(
      expect.arrayContaining(['224.0.0.0/4', '172.16.16.0/24']),
    );
    const sysctl = (key: string) => container1.exec('cat', [`/proc/sys/net/ipv4/${key}`]);
    expect((await sysctl('neigh/ethwe/base_reachable_time')).stdout.trim()).toBe('5');
    expect((await sysctl('conf/ethwe/arp_accept')).stdout.trim()).toBe('1');
    // The gratuitous ARP: sender and target are both the new address, from ethwe's MAC.
    const mac = (await getLink('ethwe', { netns: c1 })).mac;
    await until(() => arps.some((a) => a.senderIp === '172.16.16.1' && a.targetIp === '172.16.16.1'));
    expect(arps.find((a) => a.senderIp === '172.16.16.1')?.senderMac).toBe(mac);
  });

  it('lets two attached containers talk over the bridge', async () => {
    await attachContainer({ ...inHost(), netns: c2, hostIfName: `${set.prefix}v2`, cidr: '172.16.16.2/24' });
    const listener = await udpListen(container2, '172.16.16.2', 4000);
    await udpBurst(container1, '172.16.16.2', 4000, 1);
    expect(await listener.message).toBe('x');
  });

  it('adds addresses to an attached container and announces each', async () => {
    const att = await attachContainer({
      ...inHost(),
      netns: c1,
      id: 1,
      cidr: ['172.16.16.1/24', '10.2.2.1/24'],
    });
    expect(att.cidrs).toEqual(['172.16.16.1/24', '10.2.2.1/24']);
    await until(() => arps.some((a) => a.senderIp === '10.2.2.1' && a.targetIp === '10.2.2.1'));
  });

  it('detaches address by address, deleting the veth with the last one', async () => {
    expect(await detachContainer({ netns: c1, cidr: '10.2.2.1/24' })).toEqual({
      removed: ['10.2.2.1/24'],
      interfaceDeleted: false,
    });
    expect(await listAddresses('ethwe', { netns: c1 })).toEqual(['172.16.16.1/24']);
    expect(await detachContainer({ netns: c1 })).toEqual({
      removed: ['172.16.16.1/24'],
      interfaceDeleted: true,
    });
    expect(await linkExists('ethwe', { netns: c1 })).toBe(false);
    expect(await linkExists('vethwepl1', { netns: host.netns })).toBe(false);
    expect(await detachContainer({ netns: c1 })).toEqual({ removed: [], interfaceDeleted: false });
  });

  it("refuses a missing bridge with upstream's message and leaves nothing behind", async () => {
    const attempt = attachContainer({
      bridge: 'nobridge',
      bridgeNetns: host.netns,
      netns: c1,
      id: 9,
      cidr: '10.9.0.1/24',
    });
    await expect(attempt).rejects.toBeInstanceOf(BridgeNotFoundError);
    await expect(attempt).rejects.toThrow('bridge "nobridge" not present; did you launch weave?');
    expect((await listLinks({ netns: c1 })).map((l) => l.name)).toEqual(['lo']);
    expect(await linkExists('vethwepl9', { netns: host.netns })).toBe(false);
  });

  it('rejects a bad CIDR before touching anything', async () => {
    await expect(attachContainer({ ...inHost(), netns: c1, id: 8, cidr: '10.9.0.1' })).rejects.toBeInstanceOf(
      RangeError,
    );
    expect(await linkExists('vethwepl8', { netns: host.netns })).toBe(false);
  });
});
