// Runs two peers with datapath 'auto' and a password in the current network namespace (started inside
// a test's namespace by peer-auto.test.ts), connects them, and prints the kinds chosen and what
// `weave status connections` shows once the connection is established. Needs root.
import { probeFastdp } from '@weave-ts/datapath-fastdp';
import { listLinks } from '@weave-ts/host';
import { createPeer } from '@weave-ts/peer';

const [prefix = 'wi', password = 's3cret'] = process.argv.slice(2);
const common = {
  host: '127.0.0.1',
  datapath: 'auto' as const,
  dns: false as const,
  ipam: false as const,
  password,
};
const a = createPeer({
  ...common,
  name: '0a:00:00:00:00:0a',
  nickname: 'A',
  port: 6783,
  bridge: { name: `${prefix}brA`, tap: `${prefix}tapA` },
});
// Port 6785: fastdp tunnels on port + 1, so the two peers' kernel objects are apart.
const b = createPeer({
  ...common,
  name: '0a:00:00:00:00:0b',
  nickname: 'B',
  port: 6785,
  peers: ['127.0.0.1:6783'],
  bridge: { name: `${prefix}brB`, tap: `${prefix}tapB` },
});
const chosen: string[] = [];
a.on('datapathChosen', (e) => chosen.push(e.overlay));
try {
  await a.start();
  await b.start();
  await Promise.all([
    a.whenConverged({ peers: 2, timeoutMs: 20_000 }),
    b.whenConverged({ peers: 2, timeoutMs: 20_000 }),
  ]);
  const info = {
    fastdpSupported: (await probeFastdp()).supported,
    kinds: [a.datapath.kind, b.datapath.kind],
    chosen,
    connectionsA: a.statusText('connections'),
    connectionsB: b.statusText('connections'),
    attrsA: a.router.status().connections.map((c) => c.attrs),
  };
  await a.stop();
  await b.stop();
  const after = (await listLinks()).map((l) => l.name);
  process.stdout.write(`${JSON.stringify({ ...info, after })}\n`);
} finally {
  await a.stop().catch(() => {});
  await b.stop().catch(() => {});
}
