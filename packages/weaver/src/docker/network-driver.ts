import type { EndpointLinks } from './endpoint-links.js';
import {
  optionalObject,
  optionalObjectArray,
  optionalString,
  PluginRequestError,
  type PluginHandler,
  type PluginRequest,
  requireString,
} from './plugin-server.js';

/**
 * libnetwork's remote network driver API for driver `weave`:
 *
 *   CreateNetwork ─▶ CreateEndpoint (veth vethwl<id> on the bridge) ─▶ Join (hand vethwg<id> to Docker,
 *   which moves it into the container as ethwe<N>) ─▶ Leave ─▶ DeleteEndpoint (veth deleted) ─▶ DeleteNetwork
 *
 * Requests out of that order (an endpoint of an unknown network, Join of an unknown endpoint, a second
 * Join, Leave before Join, DeleteNetwork with endpoints left) get `{"Err": …}`. A network created
 * before this daemon started is adopted by asking the engine (`lookupNetwork`), as upstream does.
 */

/** Network option switching the 224.0.0.0/4 route on (`--opt works.weave.multicast[=true]`), as upstream. */
export const MULTICAST_OPTION = 'works.weave.multicast';
/** Where Docker puts `--opt` values in CreateNetwork. */
export const GENERIC_OPTIONS = 'com.docker.network.generic';
/** libnetwork's route type for a route without next hop. */
const ROUTE_CONNECTED = 1;
/** Interface names take at most 15 bytes: `vethwl` + 9 characters of the endpoint id. */
const ENDPOINT_ID_CHARS = 9;

/** What a network looked like when created (or adopted). */
export interface NetworkInfo {
  /** The driver the engine says the network uses. */
  driver: string;
  /** Its `--opt` options. */
  options: Record<string, string>;
}

/** What a network driver needs. */
export interface NetworkDriverOptions {
  /** The driver's name (`weave`), checked when adopting networks. */
  name: string;
  /** Bridge endpoints attach to; default `weave`. */
  bridge?: string;
  /** MTU of the veths; default the bridge's. */
  mtu?: number;
  /** Kernel operations. */
  links: EndpointLinks;
  /** `local` (default) or `global` (Swarm). */
  scope?: 'local' | 'global';
  /** Asks the engine about a network this driver has not seen created. */
  lookupNetwork?: (networkId: string) => Promise<NetworkInfo | undefined>;
  /** Multicast route for networks without the option (`--plugin-v2-multicast`); default false. */
  multicastDefault?: boolean;
}

interface Endpoint {
  hostIfName: string;
  guestIfName: string;
  joined: boolean;
}

interface Network {
  multicastRoute: boolean;
  endpoints: Map<string, Endpoint>;
}

/** The `weave` network driver's request handlers and state. */
export class WeaveNetworkDriver {
  private readonly networks = new Map<string, Network>();
  private readonly options: NetworkDriverOptions;

  constructor(options: NetworkDriverOptions) {
    this.options = options;
  }

  /** The handlers, by path. */
  handlers(): Record<string, PluginHandler> {
    const ok = () => ({});
    return {
      '/NetworkDriver.GetCapabilities': () => ({
        Scope: this.options.scope ?? 'local',
        ConnectivityScope: this.options.scope ?? 'local',
      }),
      '/NetworkDriver.CreateNetwork': (r) => this.createNetwork(r),
      '/NetworkDriver.DeleteNetwork': (r) => this.deleteNetwork(r),
      '/NetworkDriver.AllocateNetwork': (r) => ({ Options: optionalObject(r, 'Options') }),
      '/NetworkDriver.FreeNetwork': (r) => {
        requireString(r, 'NetworkID');
        return {};
      },
      '/NetworkDriver.CreateEndpoint': (r) => this.createEndpoint(r),
      '/NetworkDriver.EndpointOperInfo': (r) => this.endpointOperInfo(r),
      '/NetworkDriver.DeleteEndpoint': (r) => this.deleteEndpoint(r),
      '/NetworkDriver.Join': (r) => this.join(r),
      '/NetworkDriver.Leave': (r) => this.leave(r),
      '/NetworkDriver.DiscoverNew': requireDiscovery,
      '/NetworkDriver.DiscoverDelete': requireDiscovery,
      '/NetworkDriver.ProgramExternalConnectivity': (r) => this.endpointRequest(r).then(ok),
      '/NetworkDriver.RevokeExternalConnectivity': (r) => this.endpointRequest(r).then(ok),
    };
  }

  /** Network IDs known now. */
  get networkIds(): string[] {
    return [...this.networks.keys()];
  }

  /** Whether `networkId` is one of ours (known, or adoptable from the engine). */
  async isOurNetwork(networkId: string): Promise<boolean> {
    return (await this.findNetwork(networkId).catch(() => undefined)) !== undefined;
  }

  private createNetwork(request: PluginRequest): unknown {
    const id = requireString(request, 'NetworkID');
    const options = optionalObject(request, 'Options');
    optionalObjectArray(request, 'IPv4Data');
    if (optionalObjectArray(request, 'IPv6Data').length > 0) {
      throw new PluginRequestError('the weave network driver does not support IPv6');
    }
    const generic = options[GENERIC_OPTIONS];
    const network = newNetwork(stringValues(generic), this.options.multicastDefault);
    const existing = this.networks.get(id);
    if (existing) {
      existing.multicastRoute = network.multicastRoute;
      return {};
    }
    this.networks.set(id, network);
    return {};
  }

  private deleteNetwork(request: PluginRequest): unknown {
    const id = requireString(request, 'NetworkID');
    const network = this.networks.get(id);
    if (!network) throw new PluginRequestError(`network ${id} not found`);
    if (network.endpoints.size > 0) {
      throw new PluginRequestError(`network ${id} has active endpoints`);
    }
    this.networks.delete(id);
    return {};
  }

  private async createEndpoint(request: PluginRequest): Promise<unknown> {
    const { network, endpointId } = await this.endpointRequest(request);
    optionalObject(request, 'Options');
    const iface = request.Interface;
    if (iface === undefined || iface === null) {
      throw new PluginRequestError('Not supported: creating an interface from within CreateEndpoint');
    }
    const ifaceFields = optionalObject(request, 'Interface');
    const requestedMac = optionalString(ifaceFields, 'MacAddress');
    if (network.endpoints.has(endpointId))
      throw new PluginRequestError(`endpoint ${endpointId} already exists`);
    const [hostIfName, guestIfName] = vethNames(endpointId);
    const endpoint: Endpoint = { hostIfName, guestIfName, joined: false };
    network.endpoints.set(endpointId, endpoint);
    let mac: string | undefined;
    try {
      mac = await this.options.links.create(hostIfName, guestIfName, this.bridge, this.options.mtu);
    } catch (err) {
      network.endpoints.delete(endpointId);
      throw new PluginRequestError(`unable to create the endpoint's veth: ${(err as Error).message}`);
    }
    return requestedMac === undefined && mac !== undefined ? { Interface: { MacAddress: mac } } : {};
  }

  private async endpointOperInfo(request: PluginRequest): Promise<unknown> {
    const { endpoint } = await this.existingEndpoint(request);
    return { Value: { hostInterface: endpoint.hostIfName, joined: endpoint.joined } };
  }

  private async deleteEndpoint(request: PluginRequest): Promise<unknown> {
    const { network, endpointId, endpoint } = await this.existingEndpoint(request);
    network.endpoints.delete(endpointId);
    await this.options.links.delete(endpoint.hostIfName).catch(() => {});
    return {};
  }

  private async join(request: PluginRequest): Promise<unknown> {
    const { network, endpoint } = await this.existingEndpoint(request);
    requireString(request, 'SandboxKey');
    optionalObject(request, 'Options');
    if (endpoint.joined) throw new PluginRequestError('endpoint already joined a sandbox');
    endpoint.joined = true;
    const response: Record<string, unknown> = {
      InterfaceName: { SrcName: endpoint.guestIfName, DstPrefix: 'ethwe' },
    };
    if (network.multicastRoute) {
      response.StaticRoutes = [{ Destination: '224.0.0.0/4', RouteType: ROUTE_CONNECTED }];
    }
    return response;
  }

  private async leave(request: PluginRequest): Promise<unknown> {
    const { endpoint } = await this.existingEndpoint(request);
    if (!endpoint.joined) throw new PluginRequestError('endpoint has not joined a sandbox');
    endpoint.joined = false;
    return {};
  }

  private get bridge(): string {
    return this.options.bridge ?? 'weave';
  }

  private async endpointRequest(
    request: PluginRequest,
  ): Promise<{ network: Network; networkId: string; endpointId: string }> {
    const networkId = requireString(request, 'NetworkID');
    const endpointId = requireString(request, 'EndpointID');
    if (!/^[0-9A-Za-z_.-]+$/.test(endpointId)) {
      throw new PluginRequestError(
        'malformed request: EndpointID has characters outside [0-9A-Za-z_.-]',
        400,
      );
    }
    const network = await this.findNetwork(networkId);
    if (!network) throw new PluginRequestError(`network ${networkId} not found`);
    return { network, networkId, endpointId };
  }

  private async existingEndpoint(request: PluginRequest) {
    const found = await this.endpointRequest(request);
    const endpoint = found.network.endpoints.get(found.endpointId);
    if (!endpoint) throw new PluginRequestError(`endpoint ${found.endpointId} not found`);
    return { ...found, endpoint };
  }

  private async findNetwork(id: string): Promise<Network | undefined> {
    const known = this.networks.get(id);
    if (known || !this.options.lookupNetwork) return known;
    const info = await this.options.lookupNetwork(id).catch(() => undefined);
    if (!info || info.driver !== this.options.name) return undefined;
    const adopted = this.networks.get(id) ?? newNetwork(info.options, this.options.multicastDefault);
    this.networks.set(id, adopted);
    return adopted;
  }
}

function newNetwork(options: Record<string, string>, multicastDefault = false): Network {
  let multicastRoute = multicastDefault;
  const value = options[MULTICAST_OPTION];
  if (value !== undefined) {
    if (value === '' || /^(1|t|true)$/i.test(value)) multicastRoute = true;
    else if (/^(0|f|false)$/i.test(value)) multicastRoute = false;
    else throw new PluginRequestError(`unrecognized value "${value}" for option ${MULTICAST_OPTION}`);
  }
  return { multicastRoute, endpoints: new Map() };
}

function stringValues(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

function requireDiscovery(request: PluginRequest): unknown {
  if (typeof request.DiscoveryType !== 'number') {
    throw new PluginRequestError('malformed request: DiscoveryType must be a number', 400);
  }
  return {};
}

/** Host and guest veth names of an endpoint (`vethwl<id9>`, `vethwg<id9>`). */
export function vethNames(endpointId: string): [string, string] {
  const short = endpointId.slice(0, ENDPOINT_ID_CHARS);
  return [`vethwl${short}`, `vethwg${short}`];
}
