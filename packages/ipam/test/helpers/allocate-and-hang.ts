// Child process for the crash test: allocates one address with a FileStore, prints it, then idles
// until the parent kills it with SIGKILL. Usage: node --import tsx allocate-and-hang.ts <store> <range>
import { parsePeerName } from '@weave-ts/core';
import { formatCIDR } from '../../src/address.js';
import { Allocator } from '../../src/allocator.js';
import { FileStore } from '../../src/file-store.js';
import { parseInitMode } from '../../src/init-mode.js';

const [path = '', range = ''] = process.argv.slice(2);
const allocator = new Allocator({
  ourName: parsePeerName('0a:00:00:00:00:01'),
  ourUid: 1n,
  range,
  mode: parseInitMode('consensus=1'),
  gossiper: {
    registerChannel: (name) => ({
      name,
      gossipUnicast: () => {},
      gossipBroadcast: () => {},
      gossipNeighbourSubset: () => {},
    }),
  },
  isKnownPeer: () => true,
  store: new FileStore(path),
});
allocator.start();
const cidr = await allocator.allocate('container-1');
process.stdout.write(`${formatCIDR(cidr)}\n`);
setInterval(() => {}, 60_000);
