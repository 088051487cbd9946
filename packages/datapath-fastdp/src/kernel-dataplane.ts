import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Endpoint, type Logger, silentLogger } from '@weave-ts/core';
import { getLink, NativeUdpSocket, runCommand, runIp, Tap } from '@weave-ts/host';
import {
  BpfMap,
  BpfProgram,
  encodeConfig,
  encodeDeliverKey,
  encodeDeliverValue,
  encodeSendKey,
  encodeSendValue,
  mapUpdateLine,
  flowTimes,
  numberToIpv4,
} from './bpf-maps.js';
import { FASTDP_DEFAULT_MTU, VXLAN_HEADER_SIZE } from './constants.js';
import type {
  DataplaneStats,
  DeliverFlow,
  FastdpDataplane,
  SendFlow,
  TunnelFrame,
  TunnelFrameHandler,
  TunnelSendResult,
} from './dataplane.js';
import { FastdpUnavailableError } from './errors.js';
import { writeVxlanHeader } from './tunnel-id.js';

/**
 * The kernel side of fastdp: a VXLAN device in external (collect_metadata) mode on the tunnel port,
 * two tc BPF programs (`bpf/fastdp.c`) and a miss TAP, loaded with Debian's `bpftool` and `tc`.
 *
 * ```
 *  containers ─ bridge ─ <port TAP> ──egress: fdp_egress──▶ vxlan-<port> ══ UDP <port> ══▶ peers
 *                           ▲   └─ miss ─▶ TypeScript router (the TAP is its local port)
 *                           └─ ingress ◀─ fdp_ingress ◀── vxlan-<port>
 *                                              └─ miss ─▶ vethwe-fdp<port> (TAP) ─▶ onMiss
 *  sendTunnel ─▶ UDP socket (ephemeral port, DF) ─▶ VXLAN datagrams to <peer>:<port>
 * ```
 *
 * Every kernel object has a name derived from the tunnel port (and, for pins, the network namespace),
 * so a restart after a crash finds and replaces what the dead process left: the VXLAN device, the
 * clsact qdisc on the port TAP and the pinned programs and maps. The miss TAP dies with its process.
 */

/** Where the committed BPF object lives (built by `bpf/build.sh`). */
export const FASTDP_BPF_OBJECT = fileURLToPath(new URL('../bpf/fastdp.o', import.meta.url));

/** Where bpffs is mounted when `/sys/fs/bpf` is not (e.g. under `ip netns exec`, which remounts /sys). */
export const FALLBACK_BPFFS = '/run/weave-ts/bpffs';

/** Options of {@link KernelDataplane.create}. */
export interface KernelDataplaneOptions {
  /** The TAP the router's local port reads (on the bridge); fdp_egress sits on its egress. */
  readonly portDevice: string;
  /** The underlay address to send tunnel datagrams from (`0.0.0.0`: any). */
  readonly localHost: string;
  /** The tunnel's UDP port (Weave: control port + 1 = 6784). */
  readonly port: number;
  /** Datapath MTU (default 1376). */
  readonly mtu?: number;
  /** bpffs mount to pin programs and maps under (default: `/sys/fs/bpf` if mounted, else {@link FALLBACK_BPFFS}). */
  readonly bpffs?: string;
  /** The compiled BPF object (default {@link FASTDP_BPF_OBJECT}). */
  readonly objectPath?: string;
  /** Where warnings go (default nowhere). */
  readonly logger?: Logger;
}

/** The deterministic names of a dataplane's kernel objects. */
export interface KernelObjectNames {
  /** The VXLAN device, `vxlan-<port>` (upstream's vport name). */
  readonly vxlan: string;
  /** The miss TAP, `vethwe-fdp<port>`. */
  readonly miss: string;
  /** The pin directory: `<bpffs>/weave-fastdp-<netns inode>-<port>`. */
  readonly pinDir: string;
}

/** The names {@link KernelDataplane} uses for tunnel port `port` under bpffs `bpffs`. */
export function kernelObjectNames(port: number, bpffs: string): KernelObjectNames {
  const netns = statSync('/proc/self/ns/net').ino;
  return {
    vxlan: `vxlan-${port}`,
    miss: `vethwe-fdp${port}`,
    pinDir: `${bpffs}/weave-fastdp-${netns}-${port}`,
  };
}

/** Inodes of the network namespaces still alive: those of processes, and those bound under /run/netns. */
function liveNetnsInodes(): Set<number> {
  const live = new Set<number>();
  const add = (path: string) => {
    try {
      live.add(statSync(path).ino);
    } catch {
      // gone meanwhile, or not ours to read
    }
  };
  for (const pid of readdirSync('/proc')) if (/^\d+$/.test(pid)) add(`/proc/${pid}/ns/net`);
  try {
    for (const name of readdirSync('/run/netns')) add(`/run/netns/${name}`);
  } catch {
    // no named namespaces
  }
  return live;
}

/**
 * Removes pin directories (`weave-fastdp-<netns>-<port>`) of network namespaces that no longer
 * exist: a dataplane killed in a namespace that was then deleted leaves them, and no restart in that
 * namespace will ever find them by name. Returns the directories removed.
 */
export function removeStalePins(bpffs: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(bpffs);
  } catch {
    return [];
  }
  const live = liveNetnsInodes();
  const removed: string[] = [];
  for (const entry of entries) {
    const m = /^weave-fastdp-(\d+)-\d+$/.exec(entry);
    if (!m || live.has(Number(m[1]))) continue;
    rmSync(`${bpffs}/${entry}`, { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

/** Mount points of bpffs in this mount namespace. */
function bpffsMounts(): string[] {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2] === 'bpf')
      .map((f) => f[1]!);
  } catch {
    return [];
  }
}

/** A usable bpffs mount: `/sys/fs/bpf` when mounted, else {@link FALLBACK_BPFFS} (mounted if needed). */
export async function ensureBpffs(preferred?: string): Promise<string> {
  const mounts = bpffsMounts();
  if (preferred !== undefined) {
    if (!mounts.includes(preferred)) throw new FastdpUnavailableError(`${preferred} is not a bpffs mount`);
    return preferred;
  }
  if (mounts.includes('/sys/fs/bpf')) return '/sys/fs/bpf';
  if (!mounts.includes(FALLBACK_BPFFS)) {
    mkdirSync(FALLBACK_BPFFS, { recursive: true });
    await runCommand('mount', ['-t', 'bpf', 'bpf', FALLBACK_BPFFS]);
  }
  return FALLBACK_BPFFS;
}

/** Runs `tc args…`. */
async function tc(args: readonly string[]): Promise<void> {
  await runCommand('tc', args);
}

/** Runs `tc args…`, ignoring failure (cleanup of objects that may not exist). */
async function tcQuiet(args: readonly string[]): Promise<void> {
  await tc(args).catch(() => {});
}

/** Loads the object's programs and maps, pinned under `pinDir/progs` and `pinDir/maps`. */
export async function loadBpfObject(objectPath: string, pinDir: string): Promise<void> {
  if (!existsSync(objectPath)) throw new FastdpUnavailableError(`BPF object ${objectPath} missing`);
  mkdirSync(pinDir, { recursive: true });
  await runCommand('bpftool', [
    'prog',
    'loadall',
    objectPath,
    `${pinDir}/progs`,
    'type',
    'classifier',
    'pinmaps',
    `${pinDir}/maps`,
  ]);
}

/** Runs `bpftool batch file -` over `lines`; rejects with bpftool's complaint. */
export function bpftoolBatch(lines: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bpftool', ['batch', 'file', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`bpftool batch failed (${code}): ${stderr.trim()}`));
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(`${lines.join('\n')}\n`);
  });
}

/** Removes what a dataplane with these names may have left (after a crash), ignoring what is absent. */
export async function removeKernelObjects(names: KernelObjectNames, portDevice: string): Promise<void> {
  await tcQuiet(['qdisc', 'del', 'dev', portDevice, 'clsact']);
  await runIp(['link', 'del', 'dev', names.vxlan]).catch(() => {});
  rmSync(names.pinDir, { recursive: true, force: true });
}

interface FlowRecord {
  readonly value: string;
  readonly expiresAt: number;
}

/** fastdp's packet side on this kernel. Create with {@link KernelDataplane.create}. */
export class KernelDataplane implements FastdpDataplane {
  readonly mtu: number;
  readonly port: number;
  readonly devices: Readonly<Record<string, string>>;
  private handler: TunnelFrameHandler | undefined;
  private generation = 1;
  private localShortId = 0;
  private readonly sendFlows = new Map<string, FlowRecord>();
  private readonly deliverFlows = new Map<string, FlowRecord>();
  private queue: string[] = [];
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly logger: Logger;

  private constructor(
    private readonly names: KernelObjectNames,
    private readonly portDevice: string,
    private readonly ifindexes: { vxlan: number; port: number; miss: number },
    private readonly missTap: Tap,
    private readonly socket: NativeUdpSocket,
    options: KernelDataplaneOptions,
  ) {
    this.mtu = options.mtu ?? FASTDP_DEFAULT_MTU;
    this.port = options.port;
    this.logger = options.logger ?? silentLogger;
    this.devices = { vxlan: names.vxlan, miss: names.miss, port: portDevice, pins: names.pinDir };
    missTap.onFrames(
      (frames) => this.receive(frames),
      (error) => this.logger.warn(`fastdp: ${names.miss}: ${error.message}`),
    );
    // Tunnel datagrams sent from userspace never come back to this socket.
    socket.setRef(false);
  }

  /**
   * Sets everything up, first removing what a crashed predecessor left behind.
   * @throws FastdpUnavailableError naming the step that failed (everything made so far is removed)
   */
  static async create(options: KernelDataplaneOptions): Promise<KernelDataplane> {
    const step = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
      try {
        return await fn();
      } catch (error) {
        if (error instanceof FastdpUnavailableError) throw error;
        throw new FastdpUnavailableError(`${what}: ${(error as Error).message.trim()}`);
      }
    };
    const bpffs = await step('mounting bpffs', () => ensureBpffs(options.bpffs));
    const names = kernelObjectNames(options.port, bpffs);
    const { portDevice } = options;
    for (const stale of removeStalePins(bpffs)) {
      options.logger?.info(`fastdp: removed ${bpffs}/${stale}, left by a dataplane whose namespace is gone`);
    }
    let missTap: Tap | undefined;
    let socket: NativeUdpSocket | undefined;
    try {
      await removeKernelObjects(names, portDevice);
      await step(`creating ${names.vxlan}`, async () => {
        await runIp([
          'link',
          'add',
          names.vxlan,
          'type',
          'vxlan',
          'external',
          'dstport',
          String(options.port),
        ]);
        await runIp(['link', 'set', 'dev', names.vxlan, 'up']);
      });
      missTap = await step(`opening ${names.miss}`, async () => {
        const tap = Tap.open({ name: names.miss });
        await runIp(['link', 'set', 'dev', names.miss, 'up']);
        return tap;
      });
      await step('loading the BPF object', () =>
        loadBpfObject(options.objectPath ?? FASTDP_BPF_OBJECT, names.pinDir),
      );
      const ifindexes = await step('reading interface indexes', async () => ({
        vxlan: (await getLink(names.vxlan)).index,
        port: (await getLink(portDevice)).index,
        miss: (await getLink(names.miss)).index,
      }));
      await step('writing the BPF config', () =>
        bpftoolBatch([
          mapUpdateLine(
            `${names.pinDir}/maps/${BpfMap.cfg}`,
            new Uint8Array(4),
            encodeConfig({
              vxlanIfindex: ifindexes.vxlan,
              portIfindex: ifindexes.port,
              missIfindex: ifindexes.miss,
              localShortId: 0,
              generation: 1,
            }),
          ),
        ]),
      );
      await step('attaching tc programs', async () => {
        const progs = `${names.pinDir}/progs`;
        for (const [dev, dir, prog] of [
          [portDevice, 'egress', BpfProgram.egress],
          [names.vxlan, 'ingress', BpfProgram.ingress],
        ] as const) {
          await tc(['qdisc', 'replace', 'dev', dev, 'clsact']);
          await tc([
            'filter',
            'replace',
            'dev',
            dev,
            dir,
            'pref',
            '1',
            'handle',
            '1',
            'bpf',
            'da',
            'pinned',
            `${progs}/${prog}`,
          ]);
        }
      });
      socket = await step('binding the tunnel send socket', () =>
        NativeUdpSocket.bind({ host: options.localHost, port: 0 }),
      );
      return new KernelDataplane(names, portDevice, ifindexes, missTap, socket, options);
    } catch (error) {
      socket?.close();
      missTap?.close();
      await removeKernelObjects(names, portDevice);
      throw error;
    }
  }

  onMiss(handler: TunnelFrameHandler): void {
    this.handler = handler;
  }

  sendTunnel(frames: readonly Uint8Array[], tunnelId: number, to: Endpoint): TunnelSendResult {
    if (this.closed || frames.length === 0) return { sent: 0 };
    const header = new Uint8Array(VXLAN_HEADER_SIZE);
    writeVxlanHeader(header, tunnelId);
    const result = this.socket.send(
      frames.map((f) => [header, f]),
      to,
      { df: true },
    );
    return result.emsgsize ? { sent: result.sent, pmtu: result.emsgsize.pmtu } : { sent: result.sent };
  }

  setLocalShortId(shortId: number): void {
    this.localShortId = shortId;
    this.flush();
  }

  installSend(flows: readonly SendFlow[], ttlMs: number): void {
    const map = `${this.names.pinDir}/maps/${BpfMap.sendFlows}`;
    for (const f of flows) {
      const key = encodeSendKey(f.srcMac, f.dstMac);
      const id = `${f.remoteIp}/${f.tunnelId}`;
      if (!this.needsInstall(this.sendFlows, key, id, ttlMs)) continue;
      this.queue.push(
        mapUpdateLine(map, key, encodeSendValue(f.remoteIp, f.tunnelId, this.generation, flowTimes(ttlMs))),
      );
    }
    this.kick();
  }

  installDeliver(flows: readonly DeliverFlow[], ttlMs: number): void {
    const map = `${this.names.pinDir}/maps/${BpfMap.deliverFlows}`;
    for (const f of flows) {
      const key = encodeDeliverKey(f.srcShortId, f.srcMac, f.dstMac);
      if (!this.needsInstall(this.deliverFlows, key, '', ttlMs)) continue;
      this.queue.push(mapUpdateLine(map, key, encodeDeliverValue(this.generation, flowTimes(ttlMs))));
    }
    this.kick();
  }

  flush(): void {
    if (this.closed) return;
    this.generation = (this.generation + 1) >>> 0 || 1;
    this.sendFlows.clear();
    this.deliverFlows.clear();
    // Updates queued for the old generation are void now.
    this.queue = [this.configLine()];
    this.kick();
  }

  flowCount(): number {
    const now = Date.now();
    let n = 0;
    for (const r of this.sendFlows.values()) if (r.expiresAt > now) n++;
    for (const r of this.deliverFlows.values()) if (r.expiresAt > now) n++;
    return n;
  }

  /** Resolves once every map update queued so far has been written. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stats(): Promise<DataplaneStats> {
    const totals = [0, 0, 0, 0, 0];
    if (!this.closed) {
      try {
        const { stdout } = await runCommand('bpftool', [
          '-j',
          'map',
          'dump',
          'pinned',
          `${this.names.pinDir}/maps/${BpfMap.stats}`,
        ]);
        for (const entry of JSON.parse(stdout) as {
          formatted: { key: number; values: { value: number }[] };
        }[]) {
          const k = entry.formatted.key;
          if (k < totals.length) totals[k] = entry.formatted.values.reduce((a, v) => a + v.value, 0);
        }
      } catch (error) {
        this.logger.warn(`fastdp: reading BPF stats: ${(error as Error).message}`);
      }
    }
    const [kernelSent, kernelDelivered, missesOut, missesIn, errors] = totals as [
      number,
      number,
      number,
      number,
      number,
    ];
    return { kernelSent, kernelDelivered, missesOut, missesIn, errors };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    await this.settled();
    this.socket.close();
    this.missTap.close();
    await removeKernelObjects(this.names, this.portDevice);
  }

  /** Whether a flow must be (re)written: new, changed, or past half its life. Records it if so. */
  private needsInstall(
    records: Map<string, FlowRecord>,
    key: Uint8Array,
    value: string,
    ttlMs: number,
  ): boolean {
    if (this.closed) return false;
    const id = key.join(',');
    const now = Date.now();
    const old = records.get(id);
    if (old && old.value === value && old.expiresAt - now > ttlMs / 2) return false;
    records.set(id, { value, expiresAt: now + ttlMs });
    return true;
  }

  private configLine(): string {
    return mapUpdateLine(
      `${this.names.pinDir}/maps/${BpfMap.cfg}`,
      new Uint8Array(4),
      encodeConfig({
        vxlanIfindex: this.ifindexes.vxlan,
        portIfindex: this.ifindexes.port,
        missIfindex: this.ifindexes.miss,
        localShortId: this.localShortId,
        generation: this.generation,
      }),
    );
  }

  /** Writes queued map updates with one bpftool per batch, one batch at a time, in order. */
  private kick(): void {
    if (this.running || this.queue.length === 0 || this.closed) return;
    const lines = this.queue;
    this.queue = [];
    this.running = bpftoolBatch(lines)
      .catch((error: Error) => this.logger.warn(`fastdp: ${error.message}`))
      .finally(() => {
        this.running = undefined;
        this.kick();
      });
  }

  private receive(raw: readonly Uint8Array[]): void {
    const frames: TunnelFrame[] = [];
    for (const r of raw) {
      if (r.length < 8 + 14) continue;
      const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
      frames.push({
        remoteIp: numberToIpv4(view.getUint32(0)),
        tunnelId: view.getUint32(4) & 0xffffff,
        frame: r.subarray(8),
      });
    }
    if (frames.length > 0) this.handler?.(frames);
  }
}
