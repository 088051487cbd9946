// Run as an unprivileged user by peer-auto.test.ts: 'auto' falls back to none, 'sleeve' is a typed error.
import { readFileSync } from 'node:fs';
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
// A privileged port (when the kernel has any): EACCES becomes PermissionDeniedError.
const firstFree = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
let privileged: unknown = 'no privileged ports here';
if (firstFree > 1) {
  const low = createPeer({ host: '127.0.0.1', port: firstFree - 1, dns: false, ipam: false });
  privileged = await low.start().then(
    () => 'bound',
    (e: Error) => e.name,
  );
}
process.stdout.write(
  `${JSON.stringify({ uid: process.getuid?.(), kind, error, state: sleeve.state, privileged })}\n`,
);
