import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { type Random, systemRandom } from '@weave-ts/core';
import { addAddress } from './addresses.js';
import { attachContainer } from './container.js';
import { type CommandOptions, type CommandOutput, runIp } from './command.js';
import { createBridge, listLinks, setLinkMaster, setLinkMtu, setLinkUp } from './links.js';
import { createNetns, deleteNetns, execInNetns, listNetns, spawnInNetns } from './netns.js';

/**
 * Throw-away "hosts" for tests: one network namespace per host, joined by an underlay.
 *
 *   count = 2:  [<p>-h0] <p>u0 ════ veth ════ <p>u1 [<p>-h1]
 *   count > 2:  [<p>-hN] <p>uN ══ veth ══ <p>sN ─┐ bridge br0 in [<p>-sw]
 *
 * Nothing is created in the caller's namespace, and destroy() deletes every namespace (and with it
 * every link) this set made. Names start with a per-run prefix (`wt` + 5 random characters).
 */

/** How to build the hosts. */
export interface TestHostsOptions {
  /** Number of hosts, 1..32 (one host has no underlay); default 2. */
  count?: number;
  /** Underlay subnet as `a.b.c.0/len`: host i gets address number i+1; default 10.250.0.0/24. */
  subnet?: string;
  /** Underlay MTU; default 1500. */
  mtu?: number;
  /** Name prefix, ≤ 7 characters; default uniqueTestPrefix(). */
  prefix?: string;
  /** Randomness for the default prefix. */
  random?: Random;
}

/** One test host. */
export interface TestHost {
  /** Network namespace of the host. */
  netns: string;
  /** Underlay interface inside the namespace (absent for a single host). */
  ifName?: string;
  /** Underlay IPv4 address (absent for a single host). */
  address?: string;
  /** Runs a command inside the host (environment without NODE_EXTRA_CA_CERTS unless `env` is given). */
  exec(
    file: string,
    args: readonly string[],
    options?: Omit<CommandOptions, 'netns'>,
  ): Promise<CommandOutput>;
  /** Starts a command inside the host (same environment rule as exec). */
  spawn(file: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
}

/** A set of test hosts; call destroy() in afterAll/afterEach (also after a failure). */
export interface TestHosts {
  /** The unique prefix of every namespace and link created. */
  prefix: string;
  /** The hosts, in creation order. */
  hosts: TestHost[];
  /**
   * Creates one more namespace `<prefix>-<suffix>` without underlay (e.g. a container), with the
   * same exec/spawn helpers; destroy() deletes it too.
   */
  addNetns(suffix: string): Promise<TestHost>;
  /** Deletes every namespace of the set; safe to call twice. */
  destroy(): Promise<void>;
}

/** A fresh name prefix `wt` + 5 base-36 characters, so parallel runs never collide. */
export function uniqueTestPrefix(random: Random = systemRandom): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += random.int(36).toString(36);
  return `wt${suffix}`;
}

/** Builds `count` hosts joined by an underlay (see the diagram above). */
export async function createTestHosts(options: TestHostsOptions = {}): Promise<TestHosts> {
  const count = options.count ?? 2;
  if (!Number.isInteger(count) || count < 1 || count > 32)
    throw new RangeError(`count must be 1..32, got ${count}`);
  const prefix = options.prefix ?? uniqueTestPrefix(options.random);
  if (!/^[a-z][a-z0-9]{0,6}$/.test(prefix))
    throw new RangeError(`prefix must be 1-7 lower-case letters/digits: ${prefix}`);
  const [base, prefixLength] = parseSubnet(options.subnet ?? '10.250.0.0/24', count);
  const mtu = options.mtu ?? 1500;

  const created: string[] = [];
  const track = async (name: string): Promise<string> => {
    await createNetns(name);
    created.push(name);
    return name;
  };
  let destroyed = false;
  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    for (const name of created.reverse()) await deleteNetns(name, { ifExists: true });
  };

  try {
    const hosts: TestHost[] = [];
    for (let i = 0; i < count; i++) hosts.push(makeHost(await track(`${prefix}-h${i}`)));
    if (count === 2) {
      await runIp(
        [
          'link',
          'add',
          'name',
          `${prefix}u0`,
          'type',
          'veth',
          'peer',
          'name',
          `${prefix}u1`,
          'netns',
          `${prefix}-h1`,
        ],
        `${prefix}-h0`,
      );
    } else if (count > 2) {
      const sw = await track(`${prefix}-sw`);
      await createBridge('br0', { netns: sw, mtu });
      await setLinkUp('br0', { netns: sw });
      for (let i = 0; i < count; i++) {
        const port = `${prefix}s${i}`;
        await runIp(
          [
            'link',
            'add',
            'name',
            port,
            'type',
            'veth',
            'peer',
            'name',
            `${prefix}u${i}`,
            'netns',
            `${prefix}-h${i}`,
          ],
          sw,
        );
        await setLinkMtu(port, mtu, { netns: sw });
        await setLinkMaster(port, 'br0', { netns: sw });
        await setLinkUp(port, { netns: sw });
      }
    }
    if (count > 1) {
      for (const [i, host] of hosts.entries()) {
        host.ifName = `${prefix}u${i}`;
        host.address = ipv4FromNumber(base + i + 1);
        await setLinkMtu(host.ifName, mtu, { netns: host.netns });
        await addAddress(host.ifName, `${host.address}/${prefixLength}`, { netns: host.netns });
        await setLinkUp(host.ifName, { netns: host.netns });
      }
    }
    return {
      prefix,
      hosts,
      addNetns: async (suffix) => makeHost(await track(`${prefix}-${suffix}`)),
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}

/**
 * Namespaces and links of this namespace whose names start with `prefix`: what a test run left
 * behind (should be none after destroy()).
 */
export async function findLeftovers(prefix: string): Promise<string[]> {
  const netns = (await listNetns()).filter((n) => n.startsWith(prefix));
  const links = (await listLinks()).map((l) => l.name).filter((n) => n.startsWith(prefix));
  return [...netns.map((n) => `netns ${n}`), ...links.map((l) => `link ${l}`)];
}

function makeHost(netns: string): TestHost {
  return {
    netns,
    exec: (file, args, options = {}) =>
      execInNetns(netns, file, args, { ...options, env: options.env ?? quietEnv() }),
    spawn: (file, args, options = {}) =>
      spawnInNetns(netns, file, args, { ...options, env: options.env ?? quietEnv() }),
  };
}

/** This process's environment without NODE_EXTRA_CA_CERTS, which adds ~90 ms to every node start. */
function quietEnv(): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  return env;
}

function parseSubnet(subnet: string, count: number): [number, number] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(subnet);
  const octets = m?.slice(1, 5).map(Number) ?? [];
  const len = Number(m?.[5]);
  if (m === null || octets.some((o) => o > 255) || len < 8 || len > 30 || count + 2 > 2 ** (32 - len)) {
    throw new RangeError(`subnet must be an IPv4 a.b.c.d/len with room for ${count} hosts: ${subnet}`);
  }
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  return [base - (base % 2 ** (32 - len)), len];
}

function ipv4FromNumber(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/**
 * A container for tests: one more namespace of `hosts` (`<prefix>-<suffix>`) with an `ethwe` on
 * `bridge` in `host`'s namespace and address `cidr` (e.g. `10.32.0.1/12`).
 */
export async function addTestContainer(
  hosts: TestHosts,
  host: TestHost,
  suffix: string,
  cidr: string,
  bridge = 'weave',
): Promise<TestHost> {
  const container = await hosts.addNetns(suffix);
  await attachContainer({ netns: container.netns, bridgeNetns: host.netns, bridge, cidr });
  return container;
}
