// One Weave "host": a router with the sleeve datapath and a TAP on the bridge `weave`, run inside a
// network namespace (`ip netns exec <ns> node --import tsx examples/weave-host.ts …`). Needs root.
//
//   containers ─veth─ bridge `weave` ─ TAP ─▶ router (L2 forwarding) ─▶ sleeve (UDP 6783) ─▶ peers
//                                       └──── fast path: established flows, no JS per frame ────┘
//
// Control: JSON lines. It prints {"event":"ready",…} once listening; then each stdin line
// {"id":N,"cmd":…} is answered by {"id":N,"result":…} or {"id":N,"error":"…"} on stdout.
// Commands: status, connections, peers, ipam, report, sleeve, connect {peers}, allocate {container, subnet?},
// stop.
import { parseArgs } from 'node:util';
import { consoleLogger, OverlaySwitch, parsePeerName, Router } from '@weave-ts/core';
import { bindSleeveOverlay } from '@weave-ts/datapath-sleeve';
import { createRouterAllocator, formatCIDR, parseInitMode } from '@weave-ts/ipam';
import {
  createBridge,
  type HostCommands,
  sayToDriver,
  serveHostCommands,
  setLinkMaster,
  setLinkMtu,
  setLinkUp,
  TapLocalPort,
} from '@weave-ts/host';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    nickname: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string', default: '6783' },
    peer: { type: 'string', multiple: true, default: [] },
    password: { type: 'string' },
    'no-discovery': { type: 'boolean', default: false },
    bridge: { type: 'string', default: 'weave' },
    tap: { type: 'string', default: 'vethwe-tap' },
    // Sleeve-only bridges run at (nearly) 65535, as upstream's; a TAP's maximum is 65521.
    mtu: { type: 'string', default: '65521' },
    'path-mtu': { type: 'string' },
    'ipalloc-range': { type: 'string', default: '10.32.0.0/12' },
    'ipalloc-default-subnet': { type: 'string' },
    'ipalloc-init': { type: 'string', default: 'consensus' },
    'gossip-interval-ms': { type: 'string' },
    // Every frame through JavaScript (for comparison; the native fast path is on by default).
    'no-fast-path': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

function required(name: keyof typeof values): string {
  const v = values[name];
  if (typeof v !== 'string') throw new Error(`--${name} is required`);
  return v;
}

const name = parsePeerName(required('name'));
const host = required('host');
const port = Number(values.port);
const mtu = Number(values.mtu);
const logger = values.verbose ? consoleLogger(`[${values.nickname ?? name}] `) : undefined;

// The bridge carries containers' frames at the overlay's MTU; the TAP is its port towards the router.
await createBridge(values.bridge, { mtu });
const port_ = TapLocalPort.open({ name: values.tap, mtu, ...(logger ? { logger } : {}) });
await setLinkMtu(values.tap, mtu);
await setLinkMaster(values.tap, values.bridge);
await setLinkUp(values.tap);
await setLinkUp(values.bridge);

const sleeve = await bindSleeveOverlay({
  localPeer: name,
  local: { host, port },
  ...(values['path-mtu'] ? { pathMtu: Number(values['path-mtu']) } : {}),
  ...(values['no-fast-path'] ? {} : { fastPathTap: port_.device }),
  ...(logger ? { logger: (m: string) => logger.info(m) } : {}),
});
const router = new Router({
  name,
  nickname: values.nickname ?? name,
  host,
  port,
  overlay: new OverlaySwitch([{ name: 'sleeve', overlay: sleeve }], logger ? { logger } : {}),
  localPort: port_,
  peerDiscovery: !values['no-discovery'],
  ...(values['gossip-interval-ms'] ? { gossipIntervalMs: Number(values['gossip-interval-ms']) } : {}),
  ...(values.password ? { password: values.password } : {}),
  ...(logger ? { logger } : {}),
});
const ipam = createRouterAllocator(router, {
  range: values['ipalloc-range'],
  mode: parseInitMode(values['ipalloc-init']),
  ...(values['ipalloc-default-subnet'] ? { defaultSubnet: values['ipalloc-default-subnet'] } : {}),
  ...(logger ? { logger } : {}),
});
ipam.start();
await router.start();
router.connect(values.peer);
sayToDriver({ event: 'ready', name, host, port: router.port });

const commands: HostCommands = {
  status: () => router.statusText([ipam.statusSection()]),
  ipam: () => ipam.ipamText(),
  allocate: async (args) =>
    formatCIDR(
      await ipam.allocate(String(args.container), args.subnet ? { subnet: String(args.subnet) } : {}),
    ),
  connections: () => router.connectionsText(),
  sleeve: () => sleeve.diagnostics(),
  peers: () => router.peersText(),
  report: () =>
    JSON.parse(JSON.stringify(router.status(), (_, v) => (typeof v === 'bigint' ? String(v) : v))),
  connect: (args) => router.connect(args.peers as string[]).map((e) => e.message),
  stop: async () => {
    ipam.stop();
    await router.stop();
    setImmediate(() => process.exit(0));
    return 'stopped';
  },
};

await serveHostCommands(commands);
ipam.stop();
await router.stop();
process.exit(0);
