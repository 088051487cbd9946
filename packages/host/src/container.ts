import { addAddress, addRoute, deleteAddress, listAddresses, listRoutes, parseCidr } from './addresses.js';
import { BridgeNotFoundError, LinkNotFoundError } from './errors.js';
import { sendGratuitousArp } from './garp.js';
import {
  createVethPair,
  deleteLink,
  getLink,
  linkExists,
  moveLinkToNetns,
  setLinkMaster,
  setLinkUp,
} from './links.js';
import { assertIfName, MAX_IFNAME_LENGTH } from './names.js';
import { setSysctls } from './sysctl.js';

/**
 * Attaching a "container" (a network namespace) to the weave bridge the way `weave attach` does:
 *
 *   bridge `weave` ── vethwepl<id> ══ veth ══ ethwe (in the container's namespace, subnet addresses)
 */

/** Name of the container side of the veth, as upstream. */
export const CONTAINER_IF_NAME = 'ethwe';

/** Multicast range routed via ethwe (upstream adds it unless --no-multicast-route). */
export const MULTICAST_ROUTE = '224.0.0.0/4';

/** What attachContainer needs. */
export interface AttachContainerOptions {
  /** The container's network namespace. */
  netns: string;
  /** Addresses with their subnet's prefix length (from IPAM), e.g. `172.16.16.1/24`. */
  cidr: string | readonly string[];
  /** Bridge to attach to; default `weave`. */
  bridge?: string;
  /** Namespace the bridge lives in; default this process's. */
  bridgeNetns?: string;
  /** Host side of the veth; default `vethwepl<id>`. */
  hostIfName?: string;
  /** Identifies the container in the default host-side name (upstream uses the container's PID). */
  id?: string | number;
  /** MTU of both veth ends; default the bridge's MTU. */
  mtu?: number;
  /** Route 224.0.0.0/4 via ethwe; default true. */
  multicastRoute?: boolean;
}

/** The result of attachContainer. */
export interface ContainerAttachment {
  /** The container's network namespace. */
  netns: string;
  /** The host end of the veth (on the bridge). */
  hostIfName: string;
  /** The container end of the veth (`ethwe`). */
  containerIfName: string;
  /** The MTU set on both ends. */
  mtu: number;
  /** Addresses ethwe carries now (including ones it had before). */
  cidrs: string[];
}

/**
 * Gives the container an `ethwe` on the bridge with the given addresses. When the container has an
 * ethwe already only the new addresses are added (as `weave attach` on an attached container).
 * Each new IPv4 address is announced by a gratuitous ARP. The ARP cache of ethwe is tuned as
 * upstream does (base_reachable_time 5 s, delay_first_probe_time 2 s, ucast_solicit 1, arp_accept 1)
 * so a moved address is picked up quickly. Rejects with BridgeNotFoundError when the bridge is
 * missing; a half-made veth is deleted again on failure.
 */
export async function attachContainer(options: AttachContainerOptions): Promise<ContainerAttachment> {
  const cidrs = typeof options.cidr === 'string' ? [options.cidr] : [...options.cidr];
  for (const c of cidrs) parseCidr(c);
  const netns = options.netns;
  const bridgeName = options.bridge ?? 'weave';
  const hostIfName = options.hostIfName ?? `vethwepl${options.id ?? ''}`;
  assertIfName(hostIfName);
  const inContainer = { netns };

  if (!(await linkExists(CONTAINER_IF_NAME, inContainer))) {
    const bridge = await getLink(bridgeName, { netns: options.bridgeNetns }).catch((err: unknown) => {
      throw err instanceof LinkNotFoundError ? new BridgeNotFoundError(bridgeName) : err;
    });
    if (bridge.kind !== 'bridge') throw new BridgeNotFoundError(bridgeName);
    const mtu = options.mtu ?? bridge.mtu;
    const guestIfName = guestNameFor(hostIfName);
    const onBridge = { netns: options.bridgeNetns };
    await createVethPair(hostIfName, guestIfName, { ...onBridge, mtu });
    try {
      await setLinkMaster(hostIfName, bridgeName, onBridge);
      await setLinkUp(hostIfName, onBridge);
      await moveLinkToNetns(guestIfName, netns, { ...onBridge, newName: CONTAINER_IF_NAME });
      await setSysctls(arpCacheSettings(CONTAINER_IF_NAME), inContainer);
      await setLinkUp(CONTAINER_IF_NAME, inContainer);
      await setLinkUp('lo', inContainer);
    } catch (err) {
      await deleteLink(hostIfName, { ...onBridge, ifExists: true });
      throw err;
    }
  }

  const present = new Set(await listAddresses(CONTAINER_IF_NAME, inContainer));
  for (const cidr of cidrs) {
    if (present.has(cidr)) continue;
    await addAddress(CONTAINER_IF_NAME, cidr, inContainer);
    const { address, family } = parseCidr(cidr);
    if (family === 4) sendGratuitousArp(CONTAINER_IF_NAME, address, inContainer);
  }
  if (
    (options.multicastRoute ?? true) &&
    !(await listRoutes(CONTAINER_IF_NAME, inContainer)).includes(MULTICAST_ROUTE)
  ) {
    await addRoute(MULTICAST_ROUTE, CONTAINER_IF_NAME, inContainer);
  }
  const ethwe = await getLink(CONTAINER_IF_NAME, inContainer);
  return {
    netns,
    hostIfName,
    containerIfName: CONTAINER_IF_NAME,
    mtu: ethwe.mtu,
    cidrs: await listAddresses(CONTAINER_IF_NAME, inContainer),
  };
}

/** What detachContainer needs. */
export interface DetachContainerOptions {
  /** The container's network namespace. */
  netns: string;
  /** Addresses to remove; default all of ethwe's. */
  cidr?: string | readonly string[];
}

/** The result of detachContainer. */
export interface ContainerDetachment {
  /** Addresses that were removed. */
  removed: string[];
  /** Whether ethwe (and with it the host-side veth) was deleted because no address was left. */
  interfaceDeleted: boolean;
}

/**
 * Removes addresses from the container's ethwe (`weave detach`); once none is left the veth pair is
 * deleted as well. A container without ethwe is left alone (nothing removed).
 */
export async function detachContainer(options: DetachContainerOptions): Promise<ContainerDetachment> {
  const inContainer = { netns: options.netns };
  if (!(await linkExists(CONTAINER_IF_NAME, inContainer))) return { removed: [], interfaceDeleted: false };
  const present = await listAddresses(CONTAINER_IF_NAME, inContainer);
  const wanted =
    options.cidr === undefined
      ? present
      : typeof options.cidr === 'string'
        ? [options.cidr]
        : [...options.cidr];
  const removed: string[] = [];
  for (const cidr of wanted) {
    if (!present.includes(cidr)) continue;
    await deleteAddress(CONTAINER_IF_NAME, cidr, inContainer);
    removed.push(cidr);
  }
  const left = await listAddresses(CONTAINER_IF_NAME, inContainer);
  if (left.length > 0) return { removed, interfaceDeleted: false };
  await deleteLink(CONTAINER_IF_NAME, { ...inContainer, ifExists: true });
  return { removed, interfaceDeleted: true };
}

/** The ARP cache tuning upstream applies to ethwe (net/arp.go ConfigureARPCache). */
function arpCacheSettings(ifName: string): Record<string, string> {
  return {
    [`net/ipv4/neigh/${ifName}/base_reachable_time`]: '5',
    [`net/ipv4/neigh/${ifName}/delay_first_probe_time`]: '2',
    [`net/ipv4/neigh/${ifName}/ucast_solicit`]: '1',
    [`net/ipv4/conf/${ifName}/arp_accept`]: '1',
  };
}

/** Temporary name of the container end before it moves (upstream: vethwepl<id> ↔ vethwepg<id>). */
function guestNameFor(hostIfName: string): string {
  if (hostIfName.startsWith('vethwepl')) return `vethwepg${hostIfName.slice(8)}`;
  return `${hostIfName.slice(0, MAX_IFNAME_LENGTH - 2)}-g`;
}
