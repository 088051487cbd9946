// One run of a schedule: N routers with IPAM and weaveDNS on the deterministic simulated network,
// the schedule's faults applied in order, invariants checked as results arrive and at quiescence.
import { type PeerName, peerNameFromNumber, Router } from '../../packages/core/src/index.js';
import { SeededRandom, SimNetwork } from '../../packages/core/src/testing/index.js';
import { Nameserver } from '../../packages/dns/src/index.js';
import {
  Allocator,
  type CIDR,
  formatAddress,
  formatCIDR,
  type InitMode,
  MemoryStore,
  parseCIDR,
  parseInitMode,
  quorumForClusterSize,
  quorumFromTargets,
} from '../../packages/ipam/src/index.js';
import { type LossSettings, lossyGossiper } from './lossy-gossiper.js';
import { describeOp, type Op, type Schedule } from './schedule.js';

/** Peer n: name 0a:00:00:00:00:nn, host 10.0.x.y. */
export const chaosName = (n: number): PeerName => peerNameFromNumber(0x0a0000000000 + n);
const ipOf = (n: number): string => `10.0.${n >> 8}.${n & 0xff}`;

/** A broken invariant. */
export interface Violation {
  /** Short class, used to decide whether a shrunk schedule still fails the same way. */
  readonly kind:
    | 'duplicate'
    | 'rings-differ'
    | 'connection-dropped'
    | 'lost-allocation'
    | 'allocation-hang'
    | 'dns'
    | 'not-connected'
    | 'crash';
  readonly message: string;
  /** Virtual time (ms) it was seen. */
  readonly at: number;
}

/** What a run produced. */
export interface RunResult {
  readonly ops: number;
  readonly violations: Violation[];
  /** Virtual ms from connectivity restored to each probe allocation answered. */
  readonly latencies: number[];
  /** Allocations answered during the schedule. */
  readonly allocations: number;
  readonly log: string[];
}

interface ChaosPeer {
  readonly n: number;
  readonly router: Router;
  readonly allocator: Allocator;
  readonly ns: Nameserver;
}

interface Holding {
  readonly p: number;
  readonly cidr: CIDR;
}

/** Longest a probe allocation may take once every running peer is connected (virtual ms). */
export const ALLOCATION_BOUND_MS = 60_000;
/** How long the quiescent phase waits for every running peer to be connected (virtual ms). */
const RECONNECT_LIMIT_MS = 15 * 60_000;
/** How long the quiescent phase waits for rings to agree once all are connected (virtual ms). */
const SETTLE_LIMIT_MS = 5 * 60_000;

/**
 * Runs the simulation for exactly `ms` of virtual time (unlike `runUntilQuiet`, retries across a
 * partition cannot stretch it), draining promise continuations before time moves.
 */
export async function runFor(sim: SimNetwork, ms: number): Promise<void> {
  const clock = sim.clock;
  const end = clock.now() + ms;
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const next = clock.nextTimerAt();
    if (next === undefined || next > end) {
      clock.advanceTo(end);
      return;
    }
    while (clock.nextTimerAt() === next) {
      clock.runNext();
      for (let i = 0; i < 3; i++) await Promise.resolve();
    }
  }
}

/** Options of {@link runSchedule}. */
export interface RunOptions {
  /** Print every op, allocator log line and violation as it happens. */
  readonly verbose?: boolean;
  /** Stop at the first violation (shrinking needs no more). */
  readonly stopOnViolation?: boolean;
}

/** Runs one schedule to the end and checks it. Never throws: a crash is reported as a violation. */
export async function runSchedule(schedule: Schedule, options: RunOptions = {}): Promise<RunResult> {
  const world = new World(schedule, options.verbose ?? false, options.stopOnViolation ?? false);
  try {
    await world.run();
  } catch (error) {
    world.violation('crash', `${(error as Error).stack ?? error}`);
  } finally {
    await world.teardown();
  }
  return world.result();
}

class World {
  readonly sim = new SimNetwork();
  readonly stores = new Map<number, MemoryStore>();
  readonly peers = new Map<number, ChaosPeer>();
  readonly state = new Map<number, 'up' | 'down' | 'gone'>();
  readonly incarnation = new Map<number, number>();
  /** Containers holding an address: id -> holder. */
  readonly live = new Map<string, Holding>();
  readonly violations: Violation[] = [];
  readonly latencies: number[] = [];
  readonly log: string[] = [];
  readonly loss: LossSettings = { rate: 0, delay: 0 };
  readonly lossRandom: SeededRandom;
  /** Allocations waiting for an answer: id -> peer. */
  readonly waiting = new Map<string, number>();
  readonly all: number[];
  allocations = 0;
  ops = 0;

  constructor(
    readonly schedule: Schedule,
    readonly verbose: boolean,
    readonly stopOnViolation: boolean,
  ) {
    this.lossRandom = new SeededRandom(schedule.seed ^ 0x5bd1e995);
    this.all = Array.from({ length: schedule.peers }, (_, i) => i + 1);
  }

  note(text: string): void {
    const line = `[${(this.sim.clock.now() / 1000).toFixed(1)}s] ${text}`;
    this.log.push(line);
    if (this.verbose) console.log(line);
  }

  /** Allocator log lines, kept only when verbose (they are many). */
  trace(n: number, message: string): void {
    // Key IPAM events are always kept (tests look for them); the rest only when verbose.
    if (this.verbose || /taken over by|giving its ranges back|yielding|Paxos consensus/.test(message)) {
      this.note(`  peer ${n}: ${message.replace(/^\[allocator [^\]]*\] /, '')}`);
    }
  }

  violation(kind: Violation['kind'], message: string): void {
    this.violations.push({ kind, message, at: this.sim.clock.now() });
    this.note(`VIOLATION ${kind}: ${message}`);
  }

  result(): RunResult {
    return {
      ops: this.ops,
      violations: this.violations,
      latencies: this.latencies,
      allocations: this.allocations,
      log: this.log,
    };
  }

  mode(n: number): InitMode {
    const s = this.schedule;
    switch (s.init) {
      case 'consensus':
        return { kind: 'consensus', clusterSize: s.peers };
      case 'targets':
        return { kind: 'consensus' };
      case 'seed': {
        const seeds = this.all.filter((m) => m <= Math.max(1, Math.ceil(s.peers / 2)));
        return parseInitMode(`seed=${seeds.map(chaosName).join(',')}`);
      }
      case 'observers':
        // The last third observes; the rest are electors with a majority quorum of themselves.
        return n > Math.ceil((2 * s.peers) / 3)
          ? { kind: 'observer' }
          : { kind: 'consensus', clusterSize: Math.ceil((2 * s.peers) / 3) };
    }
  }

  async boot(n: number, fresh = false): Promise<ChaosPeer> {
    const incarnation = (this.incarnation.get(n) ?? -1) + 1;
    this.incarnation.set(n, incarnation);
    if (fresh || !this.stores.has(n)) this.stores.set(n, new MemoryStore());
    const seed = (this.schedule.seed * 131 + n * 1009 + incarnation * 7) | 0;
    const router = new Router({
      name: chaosName(n),
      nickname: `host${n}`,
      host: ipOf(n),
      transport: this.sim.transport(ipOf(n)),
      clock: this.sim.clock,
      random: new SeededRandom(seed),
      ...(this.verbose
        ? { logger: { info: (m: string) => this.trace(n, m), warn: (m: string) => this.trace(n, m) } }
        : {}),
    });
    const gossiper = lossyGossiper(router, this.loss, this.sim.clock, this.lossRandom);
    const mode = this.mode(n);
    const allocator = new Allocator({
      ourName: router.name,
      ourUid: router.ourself.uid,
      nickname: router.ourself.nickname,
      range: this.schedule.range,
      mode,
      gossiper,
      isKnownPeer: (name) => router.hasPeer(name),
      quorum: () => quorumFromTargets(router.connectionMaker.targets(true).length),
      clock: this.sim.clock,
      random: new SeededRandom(seed + 1),
      store: this.stores.get(n)!,
      logger: {
        info: (m) => this.trace(n, m),
        warn: (m) => this.trace(n, m),
      },
      ...(this.schedule.reclaimAfterMs ? { reclaimAfterMs: this.schedule.reclaimAfterMs } : {}),
    });
    const ns = new Nameserver({
      ourName: router.name,
      isKnownPeer: (p) => router.hasPeer(p),
      clock: this.sim.clock,
    });
    ns.register(gossiper);
    router.on('peersRemoved', (names) => {
      for (const name of names) {
        allocator.peerGone(name);
        ns.peerGone(name);
      }
    });
    allocator.start();
    ns.start();
    await router.start();
    router.connect(this.schedule.targets[n - 1]!.map(ipOf));
    const peer = { n, router, allocator, ns };
    this.peers.set(n, peer);
    this.state.set(n, 'up');
    // Containers on this host keep running across a weaver restart: their names are registered again.
    for (const [c, h] of this.live) if (h.p === n) ns.add(c, formatAddress(h.cidr.addr), `${c}.weave.local.`);
    return peer;
  }

  async halt(n: number, how: 'stop' | 'kill'): Promise<void> {
    const peer = this.peers.get(n);
    if (!peer) return;
    this.peers.delete(n);
    if (how === 'kill') this.sim.kill(ipOf(n));
    peer.allocator.stop();
    peer.ns.stop();
    await peer.router.stop();
    this.state.set(n, 'down');
  }

  holdingsOf(n: number): string[] {
    return [...this.live].filter(([, h]) => h.p === n).map(([c]) => c);
  }

  record(c: string, p: number, cidr: CIDR): void {
    for (const [other, h] of this.live) {
      if (other !== c && h.cidr.addr === cidr.addr) {
        this.violation(
          'duplicate',
          `${formatAddress(cidr.addr)} held by ${other} (peer ${h.p}) and ${c} (peer ${p})`,
        );
      }
    }
    this.live.set(c, { p, cidr });
    this.allocations++;
    this.peers.get(p)?.ns.add(c, formatAddress(cidr.addr), `${c}.weave.local.`);
  }

  async apply(op: Op): Promise<void> {
    this.ops++;
    this.note(describeOp(op));
    const running = (p: number) => this.peers.get(p);
    switch (op.t) {
      case 'alloc': {
        const peer = running(op.p);
        if (!peer || this.live.has(op.c) || this.waiting.has(op.c)) break;
        this.waiting.set(op.c, op.p);
        peer.allocator.allocate(op.c).then(
          (cidr) => {
            this.waiting.delete(op.c);
            if (this.peers.get(op.p) === peer) this.record(op.c, op.p, cidr);
          },
          () => this.waiting.delete(op.c),
        );
        break;
      }
      case 'claim': {
        const peer = running(op.p);
        if (!peer || this.live.has(op.c) || this.waiting.has(op.c)) break;
        const universe = parseCIDR(this.schedule.range);
        const cidr = { addr: (universe.addr + op.off) >>> 0, prefixLen: universe.prefixLen };
        this.waiting.set(op.c, op.p);
        peer.allocator.claim(op.c, cidr).then(
          () => {
            this.waiting.delete(op.c);
            if (this.peers.get(op.p) === peer) this.record(op.c, op.p, cidr);
          },
          (error: Error) => {
            this.waiting.delete(op.c);
            this.note(`claim ${op.c} ${formatCIDR(cidr)} refused: ${error.message}`);
          },
        );
        break;
      }
      case 'free': {
        const h = this.live.get(op.c);
        const peer = h && running(h.p);
        if (!h || !peer) break;
        peer.allocator.freeAll(op.c);
        peer.ns.delete(op.c);
        this.live.delete(op.c);
        break;
      }
      case 'cut':
        this.sim.partition(op.a.map(ipOf), op.b.map(ipOf));
        break;
      case 'block':
        this.sim.block(op.from.map(ipOf), op.to.map(ipOf));
        break;
      case 'heal':
        this.sim.heal();
        break;
      case 'loss':
        this.loss.rate = op.rate;
        this.loss.delay = op.delay;
        break;
      case 'stop':
      case 'kill':
        if (running(op.p) && this.peers.size > 1) await this.halt(op.p, op.t);
        break;
      case 'start':
        if (this.state.get(op.p) === 'down') await this.boot(op.p);
        break;
      case 'destroy':
        if (this.state.get(op.p) === 'gone') break;
        await this.halt(op.p, 'kill');
        this.state.set(op.p, 'gone');
        for (const c of this.holdingsOf(op.p)) this.live.delete(c);
        break;
      case 'rmpeer': {
        const peer = running(op.p);
        if (!peer || this.state.get(op.d) !== 'gone') break;
        try {
          this.note(
            `rmpeer: ${peer.allocator
              .adminTakeoverRanges(chaosName(op.d), { force: this.schedule.rmpeerForce ?? false })
              .trim()}`,
          );
        } catch (error) {
          this.note(`rmpeer refused: ${(error as Error).message}`);
        }
        break;
      }
      case 'reset': {
        const peer = running(op.p);
        if (!peer) break;
        for (const c of this.holdingsOf(op.p)) {
          peer.ns.delete(c);
          this.live.delete(c);
        }
        peer.allocator.shutdown();
        await runFor(this.sim, 100);
        await this.halt(op.p, 'stop');
        await this.boot(op.p, true);
        break;
      }
    }
    await runFor(this.sim, op.w);
  }

  async run(): Promise<void> {
    for (const n of this.all) await this.boot(n);
    await runFor(this.sim, 2_000);
    for (const op of this.schedule.ops) {
      await this.apply(op);
      if (this.stopOnViolation && this.violations.length > 0) return;
    }
    await this.quiesce();
  }

  connected(): boolean {
    const up = [...this.peers.values()];
    return up.every((x) => up.every((y) => x === y || x.router.routes.unicast(y.router.name) !== undefined));
  }

  /** Heal everything, restart stopped peers, and check the converged state. */
  async quiesce(): Promise<void> {
    this.note('quiesce: heal, loss off, restart stopped peers');
    this.sim.heal();
    this.loss.rate = 0;
    this.loss.delay = 0;
    for (const n of this.all) if (this.state.get(n) === 'down') await this.boot(n);
    const healedAt = this.sim.clock.now();
    while (!this.connected() && this.sim.clock.now() - healedAt < RECONNECT_LIMIT_MS) {
      await runFor(this.sim, 5_000);
    }
    if (!this.connected()) {
      const up = [...this.peers.values()];
      const missing = up.flatMap((x) =>
        up
          .filter((y) => x !== y && x.router.routes.unicast(y.router.name) === undefined)
          .map((y) => `${x.n}->${y.n}`),
      );
      this.violation(
        'not-connected',
        `peers not all connected ${RECONNECT_LIMIT_MS / 60_000} min after heal (no route ${missing.slice(0, 8).join(' ')})`,
      );
      for (const p of up) this.note(`peer ${p.n} connections:\n${p.router.connectionsText()}`);
      return;
    }
    const connectedAt = this.sim.clock.now();
    this.note(`connected after ${connectedAt - healedAt} ms`);

    // Can the cluster allocate at all? Only if a ring exists or enough electors are up to form one.
    const up = [...this.peers.values()];
    const ringExists = up.some((p) => p.allocator.ringEntries().length > 0);
    const electors = up.filter((p) => this.mode(p.n).kind !== 'observer').length;
    const mode = this.mode(1);
    const needed =
      this.schedule.init === 'targets'
        ? Math.max(...this.schedule.targets.map((t) => quorumFromTargets(t.length)))
        : mode.kind === 'consensus' && mode.clusterSize
          ? quorumForClusterSize(mode.clusterSize)
          : 1;
    const canAllocate = ringExists || mode.kind === 'seed' || electors >= needed;
    // Space stranded on peers that are gone (nobody ran rmpeer) legitimately stalls allocation.
    // So does a ring whose free space is all on such peers.
    const runningNames = new Set(up.map((p) => p.router.name));
    const stranded = (p: ChaosPeer) =>
      p.allocator.status().startsWith('all IP ranges owned by unreachable peers') ||
      (p.allocator.ringEntries().length > 0 &&
        !p.allocator.ringEntries().some((e) => e.free > 0 && runningNames.has(e.peer)));

    // Probe: one allocation on every running peer, plus whatever was still waiting.
    const probes = up.map((p) => {
      const c = `probe-${p.n}`;
      const started = this.sim.clock.now();
      let answered: number | undefined;
      p.allocator.allocate(c).then(
        (cidr) => {
          answered = this.sim.clock.now() - started;
          this.record(c, p.n, cidr);
        },
        (error: Error) => this.note(`probe on peer ${p.n} failed: ${error.message}`),
      );
      return { p, c, latency: () => answered };
    });
    while (this.sim.clock.now() - connectedAt < ALLOCATION_BOUND_MS) {
      await runFor(this.sim, 1_000);
      if (probes.every((x) => x.latency() !== undefined) && this.waiting.size === 0) break;
    }
    if (this.stopOnViolation && this.violations.length > 0) return;
    if (canAllocate) {
      for (const probe of probes) {
        const latency = probe.latency();
        if (latency === undefined && stranded(probe.p)) {
          this.note(`probe on peer ${probe.p.n} waits: ${probe.p.allocator.status()}`);
        } else if (latency === undefined) {
          this.violation(
            'allocation-hang',
            `probe on peer ${probe.p.n} not answered within ${ALLOCATION_BOUND_MS} ms (status: ${probe.p.allocator.status()}; ring ${this.ringKey(probe.p)})`,
          );
        } else this.latencies.push(latency);
      }
      for (const [c, p] of this.waiting) {
        const peer = this.peers.get(p);
        if (!peer || stranded(peer)) continue;
        this.violation(
          'allocation-hang',
          `${c} on peer ${p} still waiting ${ALLOCATION_BOUND_MS} ms after reconnect (status: ${this.peers.get(p)?.allocator.status()})`,
        );
      }
    }
    if (this.stopOnViolation && this.violations.length > 0) return;
    // Let gossip settle (rings, free counts, names: periodic gossip runs every 30 s), then compare.
    // Convergence after conflicting edits can take a few rounds: wait up to SETTLE_LIMIT_MS for it.
    await runFor(this.sim, 35_000);
    const settleStart = this.sim.clock.now();
    while (!this.ringsAgree() && this.sim.clock.now() - settleStart < SETTLE_LIMIT_MS) {
      await runFor(this.sim, 10_000);
    }
    await runFor(this.sim, 30_000);
    this.checkConverged();
  }

  ringKey(p: ChaosPeer): string {
    return p.allocator
      .ringEntries()
      .map((e) => `${formatAddress(e.token)}>${e.peer}@${e.version}/${e.free}`)
      .join(' ');
  }

  ringsAgree(): boolean {
    const keys = new Set([...this.peers.values()].map((p) => this.ringKey(p)));
    return keys.size <= 1;
  }

  checkConverged(): void {
    const up = [...this.peers.values()].sort((a, b) => a.n - b.n);
    // Connections dropped by IPAM merge errors.
    for (const p of up) {
      const text = p.router.connectionsText();
      const bad = text
        .split('\n')
        .filter((l) =>
          /Inconsistent entries|Received update for IP range I own|which I think I own|seeded by different/.test(
            l,
          ),
        );
      if (bad.length > 0) this.violation('connection-dropped', `peer ${p.n}: ${bad[0]!.trim()}`);
    }
    // Rings agree.
    const key = (p: ChaosPeer) => this.ringKey(p);
    const reference = up[0] ? key(up[0]) : '';
    for (const p of up.slice(1)) {
      const k = key(p);
      if (k !== reference) {
        this.violation(
          'rings-differ',
          `peer ${p.n} ring differs from peer ${up[0]!.n}:\n  ${k}\n  ${reference}`,
        );
        break;
      }
    }
    // Every answered allocation is still held, by its peer, in space its peer owns.
    const entries = up[0]?.allocator.ringEntries() ?? [];
    const ownerOf = (addr: number) => {
      let owner = entries[entries.length - 1]?.peer;
      for (const e of entries) if (e.token <= addr) owner = e.peer;
      return owner;
    };
    for (const [c, h] of this.live) {
      const peer = this.peers.get(h.p);
      if (!peer) continue;
      const held = peer.allocator.lookup(c).map((x) => x.addr);
      if (!held.includes(h.cidr.addr)) {
        this.violation('lost-allocation', `${c} ${formatCIDR(h.cidr)} no longer recorded on peer ${h.p}`);
      } else if (entries.length > 0 && ownerOf(h.cidr.addr) !== chaosName(h.p)) {
        this.violation(
          'lost-allocation',
          `${c} ${formatCIDR(h.cidr)} on peer ${h.p} but the ring gives it to ${ownerOf(h.cidr.addr)}`,
        );
      }
    }
    // DNS: every peer serves exactly the live containers' names.
    const expected = [...this.live]
      .map(([c, h]) => `${c}.weave.local.=${formatAddress(h.cidr.addr)}`)
      .sort()
      .join(' ');
    for (const p of up) {
      const got = p.ns
        .entries()
        .filter((e) => e.tombstone === 0)
        .map((e) => `${e.hostname}=${formatAddress(e.addr)}`)
        .sort()
        .join(' ');
      if (got !== expected) {
        this.violation('dns', `peer ${p.n} names differ:\n  got      ${got}\n  expected ${expected}`);
        break;
      }
    }
  }

  async teardown(): Promise<void> {
    for (const n of [...this.peers.keys()]) {
      const peer = this.peers.get(n)!;
      this.peers.delete(n);
      try {
        peer.allocator.stop();
        peer.ns.stop();
        await peer.router.stop();
      } catch {
        // best effort
      }
    }
  }
}
