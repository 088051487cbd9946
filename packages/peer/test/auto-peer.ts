// Runs one peer with datapath 'auto' in the current network namespace and prints what it chose
// (started inside a test's namespace by peer-auto.test.ts). Needs root.
import { getLink, linkExists, listLinks } from '@weave-ts/host';
import { createPeer } from '@weave-ts/peer';

const [bridge = 'weave', tap = 'vethwe-tap', password] = process.argv.slice(2);
const peer = createPeer({
  host: '127.0.0.1',
  port: 6783,
  datapath: 'auto',
  dns: false,
  bridge: { name: bridge, tap },
  ...(password ? { password } : {}),
});
await peer.start();
const link = await getLink(bridge);
const during = (await listLinks()).map((l) => l.name);
const info = {
  kind: peer.datapath.kind,
  mtu: peer.datapath.mtu,
  flows: peer.datapath.flowCount(),
  name: peer.name,
  bridgeMac: link.mac,
  during,
};
await peer.stop();
const after = (await listLinks()).map((l) => l.name);
process.stdout.write(`${JSON.stringify({ ...info, after, bridgeAfter: await linkExists(bridge) })}\n`);
