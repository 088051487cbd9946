import {
  cidrStart,
  formatAddress,
  formatCIDR,
  parseAddress,
  parseCIDR,
  parseSubnet,
  type CIDR,
} from '@weave-ts/ipam';
import { type DockerPeer, defaultSubnetOf } from './docker-peer.js';
import {
  optionalObject,
  optionalString,
  PluginRequestError,
  type PluginHandler,
  type PluginRequest,
  requireString,
} from './plugin-server.js';

/**
 * libnetwork's remote IPAM driver API served from the mesh's IPAM (driver `weavemesh`):
 *
 *   RequestPool(pool?, subPool?)  → PoolID `weave-<subnet>-<range>` (pool '' = the default subnet)
 *   RequestAddress(PoolID, addr?) → an address of the range with the subnet's prefix length
 *   ReleaseAddress(PoolID, addr)  → back to the mesh
 *
 * As upstream, RequestPool hands Docker the subnet's network address as the (unused) gateway, so
 * Docker does not take a gateway address from the pool. Pool IDs carry everything a later request
 * needs, so requests keep working across a daemon restart.
 *
 * Each address is held in the mesh under its own IPAM key `_<n>` (base 36). Keys already holding an
 * address (persisted by an earlier run of the daemon) are skipped, so a new key never inherits an old
 * address. ReleaseAddress of an address this run did not hand out asks the peer's persisted IPAM
 * state who holds it and frees it there when the holder is one of our keys; an address nobody holds
 * is released as a no-op (`{}`), as Docker expects.
 */

/** Docker's option key telling that a RequestAddress is for the network's gateway. */
export const REQUEST_ADDRESS_TYPE = 'RequestAddressType';
/** Docker's option value/data key for gateways. */
export const GATEWAY_LABEL = 'com.docker.network.gateway';

/** What an IPAM driver needs. */
export interface IpamDriverOptions {
  peer: DockerPeer;
}

/** A parsed pool ID. */
interface Pool {
  subnet: CIDR;
  range: CIDR;
}

/** The `weavemesh` IPAM driver's request handlers (paths as Docker calls them). */
export class WeaveIpamDriver {
  private readonly peer: DockerPeer;
  /** Which IPAM ident holds each address handed to Docker. */
  private readonly holders = new Map<string, string>();
  private sequence = 0;

  constructor(options: IpamDriverOptions) {
    this.peer = options.peer;
  }

  /** The handlers, by path. */
  handlers(): Record<string, PluginHandler> {
    return {
      '/IpamDriver.GetCapabilities': () => ({ RequiresMACAddress: false, RequiresRequestReplay: false }),
      '/IpamDriver.GetDefaultAddressSpaces': () => ({
        LocalDefaultAddressSpace: 'weavelocal',
        GlobalDefaultAddressSpace: 'weaveglobal',
      }),
      '/IpamDriver.RequestPool': (r) => this.requestPool(r),
      '/IpamDriver.ReleasePool': (r) => this.releasePool(r),
      '/IpamDriver.RequestAddress': (r) => this.requestAddress(r),
      '/IpamDriver.ReleaseAddress': (r) => this.releaseAddress(r),
    };
  }

  /** Addresses handed to Docker and not released yet. */
  get addressesInUse(): string[] {
    return [...this.holders.keys()];
  }

  private requestPool(request: PluginRequest): unknown {
    if (request.V6 === true) throw new PluginRequestError('weavemesh does not allocate IPv6 addresses');
    const pool = optionalString(request, 'Pool');
    const subPool = optionalString(request, 'SubPool');
    optionalObject(request, 'Options');
    let subnet: CIDR;
    if (pool === undefined) {
      const dflt = defaultSubnetOf(this.peer);
      if (dflt === undefined) throw new PluginRequestError('IPAM is disabled on this weave peer');
      subnet = parseSubnetLoosely(dflt, 'default subnet');
    } else {
      subnet = parseSubnetLoosely(pool, 'Pool');
    }
    let range = subnet;
    if (subPool !== undefined) {
      range = parseSubnetLoosely(subPool, 'SubPool');
      if (range.prefixLen < subnet.prefixLen || !sameNetwork(range, subnet)) {
        throw new PluginRequestError(`SubPool ${subPool} is not inside Pool ${formatCIDR(subnet)}`);
      }
    }
    const poolId = `weave-${formatCIDR(subnet)}-${formatCIDR(range)}`;
    return { PoolID: poolId, Pool: formatCIDR(subnet), Data: { [GATEWAY_LABEL]: formatCIDR(subnet) } };
  }

  private releasePool(request: PluginRequest): unknown {
    parsePoolId(requireString(request, 'PoolID'));
    return {};
  }

  private async requestAddress(request: PluginRequest): Promise<unknown> {
    const pool = parsePoolId(requireString(request, 'PoolID'));
    const wanted = optionalString(request, 'Address');
    const options = optionalObject(request, 'Options');
    const ident = this.nextIdent();
    let address: string;
    try {
      if (wanted !== undefined) {
        let addr: number;
        try {
          addr = parseAddress(wanted);
        } catch {
          throw new PluginRequestError(`malformed request: Address ${wanted} is not an IPv4 address`, 400);
        }
        if (!sameNetwork({ addr, prefixLen: pool.subnet.prefixLen }, pool.subnet)) {
          throw new PluginRequestError(`address ${wanted} is not in pool ${formatCIDR(pool.subnet)}`);
        }
        if (this.holders.has(wanted)) throw new PluginRequestError(`address ${wanted} is already in use`);
        await this.peer.claim(ident, `${wanted}/${pool.subnet.prefixLen}`);
        address = formatAddress(addr);
      } else {
        const cidr = await this.peer.allocate(ident, { subnet: formatCIDR(pool.range) });
        address = cidr.split('/')[0] ?? cidr;
      }
    } catch (err) {
      if (err instanceof PluginRequestError) throw err;
      throw new PluginRequestError((err as Error).message);
    }
    this.holders.set(address, ident);
    const data = options[REQUEST_ADDRESS_TYPE] === GATEWAY_LABEL ? { [GATEWAY_LABEL]: address } : {};
    return { Address: `${address}/${pool.subnet.prefixLen}`, Data: data };
  }

  private releaseAddress(request: PluginRequest): unknown {
    const pool = parsePoolId(requireString(request, 'PoolID'));
    const address = requireString(request, 'Address');
    let addr: number;
    try {
      addr = parseAddress(address);
    } catch {
      throw new PluginRequestError(`malformed request: Address ${address} is not an IPv4 address`, 400);
    }
    // Unknown addresses (also the gateway RequestPool reported, which is never allocated) release as {}.
    const inPool = sameNetwork({ addr, prefixLen: pool.subnet.prefixLen }, pool.subnet);
    const ident = this.holders.get(address) ?? (inPool ? this.persistedHolder(address) : undefined);
    if (ident === undefined) return {};
    try {
      this.peer.release(ident, address);
    } catch (err) {
      throw new PluginRequestError((err as Error).message);
    }
    this.holders.delete(address);
    return {};
  }

  /** A fresh IPAM key: `_<n>`, skipping keys in use now or holding addresses from an earlier run. */
  private nextIdent(): string {
    const inUse = new Set(this.holders.values());
    for (;;) {
      const ident = `${IDENT_PREFIX}${(++this.sequence).toString(36)}`;
      if (inUse.has(ident)) continue;
      try {
        if (this.peer.addressesOf(ident).length > 0) continue;
      } catch {
        // IPAM disabled: the allocate/claim that follows reports it.
      }
      return ident;
    }
  }

  /** Which of our keys holds `address` in the peer's persisted IPAM state (after a restart), if any. */
  private persistedHolder(address: string): string | undefined {
    let owner: string | undefined;
    try {
      owner = this.peer.ipam?.ownerOf(address);
    } catch {
      return undefined;
    }
    return owner !== undefined && isDriverIdent(owner) ? owner : undefined;
  }
}

/** The first character of the IPAM keys this driver allocates under. */
const IDENT_PREFIX = '_';

/** Whether an IPAM key is one of this driver's (`_<base36>`), not a container's or `weave:expose`. */
function isDriverIdent(ident: string): boolean {
  return /^_[0-9a-z]+$/.test(ident);
}

/** Parses `weave-<subnet>-<range>`. */
function parsePoolId(poolId: string): Pool {
  const parts = poolId.split('-');
  if (parts.length !== 3 || parts[0] !== 'weave') {
    throw new PluginRequestError(`Unrecognized pool ID: ${poolId}`);
  }
  try {
    const subnet = parseSubnet(parts[1] ?? '');
    const range = parseSubnet(parts[2] ?? '');
    return { subnet, range };
  } catch {
    throw new PluginRequestError(`Unrecognized pool ID: ${poolId}`);
  }
}

/** A subnet as Docker may write it (host bits are dropped, as Go's ParseCIDR does). */
function parseSubnetLoosely(text: string, field: string): CIDR {
  let cidr: CIDR;
  try {
    cidr = parseCIDR(text);
  } catch {
    throw new PluginRequestError(`malformed request: ${field} ${text} is not an IPv4 CIDR`, 400);
  }
  const masked = { addr: cidrStart(cidr), prefixLen: cidr.prefixLen };
  try {
    return parseSubnet(formatCIDR(masked));
  } catch (err) {
    throw new PluginRequestError(`${field} ${text}: ${(err as Error).message}`);
  }
}

function sameNetwork(a: CIDR, subnet: CIDR): boolean {
  return cidrStart({ addr: a.addr, prefixLen: subnet.prefixLen }) === subnet.addr;
}
