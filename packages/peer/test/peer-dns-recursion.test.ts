// Which clients a peer's DNS server forwards for (dns.recursionFrom, and the peer's default).
import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import type { NetworkInterfaceInfo } from 'node:os';
import { createPeer, peerRecursionNetworks, type WeavePeer } from '@weave-ts/peer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A loopback upstream that answers every query NXDOMAIN and records the names it was asked.
let upstream: Socket;
let upstreamPort = 0;
const asked: string[] = [];
const qname = (msg: Buffer): string => {
  const labels: string[] = [];
  for (let i = 12; i < msg.length && msg[i]! > 0; i += msg[i]! + 1) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString('latin1'));
  }
  return labels.join('.').toLowerCase();
};

const peers: WeavePeer[] = [];
async function startPeer(recursionFrom?: string[]): Promise<{ peer: WeavePeer; resolver: Resolver }> {
  const peer = createPeer({
    host: '127.0.0.1',
    port: 0,
    ipam: false,
    dns: {
      listen: '127.0.0.1:0',
      upstream: [`127.0.0.1:${upstreamPort}`],
      ...(recursionFrom ? { recursionFrom } : {}),
    },
  });
  peers.push(peer);
  await peer.start();
  peer.dns.add('c1', '10.32.0.7', 'web.weave.local');
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${peer.dns.address()!.port}`]);
  return { peer, resolver };
}

beforeAll(async () => {
  upstream = createSocket('udp4');
  upstream.on('message', (msg, rinfo) => {
    asked.push(qname(msg));
    const reply = Buffer.from(msg);
    reply[2] = (reply[2]! | 0x80) & 0xf9; // QR, no AA/TC
    reply[3] = 0x83; // RA, NXDOMAIN
    upstream.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', () => resolve()));
  upstreamPort = upstream.address().port;
});
afterAll(async () => {
  for (const p of peers) await p.stop().catch(() => {});
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

describe('peer DNS recursion scope', () => {
  it('forwards for loopback clients by default', async () => {
    const { resolver } = await startPeer();
    await expect(resolver.resolve4('outside.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(asked).toContain('outside.example');
  });

  it('refuses outside names to clients not in recursionFrom, and still answers weave.local', async () => {
    const { resolver } = await startPeer(['10.0.0.0/8']);
    await expect(resolver.resolve4('refused.example')).rejects.toMatchObject({ code: 'EREFUSED' });
    expect(asked).not.toContain('refused.example');
    expect(await resolver.resolve4('web.weave.local')).toEqual(['10.32.0.7']);
  });
});

describe('peerRecursionNetworks', () => {
  const iface = (address: string, cidr: string): NetworkInterfaceInfo => ({
    address,
    netmask: '255.255.0.0',
    family: 'IPv4',
    mac: '00:00:00:00:00:00',
    internal: false,
    cidr,
  });
  const ifaces = {
    eth0: [iface('192.168.7.2', '192.168.7.2/24')],
    br1: [iface('172.30.0.1', '172.30.0.1/16')],
    docker0: [iface('172.17.0.1', '172.17.0.1/16')],
  };

  it('on 0.0.0.0: loopback, the IPAM range and docker0, not every local subnet', () => {
    const nets = peerRecursionNetworks('0.0.0.0', '10.32.0.0/12', ifaces);
    expect(nets).toEqual(['127.0.0.0/8', '::1/128', '10.32.0.0/12', '172.17.0.1/16']);
    expect(nets).not.toContain('192.168.7.2/24');
    expect(nets).not.toContain('172.30.0.1/16');
  });

  it('on 0.0.0.0 without docker0 or IPAM: loopback only', () => {
    const { docker0: _, ...noDocker } = ifaces;
    expect(peerRecursionNetworks('0.0.0.0', undefined, noDocker)).toEqual(['127.0.0.0/8', '::1/128']);
  });

  it('on a specific address: loopback, the IPAM range and that address subnet', () => {
    expect(peerRecursionNetworks('192.168.7.2', '10.32.0.0/12', ifaces)).toEqual([
      '127.0.0.0/8',
      '::1/128',
      '192.168.7.2/24',
      '10.32.0.0/12',
    ]);
  });
});
