import { join } from 'node:path';
import type { DockerPeer } from './docker-peer.js';
import type { EndpointLinks } from './endpoint-links.js';
import { WeaveIpamDriver } from './ipam-driver.js';
import { type NetworkInfo, WeaveNetworkDriver } from './network-driver.js';
import { DEFAULT_PLUGIN_DIR, PluginServer } from './plugin-server.js';

/**
 * Weave's Docker plugin: the network driver and the IPAM driver, each on its own socket in the engine's
 * plugin directory, where Docker discovers them by name:
 *
 *   /run/docker/plugins/weave.sock      Plugin.Activate → NetworkDriver, NetworkDriver.*
 *   /run/docker/plugins/weavemesh.sock  Plugin.Activate → IpamDriver,    IpamDriver.*
 */

/** Default network driver name (`docker network create --driver weave`). */
export const DEFAULT_NETWORK_DRIVER_NAME = 'weave';
/** Default IPAM driver name (`--ipam-driver weavemesh`). */
export const DEFAULT_IPAM_DRIVER_NAME = 'weavemesh';

/** What {@link DockerPlugin} needs. */
export interface DockerPluginOptions {
  peer: DockerPeer;
  /** Kernel side of endpoints. */
  links: EndpointLinks;
  /** Socket directory; default `/run/docker/plugins`. */
  pluginDir?: string;
  /** Network driver name; default `weave`. */
  networkDriverName?: string;
  /** IPAM driver name; default `weavemesh`. */
  ipamDriverName?: string;
  /** Bridge endpoints attach to; default the peer's bridge, else `weave`. */
  bridge?: string;
  /** Asks the engine about networks created before we started. */
  lookupNetwork?: (networkId: string) => Promise<NetworkInfo | undefined>;
  /** Multicast route for networks without `works.weave.multicast` (`--plugin-v2-multicast`). */
  multicastDefault?: boolean;
  /** Failed requests are logged here. */
  onError?: (driver: string, method: string, error: Error) => void;
}

/** The two plugin sockets; `start()` listens, `stop()` removes the sockets. */
export class DockerPlugin {
  readonly networkDriver: WeaveNetworkDriver;
  readonly ipamDriver: WeaveIpamDriver;
  readonly networkDriverName: string;
  readonly ipamDriverName: string;
  readonly networkServer: PluginServer;
  readonly ipamServer: PluginServer;

  constructor(options: DockerPluginOptions) {
    const dir = options.pluginDir ?? DEFAULT_PLUGIN_DIR;
    this.networkDriverName = options.networkDriverName ?? DEFAULT_NETWORK_DRIVER_NAME;
    this.ipamDriverName = options.ipamDriverName ?? DEFAULT_IPAM_DRIVER_NAME;
    this.networkDriver = new WeaveNetworkDriver({
      name: this.networkDriverName,
      bridge: options.bridge ?? options.peer.datapath.bridge ?? 'weave',
      mtu: options.peer.datapath.mtu,
      links: options.links,
      lookupNetwork: options.lookupNetwork,
      multicastDefault: options.multicastDefault,
    });
    this.ipamDriver = new WeaveIpamDriver({ peer: options.peer });
    this.networkServer = new PluginServer({
      socketPath: join(dir, `${this.networkDriverName}.sock`),
      handlers: {
        '/Plugin.Activate': () => ({ Implements: ['NetworkDriver'] }),
        ...this.networkDriver.handlers(),
      },
      onError: (method, err) => options.onError?.(this.networkDriverName, method, err),
    });
    this.ipamServer = new PluginServer({
      socketPath: join(dir, `${this.ipamDriverName}.sock`),
      handlers: {
        '/Plugin.Activate': () => ({ Implements: ['IpamDriver'] }),
        ...this.ipamDriver.handlers(),
      },
      onError: (method, err) => options.onError?.(this.ipamDriverName, method, err),
    });
  }

  /** Listens on both sockets. */
  async start(): Promise<void> {
    await this.networkServer.start();
    try {
      await this.ipamServer.start();
    } catch (err) {
      await this.networkServer.stop();
      throw err;
    }
  }

  /** Closes both sockets and removes their files. */
  async stop(): Promise<void> {
    await Promise.all([this.networkServer.stop(), this.ipamServer.stop()]);
  }
}
