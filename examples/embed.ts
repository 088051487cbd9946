// Three Weave peers in one process on loopback (127.0.0.1-3), each given one seed: IPAM by consensus,
// weaveDNS on every peer, no datapath (control plane only). Run: pnpm tsx examples/embed.ts
import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPeer } from '@weave-ts/peer';

const port = Number(process.env.WEAVE_EMBED_PORT ?? 6783);
const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
const peers = hosts.map((host, i) => {
  const seed = hosts[(i + 1) % 3]!;
  const dns = { listen: `${host}:0` };
  return createPeer({ nickname: `peer${i + 1}`, host, port, peers: [seed], datapath: 'none', dns });
});
for (const p of peers) {
  p.on('peerAdded', (name, nick) => console.log(`${p.nickname}: peer ${name}(${nick}) joined`));
  p.on('connectionEstablished', (c) => console.log(`${p.nickname}: connected to ${c.peer} at ${c.address}`));
  p.on('ipamReady', () => console.log(`${p.nickname}: IPAM ready`));
  p.on('dnsEntryAdded', (e) => console.log(`${p.nickname}: ${e.hostname} is ${e.ip}`));
}
await Promise.all(peers.map((p) => p.start()));
await Promise.all(peers.map((p) => p.whenConverged({ peers: 3 })));
for (const [i, p] of peers.entries()) {
  const ip = (await p.allocate(`app${i + 1}`)).split('/')[0]!;
  p.dns.add(`app${i + 1}`, ip, `app${i + 1}.weave.local`);
}
while (!peers.every((p) => p.dns.entries().length === 3)) await sleep(20);
for (const p of peers) {
  const resolver = new Resolver();
  resolver.setServers([`${p.dns.address()!.host}:${p.dns.address()!.port}`]);
  const answers = await Promise.all([1, 2, 3].map((n) => resolver.resolve4(`app${n}.weave.local`)));
  console.log(`${p.nickname}'s DNS server: app1..3 are ${answers.join(' ')}`);
}
await Promise.all(peers.map((p) => p.stop())); // everything released: the process exits by itself
