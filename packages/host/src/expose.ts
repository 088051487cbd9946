import { isIPv4 } from 'node:net';
import { addAddress, deleteAddress, listAddresses, parseCidr } from './addresses.js';
import { runCommand } from './command.js';
import { AlreadyExistsError, NetCommandError } from './errors.js';
import { sendGratuitousArp } from './garp.js';
import type { InNetns } from './links.js';
import { assertIfName } from './names.js';

/**
 * `weave expose` / `weave hide` on the host side, with iptables (Debian's `iptables`, nf_tables
 * backend): the address on the bridge plus a gratuitous ARP, and the rules upstream adds —
 * nat chain `WEAVE` (jumped to from POSTROUTING): `-s cidr -d 224.0.0.0/4 -j RETURN`,
 * `-d cidr ! -s cidr -j MASQUERADE`, `-s cidr ! -d cidr -j MASQUERADE` (left out with `skipNAT`);
 * filter chain `WEAVE-EXPOSE` (jumped to from FORWARD for `-o <bridge>`): `-d cidr -j ACCEPT`.
 * Hide removes exactly those. An empty `WEAVE-CANARY` chain in the mangle, nat and filter tables
 * tells whether someone flushed iptables ({@link IptablesFlushMonitor}); the chain names are
 * options, so tests use their own.
 */

/** Chain names and where the commands run. */
export interface ExposeRulesOptions extends InNetns {
  /** The bridge (`weave`). */
  bridge?: string;
  /** nat chain for the masquerade rules; default `WEAVE`. */
  natChain?: string;
  /** filter chain for the ACCEPT rules; default `WEAVE-EXPOSE`. */
  filterChain?: string;
  /** Empty chain whose absence means iptables was flushed; default `WEAVE-CANARY`. */
  canaryChain?: string;
  /** The iptables binary; default `iptables`. */
  iptables?: string;
}

/** Tables holding the canary chain (as upstream's monitor). */
export const CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;

const MULTICAST = '224.0.0.0/4';

/** The iptables rules of expose/hide, and the chains they live in. */
export class ExposeRules {
  /** The bridge the exposed addresses live on. */
  readonly bridge: string;
  /** nat chain of the masquerade rules. */
  readonly natChain: string;
  /** filter chain of the ACCEPT rules. */
  readonly filterChain: string;
  /** Empty chain in mangle, nat and filter whose absence means a flush. */
  readonly canaryChain: string;
  /** Run inside this network namespace (default: the current one). */
  private readonly netns: string | undefined;
  private readonly bin: string;

  constructor(options: ExposeRulesOptions = {}) {
    this.bridge = options.bridge ?? 'weave';
    assertIfName(this.bridge);
    this.natChain = options.natChain ?? 'WEAVE';
    this.filterChain = options.filterChain ?? 'WEAVE-EXPOSE';
    this.canaryChain = options.canaryChain ?? 'WEAVE-CANARY';
    for (const chain of [this.natChain, this.filterChain, this.canaryChain]) {
      if (!/^[A-Za-z0-9_.-]{1,28}$/.test(chain))
        throw new RangeError(`invalid iptables chain name ${JSON.stringify(chain)}`);
    }
    this.netns = options.netns;
    this.bin = options.iptables ?? 'iptables';
  }

  private run(args: string[]) {
    return runCommand(this.bin, ['-w', '5', ...args], this.netns === undefined ? {} : { netns: this.netns });
  }

  /** Whether `-C` finds the rule. */
  private async has(table: string, chain: string, rule: string[]): Promise<boolean> {
    try {
      await this.run(['-t', table, '-C', chain, ...rule]);
      return true;
    } catch (err) {
      if (err instanceof NetCommandError && !(err instanceof AlreadyExistsError)) return false;
      throw err;
    }
  }

  private async chainExists(table: string, chain: string): Promise<boolean> {
    try {
      await this.run(['-t', table, '-S', chain]);
      return true;
    } catch (err) {
      if (err instanceof NetCommandError) return false;
      throw err;
    }
  }

  private async ensureChain(table: string, chain: string): Promise<void> {
    if (!(await this.chainExists(table, chain))) {
      try {
        await this.run(['-t', table, '-N', chain]);
      } catch (err) {
        // Created concurrently: fine.
        if (!(await this.chainExists(table, chain))) throw err;
      }
    }
  }

  private async appendUnique(table: string, chain: string, rule: string[]): Promise<void> {
    if (!(await this.has(table, chain, rule))) await this.run(['-t', table, '-A', chain, ...rule]);
  }

  private async deleteIfPresent(table: string, chain: string, rule: string[]): Promise<boolean> {
    if (!(await this.has(table, chain, rule))) return false;
    await this.run(['-t', table, '-D', chain, ...rule]);
    return true;
  }

  private jumps(): [table: string, chain: string, rule: string[]][] {
    return [
      ['nat', 'POSTROUTING', ['-j', this.natChain]],
      ['filter', 'FORWARD', ['-o', this.bridge, '-j', this.filterChain]],
    ];
  }

  private natRules(cidr: string): string[][] {
    return [
      ['-s', cidr, '-d', MULTICAST, '-j', 'RETURN'],
      ['-d', cidr, '!', '-s', cidr, '-j', 'MASQUERADE'],
      ['-s', cidr, '!', '-d', cidr, '-j', 'MASQUERADE'],
    ];
  }

  /** Creates the chains, the jumps to them and the canary chains (idempotent). */
  async ensureChains(): Promise<void> {
    await this.ensureChain('nat', this.natChain);
    await this.ensureChain('filter', this.filterChain);
    for (const [table, chain, rule] of this.jumps()) await this.appendUnique(table, chain, rule);
    for (const table of CANARY_TABLES) await this.ensureChain(table, this.canaryChain);
  }

  /** Whether any canary chain is gone (iptables was flushed or reset since {@link ensureChains}). */
  async flushed(): Promise<boolean> {
    for (const table of CANARY_TABLES) if (!(await this.chainExists(table, this.canaryChain))) return true;
    return false;
  }

  /** Adds the expose rules for `cidr` (network form, e.g. `10.32.0.0/12`, or an address with its prefix). */
  async expose(cidr: string, options: { skipNAT?: boolean } = {}): Promise<void> {
    const net = networkOf(cidr);
    await this.ensureChains();
    if (!options.skipNAT)
      for (const rule of this.natRules(net)) await this.appendUnique('nat', this.natChain, rule);
    await this.appendUnique('filter', this.filterChain, ['-d', net, '-j', 'ACCEPT']);
  }

  /** Removes the expose rules for `cidr`; returns how many rules were there. */
  async hide(cidr: string): Promise<number> {
    const net = networkOf(cidr);
    let removed = 0;
    if (await this.chainExists('nat', this.natChain)) {
      for (const rule of this.natRules(net))
        if (await this.deleteIfPresent('nat', this.natChain, rule)) removed++;
    }
    if (await this.chainExists('filter', this.filterChain)) {
      if (await this.deleteIfPresent('filter', this.filterChain, ['-d', net, '-j', 'ACCEPT'])) removed++;
    }
    return removed;
  }

  /** The rules (in `iptables -S` form) of the nat and filter chains, for diagnostics and tests. */
  async list(): Promise<ExposeRuleList> {
    const rules = async (table: string, chain: string) => {
      if (!(await this.chainExists(table, chain))) return [];
      const out = (await this.run(['-t', table, '-S', chain])).stdout;
      return out.split('\n').filter((l) => l.startsWith('-A '));
    };
    return { nat: await rules('nat', this.natChain), filter: await rules('filter', this.filterChain) };
  }

  /** Removes the jumps, the chains and the canaries (`weave reset`). Missing pieces are skipped. */
  async teardown(): Promise<void> {
    for (const [table, chain, rule] of this.jumps()) await this.deleteIfPresent(table, chain, rule);
    for (const [table, chain] of [
      ['nat', this.natChain],
      ['filter', this.filterChain],
      ...CANARY_TABLES.map((t) => [t, this.canaryChain]),
    ] as [string, string][]) {
      if (!(await this.chainExists(table, chain))) continue;
      await this.run(['-t', table, '-F', chain]);
      await this.run(['-t', table, '-X', chain]);
    }
  }
}

/** The rules {@link ExposeRules.list} found, as `iptables -S` lines. */
export interface ExposeRuleList {
  /** Rules of the nat chain. */
  nat: string[];
  /** Rules of the filter chain. */
  filter: string[];
}

/** The network form of a CIDR (`10.32.0.7/12` → `10.32.0.0/12`), as iptables prints it. */
export function networkOf(cidr: string): string {
  const { address, prefixLength, family } = parseCidr(cidr);
  if (family !== 4) throw new RangeError(`expose needs an IPv4 CIDR, got ${JSON.stringify(cidr)}`);
  const value = address.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - prefixLength);
  const net = value - (value % size);
  const octets = [24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256);
  return `${octets.join('.')}/${prefixLength}`;
}

/**
 * Exposes `cidr` (an address with its subnet's prefix, e.g. `10.32.0.1/12`): the address on the
 * bridge (already there is fine), a gratuitous ARP for it, then the rules.
 */
export async function exposeAddress(
  rules: ExposeRules,
  cidr: string,
  options: InNetns & { skipNAT?: boolean } = {},
): Promise<void> {
  const { address } = parseCidr(cidr);
  if (!isIPv4(address)) throw new RangeError(`expose needs an IPv4 CIDR, got ${JSON.stringify(cidr)}`);
  const ns = options.netns === undefined ? {} : { netns: options.netns };
  try {
    await addAddress(rules.bridge, cidr, ns);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
  }
  try {
    sendGratuitousArp(rules.bridge, address, ns);
  } catch {
    // A bridge without ports may refuse the frame; the address works without it.
  }
  await rules.expose(cidr, options.skipNAT === undefined ? {} : { skipNAT: options.skipNAT });
}

/** Hides `cidr`: removes its rules, then the address from the bridge (absent is fine). */
export async function hideAddress(rules: ExposeRules, cidr: string, options: InNetns = {}): Promise<void> {
  const ns = options.netns === undefined ? {} : { netns: options.netns };
  await rules.hide(cidr);
  const present = await listAddresses(rules.bridge, ns);
  if (present.includes(cidr)) await deleteAddress(rules.bridge, cidr, ns);
}

/** Options of {@link IptablesFlushMonitor}. */
export interface IptablesFlushMonitorOptions {
  /** Check interval; default 10 s (upstream's). */
  intervalMs?: number;
  /** Called after the chains were re-created; re-apply rules here (e.g. re-expose). */
  onFlush: () => void | Promise<void>;
  /** Errors of a check or of onFlush (the monitor keeps going). */
  onError?: (err: unknown) => void;
  /** Timer functions (injectable for tests). */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  /** Cancels what `setTimeout` returned. */
  clearTimeout?: (handle: unknown) => void;
}

/**
 * Watches the canary chains: when one is gone, re-creates the chains ({@link ExposeRules.ensureChains})
 * and calls `onFlush`. Timers are unref'd; {@link IptablesFlushMonitor.stop} ends it.
 */
export class IptablesFlushMonitor {
  private handle: unknown;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly rules: ExposeRules,
    private readonly options: IptablesFlushMonitorOptions,
  ) {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const set = this.options.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms).unref());
    this.handle = set(() => {
      this.running = this.check().then(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.options.intervalMs ?? 10_000);
  }

  /** One check now (also what the timer runs). Resolves true when a flush was found and repaired. */
  async check(): Promise<boolean> {
    try {
      if (!(await this.rules.flushed())) return false;
      await this.rules.ensureChains();
      await this.options.onFlush();
      return true;
    } catch (err) {
      this.options.onError?.(err);
      return false;
    }
  }

  /** Stops checking (waits for a check in progress). */
  async stop(): Promise<void> {
    this.stopped = true;
    const clear = this.options.clearTimeout ?? ((h: unknown) => clearTimeout(h as NodeJS.Timeout));
    if (this.handle !== undefined) clear(this.handle);
    await this.running;
  }
}
