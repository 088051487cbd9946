import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addAddress,
  createBridge,
  createTestHosts,
  createVethPair,
  ExposeRules,
  exposeAddress,
  findLeftovers,
  hideAddress,
  IptablesFlushMonitor,
  listAddresses,
  networkOf,
  runCommand,
  setLinkMaster,
  setLinkUp,
  type TestHost,
  type TestHosts,
} from '../src/index.js';

// expose/hide in a throw-away namespace: host `<p>-h0` with bridge `weave`, container `<p>-c` on it
// at 10.99.7.2/24. Reachability is a TCP connect to a closed port: ECONNREFUSED means the container
// answered (reachable), ENETUNREACH/EHOSTUNREACH/timeout means it did not.

const prefix = `ww${Math.random().toString(36).slice(2, 6)}`;
const CHAINS = { natChain: 'WW-NAT', filterChain: 'WW-EXPOSE', canaryChain: 'WW-CANARY' };
let set: TestHosts;
let host: TestHost;
let container: TestHost;
let rules: ExposeRules;

async function reach(from: TestHost, address: string): Promise<string> {
  const script = `const s=require('net').connect(9,'${address}');s.setTimeout(1500,()=>{console.log('TIMEOUT');process.exit(0)});
s.on('connect',()=>{console.log('OPEN');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(0)});`;
  return (await from.exec('node', ['-e', script])).stdout.trim();
}

const iptables = (table: string, ...args: string[]) =>
  runCommand('iptables', ['-w', '5', '-t', table, ...args], { netns: host.netns });

beforeAll(async () => {
  set = await createTestHosts({ count: 1, prefix });
  host = set.hosts[0]!;
  container = await set.addNetns('c');
  await createBridge('weave', { netns: host.netns });
  await setLinkUp('weave', { netns: host.netns });
  await setLinkUp('lo', { netns: container.netns });
  await createVethPair(`${prefix}v0`, `${prefix}v1`, { netns: host.netns, peerNetns: container.netns });
  await setLinkMaster(`${prefix}v0`, 'weave', { netns: host.netns });
  await setLinkUp(`${prefix}v0`, { netns: host.netns });
  await addAddress(`${prefix}v1`, '10.99.7.2/24', { netns: container.netns });
  await setLinkUp(`${prefix}v1`, { netns: container.netns });
  rules = new ExposeRules({ bridge: 'weave', netns: host.netns, ...CHAINS });
});

afterAll(async () => {
  await set?.destroy();
  expect(await findLeftovers(prefix)).toEqual([]);
});

describe('expose / hide', () => {
  it('the container is unreachable from the host before expose', async () => {
    expect(await reach(host, '10.99.7.2')).toMatch(/ENETUNREACH|EHOSTUNREACH|TIMEOUT/);
  });

  it('expose puts the address on the bridge, adds NAT and ACCEPT rules, and the host reaches the container', async () => {
    await exposeAddress(rules, '10.99.7.1/24', { netns: host.netns });
    expect(await listAddresses('weave', { netns: host.netns })).toEqual(['10.99.7.1/24']);
    const listed = await rules.list();
    expect(listed.nat).toEqual([
      '-A WW-NAT -s 10.99.7.0/24 -d 224.0.0.0/4 -j RETURN',
      '-A WW-NAT ! -s 10.99.7.0/24 -d 10.99.7.0/24 -j MASQUERADE',
      '-A WW-NAT -s 10.99.7.0/24 ! -d 10.99.7.0/24 -j MASQUERADE',
    ]);
    expect(listed.filter).toEqual(['-A WW-EXPOSE -d 10.99.7.0/24 -j ACCEPT']);
    expect((await iptables('nat', '-S', 'POSTROUTING')).stdout).toContain('-A POSTROUTING -j WW-NAT');
    expect((await iptables('filter', '-S', 'FORWARD')).stdout).toContain('-A FORWARD -o weave -j WW-EXPOSE');
    expect(await reach(host, '10.99.7.2')).toBe('ECONNREFUSED');
  });

  it('expose twice adds nothing twice', async () => {
    await exposeAddress(rules, '10.99.7.1/24', { netns: host.netns });
    const listed = await rules.list();
    expect(listed.nat).toHaveLength(3);
    expect(listed.filter).toHaveLength(1);
    expect(await listAddresses('weave', { netns: host.netns })).toEqual(['10.99.7.1/24']);
  });

  it('a flush is detected by the canary and the rules come back', async () => {
    const monitor = new IptablesFlushMonitor(rules, {
      intervalMs: 3_600_000,
      onFlush: async () => {
        for (const cidr of await listAddresses('weave', { netns: host.netns })) await rules.expose(cidr);
      },
    });
    try {
      expect(await rules.flushed()).toBe(false);
      expect(await monitor.check()).toBe(false);
      for (const table of ['nat', 'filter', 'mangle']) {
        await iptables(table, '-F');
        await iptables(table, '-X');
      }
      expect(await rules.flushed()).toBe(true);
      expect((await rules.list()).nat).toEqual([]);
      expect(await monitor.check()).toBe(true);
      expect(await rules.flushed()).toBe(false);
      const listed = await rules.list();
      expect(listed.nat).toHaveLength(3);
      expect(listed.filter).toEqual(['-A WW-EXPOSE -d 10.99.7.0/24 -j ACCEPT']);
      expect((await iptables('nat', '-S', 'POSTROUTING')).stdout).toContain('-A POSTROUTING -j WW-NAT');
    } finally {
      await monitor.stop();
    }
  });

  it('hide removes exactly what expose added: the rules and the address', async () => {
    // Someone else's rule in the same chain stays.
    await iptables('filter', '-A', 'WW-EXPOSE', '-d', '10.98.0.0/16', '-j', 'ACCEPT');
    await hideAddress(rules, '10.99.7.1/24', { netns: host.netns });
    expect(await listAddresses('weave', { netns: host.netns })).toEqual([]);
    const listed = await rules.list();
    expect(listed.nat).toEqual([]);
    expect(listed.filter).toEqual(['-A WW-EXPOSE -d 10.98.0.0/16 -j ACCEPT']);
    expect(await reach(host, '10.99.7.2')).toMatch(/ENETUNREACH|EHOSTUNREACH|TIMEOUT/);
    // Hiding again is harmless.
    await hideAddress(rules, '10.99.7.1/24', { netns: host.netns });
    expect(await rules.hide('10.99.7.1/24')).toBe(0);
  });

  it('skipNAT adds the ACCEPT rule only', async () => {
    await exposeAddress(rules, '10.99.7.1/24', { netns: host.netns, skipNAT: true });
    const listed = await rules.list();
    expect(listed.nat).toEqual([]);
    expect(listed.filter).toContain('-A WW-EXPOSE -d 10.99.7.0/24 -j ACCEPT');
    await hideAddress(rules, '10.99.7.1/24', { netns: host.netns });
  });

  it('teardown removes the chains and the jumps', async () => {
    await rules.teardown();
    expect((await iptables('nat', '-S', 'POSTROUTING')).stdout).not.toContain('WW-NAT');
    expect((await iptables('filter', '-S', 'FORWARD')).stdout).not.toContain('WW-EXPOSE');
    expect(await rules.flushed()).toBe(true);
    expect(await rules.list()).toEqual({ nat: [], filter: [] });
  });
});

describe('expose input checks', () => {
  it('refuses bad CIDRs and chain names', async () => {
    expect(networkOf('10.32.0.7/12')).toBe('10.32.0.0/12');
    expect(() => networkOf('10.32.0.7')).toThrow(RangeError);
    expect(() => networkOf('fd00::1/64')).toThrow(/IPv4/);
    expect(() => new ExposeRules({ natChain: 'bad chain' })).toThrow(/chain name/);
    await expect(exposeAddress(rules, 'nonsense', { netns: host.netns })).rejects.toThrow(RangeError);
  });
});
