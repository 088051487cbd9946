import { describe, expect, it } from 'vitest';
import { cidrRange, formatAddress, formatCIDR, parseCIDR, parseSubnet } from '../src/address.js';
import { OperationCancelledError } from '../src/allocator-errors.js';
import { parseInitMode } from '../src/init-mode.js';
import { FakeGossipNet, makeAllocator, makeNetwork, testName } from './fake-gossip.js';
import { seededRandom } from './seeded-random.js';

/** Behaviours of upstream's `ipam/allocator_test.go`, in our own words, over a fake gossip network. */

const quorum1 = { mode: parseInitMode('consensus=1') };

describe('Allocator (upstream allocator_test.go behaviours)', () => {
  it('allocates the lowest host address per subnet, returns it again, frees and resurrects (TestAllocFree)', async () => {
    const net = new FakeGossipNet();
    const alloc = makeAllocator(net, testName(0), '10.0.3.0/26', quorum1);
    const subnet1 = parseSubnet('10.0.3.0/28');
    const subnet2 = parseSubnet('10.0.3.32/28');
    const a1 = await alloc.allocate('abcdef', { subnet: subnet1 });
    const a2 = await alloc.allocate('abcdef', { subnet: subnet2 });
    expect(formatCIDR(a1)).toBe('10.0.3.1/28');
    expect(formatCIDR(a2)).toBe('10.0.3.33/28');
    expect(alloc.lookup('abcdef')).toEqual([a1, a2]);
    const b1 = await alloc.allocate('baddf00d', { subnet: subnet1 });
    expect(b1.addr).not.toBe(a1.addr);
    expect(await alloc.allocate('abcdef', { subnet: subnet1 })).toEqual(a1);
    expect(await alloc.allocate('abcdef', { subnet: subnet2 })).toEqual(a2);

    alloc.freeAll('abcdef');
    expect((await alloc.allocate('b01df00d', { subnet: subnet1 })).addr).toBe(a1.addr);
    expect((await alloc.allocate('b01df00d', { subnet: subnet2 })).addr).toBe(a2.addr);

    alloc.containerDied('baddf00d');
    // Asking again before the timeout resurrects it with the same address.
    expect(await alloc.allocate('baddf00d', { subnet: subnet1 })).toEqual(b1);
    alloc.containerDied('b01df00d');
    await net.advance(35_000);
    // 64 addresses, one still held by baddf00d.
    expect(alloc.numFreeAddresses()).toBe(63);
    expect(alloc.lookup('b01df00d')).toEqual([]);
    expect(() => alloc.freeAll('b01df00d')).toThrow('Delete: no addresses for b01df00d');
    expect(() => alloc.free('baddf00d', '10.0.3.9')).toThrow('Free: address 10.0.3.9 not found for baddf00d');
  });

  it('ownerOf names the holder of an address, undefined once freed or never handed out', async () => {
    const net = new FakeGossipNet();
    const alloc = makeAllocator(net, testName(0), '10.0.3.0/26', quorum1);
    const a = await alloc.allocate('holder1');
    const b = await alloc.allocate('holder2');
    expect(alloc.ownerOf(a.addr)).toBe('holder1');
    expect(alloc.ownerOf(formatAddress(b.addr))).toBe('holder2');
    expect(alloc.ownerOf('10.0.3.60')).toBeUndefined();
    alloc.free('holder1', a.addr);
    expect(alloc.ownerOf(a.addr)).toBeUndefined();
    expect(() => alloc.ownerOf('not-an-ip')).toThrow(/not-an-ip/);
  });

  it('completes a waiting allocation once two peers agree by Paxos (TestBootstrap)', async () => {
    const net = new FakeGossipNet();
    const quorum2 = { mode: parseInitMode('consensus=2') };
    const alloc1 = makeAllocator(net, testName(0), '10.0.0.0/22', quorum2);
    const alloc2 = makeAllocator(net, testName(1), '10.0.0.0/22', quorum2);
    let done = false;
    const pending = alloc1.allocate('somecontainer').then((cidr) => {
      done = true;
      return cidr;
    });
    await Promise.resolve();
    expect(done).toBe(false);
    expect(alloc1.status()).toBe('awaiting consensus (quorum: 2, known: 1)');
    expect(alloc2.status()).toBe('idle');
    await net.flush();
    expect(formatCIDR(await pending)).toBe('10.0.0.1/22');
    expect(alloc2.ringEntries()).toEqual(alloc1.ringEntries());
    expect(alloc1.ringEntries().map((e) => e.peer)).toEqual([testName(0), testName(1)]);
    expect(net.errors).toEqual([]);
  });

  it('claims addresses here, from another peer, and outside the range (TestAllocatorClaim)', async () => {
    const { net, allocs } = makeNetwork(2, '10.0.3.0/24');
    const [alloc0, alloc1] = allocs as [(typeof allocs)[0], (typeof allocs)[0]];
    await net.flush();
    const addr1 = parseCIDR('10.0.3.5/24');
    // Owned by alloc0: alloc1 asks for the single address and gets it.
    const claimed = alloc1.claim('b01df00d', addr1);
    await net.flush();
    await claimed;
    const addrx = await alloc0.allocate('abcdef');
    expect(addrx.addr).not.toBe(addr1.addr);
    await net.flush();
    expect(await alloc1.allocate('b01df00d')).toEqual(addr1);
    await alloc1.claim('b01df00d', addr1); // again: fine
    await expect(alloc1.claim('abcdef', addr1)).rejects.toThrow(
      'address 10.0.3.5/24 is already owned by b01df00d',
    );
    // In use on the other peer: it refuses.
    const stolen = alloc1.claim('abcdef', addrx);
    await net.flush();
    await expect(stolen).rejects.toThrow(
      `address ${formatCIDR(addrx)} is owned by other peer ${testName(0)} (nick-01)`,
    );
    await alloc1.claim('abcdef', '10.0.4.2/24');
    expect(alloc1.lookup('abcdef').map(formatCIDR)).toEqual(['10.0.4.2/24']);
  });

  it('waits for an unknown owner only when told not to fail, then completes (noErrorOnUnknown)', async () => {
    const net = new FakeGossipNet();
    const quorum2 = { mode: parseInitMode('consensus=2') };
    const a = makeAllocator(net, testName(0), '10.0.3.0/24', quorum2);
    makeAllocator(net, testName(1), '10.0.3.0/24', quorum2);
    await a.claim('c', '10.0.3.200/24', { noErrorOnUnknown: true });
    expect(a.report().PendingClaims).toEqual([{ Ident: 'c', CIDR: '10.0.3.200/24' }]);
    await net.flush();
    await net.advance(5_000);
    expect(a.report().PendingClaims).toBeNull();
    expect(a.lookup('c').map(formatCIDR)).toEqual(['10.0.3.200/24']);
  });

  it('cancels a waiting allocation (TestCancel)', async () => {
    const { net, allocs } = makeNetwork(2, '10.0.4.0/26');
    const [alloc1, alloc2] = allocs as [(typeof allocs)[0], (typeof allocs)[0]];
    await net.flush();
    const res1 = await alloc1.allocate('foo');
    const res2 = await alloc2.allocate('bar');
    expect(res1.addr).not.toBe(res2.addr);
    const unpause = net.pause(testName(1));
    const host = cidrRange(parseSubnet('10.0.4.0/26'));
    for (let i = 0; alloc1.numFreeAddresses({ start: host.start + 1, end: host.end - 1 }) > 0; i++) {
      await alloc1.allocate(`tmp${i}`);
    }
    const abort = new AbortController();
    const baz = alloc1.allocate('baz', { signal: abort.signal });
    await net.flush();
    expect(alloc1.pendingCount).toBe(1);
    expect(alloc1.status()).toBe('waiting for IP(s) to become available');
    abort.abort();
    unpause();
    await net.flush();
    await expect(baz).rejects.toBeInstanceOf(OperationCancelledError);
    expect(alloc1.lookup('baz')).toEqual([]);
  });

  it('fails waiting requests of a container that died (TestCancelOnDied)', async () => {
    const net = new FakeGossipNet();
    const alloc = makeAllocator(net, testName(0), '10.0.4.0/26', { mode: parseInitMode('consensus=2') });
    const first = alloc.allocate('abcdef');
    const second = alloc.allocate('abcdef');
    await net.flush();
    alloc.containerDied('abcdef');
    await expect(first).rejects.toThrow('Allocate request for abcdef cancelled');
    await expect(second).rejects.toThrow('Allocate request for abcdef cancelled');
  });

  it('refuses requests after shutdown, and hands ranges to an heir (TestGossipShutdown)', async () => {
    const net = new FakeGossipNet();
    const alone = makeAllocator(net, testName(0), '10.0.3.0/30', quorum1);
    await alone.allocate('abcdef');
    const sentBefore = net.log.length;
    expect(alone.shutdown()).toBeUndefined();
    expect(net.log.length).toBe(sentBefore); // no heir, nothing to tell
    await expect(alone.allocate('baddf00d')).rejects.toThrow('Allocate request for baddf00d cancelled');

    const { net: net2, allocs } = makeNetwork(3, '10.0.4.0/22');
    await net2.flush();
    await allocs[0]!.allocate('x');
    await net2.flush();
    expect(allocs[0]!.shutdown()).toBe(testName(1));
    await net2.flush();
    for (const a of allocs) expect(a.ringEntries().every((e) => e.peer !== testName(0))).toBe(true);
    expect(allocs[1]!.ownedRanges()).toEqual([
      { start: cidrRange(parseSubnet('10.0.4.0/22')).start, end: 0x0a000700 },
    ]);
  });

  it('does not fragment the ring when two newcomers get space (TestNoFrag)', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const net = new FakeGossipNet();
      const range = '10.0.4.0/22';
      const a0 = makeAllocator(net, testName(0), range, { ...quorum1, random: seededRandom(seed) });
      await a0.allocate('seed');
      a0.freeAll('seed');
      const quorum2 = { mode: parseInitMode('consensus=2') };
      const a1 = makeAllocator(net, testName(1), range, { ...quorum2, random: seededRandom(seed + 100) });
      const a2 = makeAllocator(net, testName(2), range, { ...quorum2, random: seededRandom(seed + 200) });
      const foo = a1.allocate('foo');
      await net.flush();
      await foo;
      const bar = a2.allocate('bar');
      await net.flush();
      await bar;
      expect(a2.ringEntries().length).toBeLessThan(6);
    }
  });

  it('takes over the ranges of removed peers (TestTransfer)', async () => {
    const { net, allocs } = makeNetwork(3, '10.0.4.0/22');
    const [alloc0, alloc1, alloc2] = allocs as [(typeof allocs)[0], (typeof allocs)[0], (typeof allocs)[0]];
    await alloc1.allocate('foo');
    await alloc2.allocate('bar');
    net.gossipAll();
    await net.flush();
    const free1 = alloc1.numFreeAddresses();
    const free2 = alloc2.numFreeAddresses();
    net.removePeer(testName(1));
    net.removePeer(testName(2));
    alloc1.stop();
    alloc2.stop();
    // One of three owners left: without `force` that could be the minority side of a partition.
    expect(() => alloc0.adminTakeoverRanges(testName(1))).toThrow(
      `cannot take over the IP ranges of ${testName(1)}: only 1 of the 3 peers owning ranges are reachable, a majority is needed`,
    );
    const force = { force: true };
    expect(alloc0.adminTakeoverRanges(testName(1), force)).toBe(
      `${free1 + 1} IPs taken over from ${testName(1)}\n`,
    );
    expect(alloc0.adminTakeoverRanges('nick-03', force)).toBe(`${free2 + 1} IPs taken over from nick-03\n`);
    expect(alloc0.adminTakeoverRanges('nick-03', force)).toBe('0 IPs taken over from nick-03\n');
    expect(alloc0.adminTakeoverRanges(testName(0))).toBe(`0 IPs taken over from ${testName(0)}\n`);
    await net.flush();
    expect(alloc0.numFreeAddresses()).toBe(1024);
    await alloc0.allocate('foo');
    expect(alloc0.ringEntries().every((e) => e.peer === testName(0))).toBe(true);
  });

  it('allocates on a network of two (TestFakeRouterSimple)', async () => {
    const { net, allocs } = makeNetwork(2, '10.0.4.0/22');
    await net.flush();
    expect(formatCIDR(await allocs[0]!.allocate('foo'))).toBe('10.0.4.1/22');
  });

  it('splits a peer’s whole range evenly for a newcomer (TestSpaceRequest, GH #2009)', async () => {
    const net = new FakeGossipNet();
    const alloc1 = makeAllocator(net, testName(0), '10.32.0.0/12', quorum1);
    const addr = await alloc1.allocate('cont-1');
    alloc1.free('cont-1', addr.addr);
    expect(alloc1.ownedRanges()).toEqual([cidrRange(parseSubnet('10.32.0.0/12'))]);
    const alloc2 = makeAllocator(net, testName(1), '10.32.0.0/12', { mode: parseInitMode('consensus=2') });
    const got = alloc2.allocate('cont-2');
    await net.flush();
    // 10.40.0.0 is not the subnet's network address, so it is a usable host address.
    expect(formatAddress((await got).addr)).toBe('10.40.0.0');
    expect(alloc1.ownedRanges()).toEqual([cidrRange(parseSubnet('10.32.0.0/13'))]);
    expect(alloc2.ownedRanges()).toEqual([cidrRange(parseSubnet('10.40.0.0/13'))]);
  });

  it('never hands out an address twice under random allocate/free/re-ask/claim (TestAllocatorFuzz, bounded)', async () => {
    const nodes = 5;
    const { net, allocs } = makeNetwork(nodes, '10.0.4.0/22', 7);
    await net.flush();
    const random = seededRandom(42);
    const held = new Map<number, { name: string; node: number }>();
    const byName = new Map<string, number>();
    const subnet = parseSubnet('10.0.4.0/22');
    let counter = 0;
    const allocate = async (name: string) => {
      const node = random.int(nodes);
      const p = allocs[node]!.allocate(name);
      await net.flush();
      const cidr = await p;
      expect(held.has(cidr.addr), `duplicate ${formatCIDR(cidr)}`).toBe(false);
      held.set(cidr.addr, { name, node });
      byName.set(name, cidr.addr);
    };
    for (let i = 0; i < 150; i++) await allocate(`first${i}`);
    for (let i = 0; i < 400; i++) {
      const r = random.float();
      const addrs = [...held.keys()];
      if (r < 0.4 && held.size < 900) await allocate(`second${counter++}`);
      else if (r < 0.8 && addrs.length > 0) {
        const addr = addrs[random.int(addrs.length)]!;
        const { name, node } = held.get(addr)!;
        allocs[node]!.free(name, addr);
        held.delete(addr);
        byName.delete(name);
      } else if (r < 0.95 && addrs.length > 0) {
        const { name, node } = held.get(addrs[random.int(addrs.length)]!)!;
        expect((await allocs[node]!.allocate(name)).addr).toBe(byName.get(name));
      } else {
        const node = random.int(nodes);
        const addr = subnet.addr + 1 + random.int(1022);
        const name = `claim${counter++}`;
        const p = allocs[node]!.claim(name, { addr, prefixLen: 22 });
        await net.flush();
        const ok = await p.then(
          () => true,
          () => false,
        );
        if (ok) {
          expect(held.has(addr), `claimed twice ${formatAddress(addr)}`).toBe(false);
          held.set(addr, { name, node });
          byName.set(name, addr);
        }
      }
      if (i % 50 === 0) net.gossipAll();
    }
    expect(net.errors).toEqual([]);
  });
});
