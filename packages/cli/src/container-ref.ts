import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * What a `<container_id>` argument names. Here a container is a network namespace, given as its
 * `ip netns` name, the pid of a process inside it, or a path to it (`/proc/PID/ns/net`,
 * `/run/netns/NAME`, any nsfs bind mount). More resolvers (Docker container ids) are added with
 * registerContainerResolver and are asked first.
 */

/** A resolved container. */
export interface ContainerRef {
  /** Identifier for IPAM and DNS (upstream: the full container id). */
  id: string;
  /** Path of its network namespace. */
  netnsPath: string;
  /** Its `ip netns` name, when it has one. */
  netnsName?: string;
  /** Its hostname (FQDN when it has a domain part), when known. */
  hostname?: string;
  /** A process inside it, when known (used for the veth name as upstream). */
  pid?: number;
  /** Whether weaver can tell if it is still alive (send `check-alive=true`), e.g. Docker. */
  checkAlive?: boolean;
}

/** Turns a container argument into a ContainerRef. */
export interface ContainerResolver {
  /** For messages. */
  name: string;
  /** undefined when this resolver does not know `arg`. */
  resolve(arg: string): Promise<ContainerRef | undefined>;
  /** Every container it knows that runs now (for `weave ps` without arguments). */
  list?(): Promise<ContainerRef[]>;
}

/** The upstream text for an unknown container. */
export function noSuchContainerMessage(arg: string): string {
  return `Error: No such container: ${arg}`;
}

const NETNS_DIR = '/run/netns';

/** The built-in resolver: `ip netns` names, pids and namespace paths. */
export const netnsResolver: ContainerResolver = {
  name: 'netns',
  async resolve(arg) {
    if (/^\d+$/.test(arg)) return fromPid(Number(arg));
    if (arg.includes('/')) return fromPath(arg);
    return fromName(arg);
  },
  async list() {
    return namedNetns().flatMap((name) => {
      const ref = fromName(name);
      return ref === undefined ? [] : [ref];
    });
  },
};

/** A resolver, or a loader importing its module on first use (keeps heavy clients off `status`). */
export type ContainerResolverSource = ContainerResolver | (() => Promise<ContainerResolver | undefined>);

/**
 * Resolvers asked before the built-in one, in order. The Docker integration adds its own here
 * (a loader such as `() => import('./docker-container.js').then((m) => m.dockerResolver())`) or
 * through registerContainerResolver. A loader resolving to undefined (e.g. no Docker) is skipped.
 */
const extraResolvers: ContainerResolverSource[] = [
  () => import('./docker-resolver.js').then((m) => m.dockerResolver()),
];

/** Adds a resolver (or a loader of one) that is asked before the built-in one. */
export function registerContainerResolver(resolver: ContainerResolverSource): void {
  extraResolvers.push(resolver);
}

/** All resolvers in the order they are asked (loaders are run). */
export async function containerResolvers(): Promise<ContainerResolver[]> {
  const out: ContainerResolver[] = [];
  for (const [i, source] of extraResolvers.entries()) {
    const resolver = typeof source === 'function' ? await source() : source;
    if (resolver === undefined) continue;
    extraResolvers[i] = resolver;
    out.push(resolver);
  }
  return [...out, netnsResolver];
}

/** Resolves `arg`, or undefined when no resolver knows it. */
export async function findContainer(arg: string): Promise<ContainerRef | undefined> {
  for (const r of await containerResolvers()) {
    const ref = await r.resolve(arg);
    if (ref !== undefined) return ref;
  }
  return undefined;
}

/** Every container the resolvers list (deduplicated by id). */
export async function listContainers(): Promise<ContainerRef[]> {
  const seen = new Map<string, ContainerRef>();
  for (const r of await containerResolvers()) {
    for (const ref of (await r.list?.()) ?? []) if (!seen.has(ref.id)) seen.set(ref.id, ref);
  }
  return [...seen.values()];
}

/**
 * Runs `fn` with an `ip netns` name for the container's namespace: its own, or a temporary
 * symlink under /run/netns (as upstream's script did) removed afterwards.
 */
export async function withNetnsName<T>(ref: ContainerRef, fn: (name: string) => Promise<T>): Promise<T> {
  if (ref.netnsName !== undefined) return fn(ref.netnsName);
  mkdirSync(NETNS_DIR, { recursive: true });
  const name = `weave-${process.pid}-${++aliasCounter}`;
  const alias = join(NETNS_DIR, name);
  symlinkSync(ref.netnsPath, alias);
  try {
    return await fn(name);
  } finally {
    try {
      unlinkSync(alias);
    } catch {
      // already gone
    }
  }
}
let aliasCounter = 0;

/**
 * The `<id>` of the host-side veth `vethwepl<id>` (at most 7 characters): a short hash of the
 * container id for named namespaces (so every way of naming one gives the same veth), else the pid
 * when known (as upstream), else the hash.
 */
export function vethId(ref: ContainerRef): string {
  if (ref.netnsName === undefined && ref.pid !== undefined && String(ref.pid).length <= 7)
    return String(ref.pid);
  let h = 0x811c9dc5;
  for (const c of Buffer.from(ref.id)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h.toString(36).slice(0, 7);
}

/** Whether the namespace at `path` is the one this process is in. */
export function isOwnNetns(path: string): boolean {
  try {
    const a = statSync(path);
    const b = statSync('/proc/self/ns/net');
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

function namedNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch {
    return [];
  }
}

function fromName(name: string): ContainerRef | undefined {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..') return undefined;
  const path = join(NETNS_DIR, name);
  try {
    statSync(path);
  } catch {
    return undefined;
  }
  const ref: ContainerRef = { id: name, netnsPath: path, netnsName: name };
  // `ip netns exec NAME` shows /etc/netns/NAME/hostname as the namespace's /etc/hostname.
  const hostname = readHostnameFile(`/etc/netns/${name}/hostname`);
  if (hostname !== undefined) ref.hostname = hostname;
  return ref;
}

async function fromPid(pid: number): Promise<ContainerRef | undefined> {
  const path = `/proc/${pid}/ns/net`;
  const named = nameOf(path);
  if (named === null) return undefined;
  const ref: ContainerRef =
    named === undefined ? { id: `pid-${pid}`, netnsPath: path } : { ...fromName(named)! };
  ref.pid = pid;
  if (ref.netnsName === undefined) ref.netnsPath = path;
  const hostname = await utsHostname(pid);
  if (hostname !== undefined && ref.hostname === undefined) ref.hostname = hostname;
  return ref;
}

function fromPath(path: string): ContainerRef | undefined {
  const dir = dirname(path);
  if (dir === NETNS_DIR || dir === '/var/run/netns') return fromName(basename(path));
  const named = nameOf(path);
  if (named === null) return undefined;
  if (named !== undefined) return fromName(named);
  return { id: `netns-${statSync(path).ino}`, netnsPath: path };
}

/** The `ip netns` name of the namespace at `path`; undefined if unnamed, null if not there. */
function nameOf(path: string): string | undefined | null {
  let st: { ino: number; dev: number };
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  for (const name of namedNetns()) {
    try {
      const other = statSync(join(NETNS_DIR, name));
      if (other.ino === st.ino && other.dev === st.dev) return name;
    } catch {
      // stale entry
    }
  }
  return undefined;
}

function readHostnameFile(file: string): string | undefined {
  try {
    const name = readFileSync(file, 'utf8').trim();
    return name === '' ? undefined : name;
  } catch {
    return undefined;
  }
}

/** The hostname in the UTS namespace of `pid`, unless that is our own namespace. */
function utsHostname(pid: number): Promise<string | undefined> {
  try {
    const theirs = statSync(`/proc/${pid}/ns/uts`);
    const ours = statSync('/proc/self/ns/uts');
    if (theirs.ino === ours.ino && theirs.dev === ours.dev) return Promise.resolve(undefined);
  } catch {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    execFile('nsenter', ['-t', String(pid), '-u', 'hostname'], { timeout: 5000 }, (err, stdout) => {
      const name = String(stdout).trim();
      resolve(err === null && name !== '' ? name : undefined);
    });
  });
}

/** `with_container_fqdn`: the container's hostname when it has a domain part. */
export function containerFqdn(ref: ContainerRef): string | undefined {
  const fqdn = ref.hostname;
  if (fqdn === undefined) return undefined;
  const name = fqdn.split('.')[0];
  if (name === fqdn || `${name}.` === fqdn) return undefined;
  return fqdn;
}
