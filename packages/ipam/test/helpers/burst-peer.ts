// Child process for the kill -9 test: a router on 127.0.0.1 with an allocator persisting to a FileStore,
// connected to one other such peer, allocating a burst of addresses and printing each one once it is
// acknowledged (persisted). Usage:
//   node --import tsx burst-peer.ts <n> <store path> <port> <peer port> <range> <count>
import { peerNameFromNumber, Router } from '@weave-ts/core';
import { formatCIDR } from '../../src/address.js';
import { FileStore } from '../../src/file-store.js';
import { parseInitMode } from '../../src/init-mode.js';
import { createRouterAllocator } from '../../src/router-allocator.js';

const [n = '1', path = '', port = '0', peerPort = '0', range = '', count = '0'] = process.argv.slice(2);
const router = new Router({
  name: peerNameFromNumber(0x0a0000000000 + Number(n)),
  nickname: `burst${n}`,
  host: '127.0.0.1',
  port: Number(port),
});
const allocator = createRouterAllocator(router, {
  range,
  mode: parseInitMode('consensus=2'),
  store: new FileStore(path),
});
allocator.start();
await router.start();
router.connect([`127.0.0.1:${peerPort}`]);
// Four requests in flight at a time, as containers starting together would.
let next = 0;
const worker = async () => {
  while (next < Number(count)) {
    const ident = `p${n}-c${next++}`;
    const cidr = await allocator.allocate(ident);
    process.stdout.write(`${ident} ${formatCIDR(cidr)}\n`);
  }
};
await Promise.all([worker(), worker(), worker(), worker()]);
process.stdout.write('done\n');
setInterval(() => {}, 60_000);
