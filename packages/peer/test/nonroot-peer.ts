// Run as an unprivileged user by peer-auto.test.ts: 'auto' falls back to none, 'sleeve' is a typed error.
import { createPeer } from '@weave-ts/peer';

const auto = createPeer({ host: '127.0.0.1', port: 0, datapath: 'auto', dns: false, ipam: false });
await auto.start();
const kind = auto.datapath.kind;
await auto.stop();
const sleeve = createPeer({ host: '127.0.0.1', port: 0, datapath: 'sleeve', dns: false, ipam: false });
const error = await sleeve.start().then(
  () => undefined,
  (e: Error) => ({ name: e.name, message: e.message }),
);
process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), kind, error, state: sleeve.state })}\n`);
