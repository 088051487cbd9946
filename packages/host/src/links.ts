import { runIp } from './command.js';
import { AlreadyExistsError, LinkNotFoundError } from './errors.js';
import { assertIfName, assertNetnsName } from './names.js';

/**
 * Links (network interfaces) through iproute2. Every function takes `netns`: the namespace the
 * link lives in (default: the namespace of this process).
 */

/** Where a link lives. */
export interface InNetns {
  /** Run inside this network namespace (default: the current one). */
  netns?: string;
}

/** What `getLink` reports about one link. */
export interface LinkInfo {
  /** The interface name. */
  name: string;
  /** The kernel's interface index. */
  index: number;
  /** The MTU. */
  mtu: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** MAC address, lower-case `aa:bb:…`, when the link has one. */
  mac?: string;
  /** The bridge (or other master) the link is enslaved to. */
  master?: string;
  /** Link type from the kernel (`bridge`, `veth`, `tun`, …); absent for plain devices. */
  kind?: string;
}

/** Options of {@link createBridge}. */
export interface CreateBridgeOptions extends InNetns {
  /** MTU of the bridge (set after creation, see {@link createBridge}). */
  mtu?: number;
  /** MAC address of the bridge (upstream sets it to the peer name), `aa:bb:cc:dd:ee:ff`. */
  mac?: string;
}

/** What {@link createBridge} did. */
export interface BridgeResult {
  /** False when a bridge of that name existed already and was reused. */
  created: boolean;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/**
 * Creates a Linux bridge (`weave` upstream), or reuses it if a bridge of that name exists already (a
 * restarted router keeps its bridge and the containers on it); then applies `mtu` and `mac` when given.
 * A new bridge stays down until setLinkUp. The MTU is set after creation on purpose: only then does the
 * kernel treat it as chosen by the user and keep it, instead of following the smallest MTU of the ports
 * enslaved later. A link of that name that is not a bridge is an {@link AlreadyExistsError}.
 */
export async function createBridge(name: string, options: CreateBridgeOptions = {}): Promise<BridgeResult> {
  assertIfName(name);
  const mtu = mtuArgs(options.mtu);
  if (options.mac !== undefined && !MAC.test(options.mac)) {
    throw new RangeError(`MAC address must be aa:bb:cc:dd:ee:ff, got ${JSON.stringify(options.mac)}`);
  }
  const mac = options.mac === undefined ? [] : ['address', options.mac.toLowerCase()];
  let created = true;
  try {
    await runIp(['link', 'add', 'name', name, ...mac, 'type', 'bridge'], options.netns);
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err;
    const existing = await getLink(name, options);
    if (existing.kind !== 'bridge') {
      throw new AlreadyExistsError(
        ['ip', 'link', 'add', 'name', name, 'type', 'bridge'],
        `${name} exists and is not a bridge (${existing.kind ?? 'device'})`,
        2,
      );
    }
    created = false;
    if (options.mac !== undefined && existing.mac !== options.mac.toLowerCase()) {
      await runIp(['link', 'set', 'dev', name, ...mac], options.netns);
    }
  }
  if (options.mtu === undefined) return { created };
  try {
    await runIp(['link', 'set', 'dev', name, ...mtu], options.netns);
  } catch (err) {
    if (created) await deleteLink(name, { netns: options.netns, ifExists: true });
    throw err;
  }
  return { created };
}

/**
 * Creates a veth pair `name` ↔ `peer`. The peer is created directly in `peerNetns` when given
 * (else next to `name`). Both ends get `mtu` when given.
 */
export async function createVethPair(
  name: string,
  peer: string,
  options: InNetns & { peerNetns?: string; mtu?: number } = {},
): Promise<void> {
  assertIfName(name);
  assertIfName(peer);
  const peerNs = options.peerNetns === undefined ? [] : ['netns', checkedNetns(options.peerNetns)];
  const mtu = mtuArgs(options.mtu);
  await runIp(
    ['link', 'add', 'name', name, ...mtu, 'type', 'veth', 'peer', 'name', peer, ...mtu, ...peerNs],
    options.netns,
  );
}

/** Deletes a link (a veth takes its peer along). With `ifExists`, a missing link is not an error. */
export async function deleteLink(
  name: string,
  options: InNetns & { ifExists?: boolean } = {},
): Promise<void> {
  assertIfName(name);
  try {
    await runIp(['link', 'delete', 'dev', name], options.netns);
  } catch (err) {
    if (!(options.ifExists && err instanceof LinkNotFoundError)) throw err;
  }
}

/** Brings a link up. */
export async function setLinkUp(name: string, options: InNetns = {}): Promise<void> {
  await setLink(name, ['up'], options);
}

/** Brings a link down. */
export async function setLinkDown(name: string, options: InNetns = {}): Promise<void> {
  await setLink(name, ['down'], options);
}

/** Sets a link's MTU. */
export async function setLinkMtu(name: string, mtu: number, options: InNetns = {}): Promise<void> {
  await setLink(name, mtuArgs(mtu), options);
}

/** Enslaves a link to a bridge (`bridge`), or frees it from its bridge (`null`). */
export async function setLinkMaster(
  name: string,
  bridge: string | null,
  options: InNetns = {},
): Promise<void> {
  if (bridge !== null) assertIfName(bridge);
  await setLink(name, bridge === null ? ['nomaster'] : ['master', bridge], options);
}

/**
 * Moves a link into the namespace `to`, renaming it to `newName` on the way when given. This works
 * for a TAP whose fd stays open in this process: the device moves, the fd keeps reading it.
 */
export async function moveLinkToNetns(
  name: string,
  to: string,
  options: InNetns & { newName?: string } = {},
): Promise<void> {
  const rename = options.newName === undefined ? [] : ['name', options.newName];
  if (options.newName !== undefined) assertIfName(options.newName);
  await setLink(name, ['netns', checkedNetns(to), ...rename], options);
}

/** Describes one link. Rejects with LinkNotFoundError when it does not exist. */
export async function getLink(name: string, options: InNetns = {}): Promise<LinkInfo> {
  assertIfName(name);
  const [raw] = JSON.parse(
    await runIp(['-j', '-d', 'link', 'show', 'dev', name], options.netns),
  ) as RawLink[];
  if (raw === undefined)
    throw new LinkNotFoundError(['ip', 'link', 'show', name], `Device "${name}" does not exist.`, 1);
  return toLinkInfo(raw);
}

/** Every link in the namespace. */
export async function listLinks(options: InNetns = {}): Promise<LinkInfo[]> {
  return (JSON.parse(await runIp(['-j', '-d', 'link', 'show'], options.netns)) as RawLink[]).map(toLinkInfo);
}

/** Whether a link of that name exists. */
export async function linkExists(name: string, options: InNetns = {}): Promise<boolean> {
  try {
    await getLink(name, options);
    return true;
  } catch (err) {
    if (err instanceof LinkNotFoundError) return false;
    throw err;
  }
}

interface RawLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  flags: string[];
  address?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
}

function toLinkInfo(raw: RawLink): LinkInfo {
  const info: LinkInfo = { name: raw.ifname, index: raw.ifindex, mtu: raw.mtu, up: raw.flags.includes('UP') };
  if (raw.address !== undefined) info.mac = raw.address;
  if (raw.master !== undefined) info.master = raw.master;
  if (raw.linkinfo?.info_kind !== undefined) info.kind = raw.linkinfo.info_kind;
  return info;
}

async function setLink(name: string, args: string[], options: InNetns): Promise<void> {
  assertIfName(name);
  await runIp(['link', 'set', 'dev', name, ...args], options.netns);
}

function mtuArgs(mtu: number | undefined): string[] {
  if (mtu === undefined) return [];
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
    throw new RangeError(`MTU must be an integer in 68..65535, got ${mtu}`);
  return ['mtu', String(mtu)];
}

function checkedNetns(name: string): string {
  assertNetnsName(name);
  return name;
}
