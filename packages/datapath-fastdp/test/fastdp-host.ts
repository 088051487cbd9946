// One Weave "host" with fastdp (our copy of examples/weave-host.ts, made fastdp-capable): a router
// with the overlay switch [fastdp, sleeve] and a TAP on the bridge `weave`, run inside a network
// namespace (`ip netns exec <ns> node --import tsx …/fastdp-host.ts …`). Needs root.
//
//   containers ─veth─ bridge `weave` (MTU 1376) ─ TAP ─▶ router ─▶ switch ─▶ fastdp (VXLAN 6784, tc BPF)
//                                                  │                     └▶ sleeve (UDP 6783)
//                                                  └─ tc egress: kernel send flows straight into VXLAN
//
// Control: JSON lines, as the example: {"event":"ready",…}, then {"id":N,"cmd":…} → {"id":N,"result":…}.
// Commands: connections, status, fastdp (diagnostics + kernel stats), flows, sleeve, stop.
import { parseArgs } from 'node:util';
import {
  consoleLogger,
  type NamedOverlay,
  type NetworkOverlay,
  OverlaySwitch,
  parsePeerName,
  Router,
} from '@weave-ts/core';
import { bindSleeveOverlay } from '@weave-ts/datapath-sleeve';
import {
  createBridge,
  type HostCommands,
  linkExists,
  sayToDriver,
  serveHostCommands,
  setLinkMaster,
  setLinkMtu,
  setLinkUp,
  TapLocalPort,
} from '@weave-ts/host';
import {
  bindFastdpOverlay,
  FASTDP_DEFAULT_MTU,
  type FastdpOverlay,
  probeFastdp,
  shortIdsOfRouter,
} from '../src/index.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    nickname: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string', default: '6783' },
    peer: { type: 'string', multiple: true, default: [] },
    password: { type: 'string' },
    'no-discovery': { type: 'boolean', default: false },
    'no-fastdp': { type: 'boolean', default: false },
    'no-fast-path': { type: 'boolean', default: false },
    bridge: { type: 'string', default: 'weave' },
    tap: { type: 'string', default: 'vethwe-tap' },
    mtu: { type: 'string' },
    'gossip-interval-ms': { type: 'string' },
    'fastdp-heartbeat-timeout-ms': { type: 'string' },
    'fastdp-slow-heartbeat-ms': { type: 'string' },
    'fastdp-flow-ttl-ms': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

function required(name: keyof typeof values): string {
  const v = values[name];
  if (typeof v !== 'string') throw new Error(`--${name} is required`);
  return v;
}
const optionalNumber = (name: keyof typeof values) =>
  typeof values[name] === 'string' ? Number(values[name]) : undefined;

const name = parsePeerName(required('name'));
const host = required('host');
const port = Number(values.port);
const logger = values.verbose ? consoleLogger(`[${values.nickname ?? name}] `) : undefined;
const log = (m: string) => process.stderr.write(`${m}\n`);

// Capability detection first: without it, sleeve only, with one clear line (never a crash loop).
let useFastdp = !values['no-fastdp'];
if (useFastdp) {
  const probe = await probeFastdp();
  if (!probe.supported) {
    log(`fastdp: not supported here (${probe.reason}); using sleeve only`);
    useFastdp = false;
  }
}
// Containers use 1376 with fastdp (upstream's default); sleeve-only bridges run at (nearly) 65535.
const mtu = optionalNumber('mtu') ?? (useFastdp ? FASTDP_DEFAULT_MTU : 65521);

// After a crash the bridge (and the containers on it) are still there: reuse it, as weave does.
if (await linkExists(values.bridge)) await setLinkMtu(values.bridge, mtu);
else await createBridge(values.bridge, { mtu });
const localPort = TapLocalPort.open({ name: values.tap, mtu, ...(logger ? { logger } : {}) });
await setLinkMtu(values.tap, mtu);
await setLinkMaster(values.tap, values.bridge);
await setLinkUp(values.tap);
await setLinkUp(values.bridge);

let router: Router | undefined;
const overlays: NamedOverlay[] = [];
let fastdp: FastdpOverlay | undefined;
if (useFastdp) {
  const heartbeat = {
    ...(optionalNumber('fastdp-heartbeat-timeout-ms')
      ? { timeoutMs: optionalNumber('fastdp-heartbeat-timeout-ms')! }
      : {}),
    ...(optionalNumber('fastdp-slow-heartbeat-ms')
      ? { slowMs: optionalNumber('fastdp-slow-heartbeat-ms')! }
      : {}),
  };
  try {
    fastdp = await bindFastdpOverlay({
      localPeer: name,
      shortIds: shortIdsOfRouter(() => router!),
      local: { host, port },
      portDevice: values.tap,
      mtu,
      heartbeat,
      ...(optionalNumber('fastdp-flow-ttl-ms') ? { flowTtlMs: optionalNumber('fastdp-flow-ttl-ms')! } : {}),
      ...(logger ? { logger } : {}),
    });
    overlays.push({ name: 'fastdp', overlay: fastdp as NetworkOverlay });
  } catch (error) {
    log(`fastdp: ${(error as Error).message}; using sleeve only`);
  }
}
const sleeve = await bindSleeveOverlay({
  localPeer: name,
  local: { host, port },
  ...(values['no-fast-path'] ? {} : { fastPathTap: localPort.device }),
  ...(logger ? { logger: (m: string) => logger.info(m) } : {}),
});
overlays.push({ name: 'sleeve', overlay: sleeve });

router = new Router({
  name,
  nickname: values.nickname ?? name,
  host,
  port,
  overlay: new OverlaySwitch(overlays, logger ? { logger } : {}),
  localPort,
  peerDiscovery: !values['no-discovery'],
  ...(values['gossip-interval-ms'] ? { gossipIntervalMs: Number(values['gossip-interval-ms']) } : {}),
  ...(values.password ? { password: values.password } : {}),
  ...(logger ? { logger } : {}),
});
await router.start();
router.connect(values.peer);
sayToDriver({ event: 'ready', name, host, port: router.port, fastdp: fastdp !== undefined, mtu });

const r = router;
const commands: HostCommands = {
  status: () => r.statusText([]),
  connections: () => r.connectionsText(),
  peers: () => r.peersText(),
  sleeve: () => sleeve.diagnostics(),
  fastdp: async () => (fastdp ? { ...fastdp.diagnostics(), kernel: await fastdp.dataplaneStats() } : null),
  flows: () => fastdp?.flowCount() ?? 0,
  stop: async () => {
    await r.stop();
    setImmediate(() => process.exit(0));
    return 'stopped';
  },
};

await serveHostCommands(commands);
await r.stop();
process.exit(0);
