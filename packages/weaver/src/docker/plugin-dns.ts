import type { Logger } from '@weave-ts/core';
import { silentLogger } from '@weave-ts/core';
import type Docker from 'dockerode';
import type { ContainerEvent, ContainerEventFollower } from './container-events.js';
import { containerFqdn, inspectDockerContainer } from './docker-container.js';
import { type DockerPeer, dnsDomainOf } from './docker-peer.js';
import type { WeaveNetworkDriver } from './network-driver.js';

/**
 * weaveDNS names for containers on the plugin's networks (upstream's plugin watcher): when such a
 * container starts, its address on each weave network is registered under `hostname.domainname` if
 * that is set, else `<container name>.<weave domain>`. Names go when it dies (ContainerDeathWatcher).
 */
export class PluginDnsRegistrar {
  private readonly onStart = (e: ContainerEvent) => {
    void this.register(e.id).catch((err: Error) =>
      this.logger.warn(`[plugin] DNS registration of ${e.id}: ${err.message}`),
    );
  };
  private readonly logger: Logger;

  constructor(
    private readonly options: {
      peer: DockerPeer;
      docker: Docker;
      events: ContainerEventFollower;
      driver: WeaveNetworkDriver;
      logger?: Logger;
    },
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Subscribes to start events. */
  start(): void {
    this.options.events.on('start', this.onStart);
  }

  /** Unsubscribes. */
  stop(): void {
    this.options.events.off('start', this.onStart);
  }

  /** Registers one container's names now; returns the records added as `fqdn ip`. */
  async register(id: string): Promise<string[]> {
    const { peer, driver } = this.options;
    const domain = dnsDomainOf(peer);
    if (domain === undefined) return [];
    const info = await inspectDockerContainer(this.options.docker, id);
    const fqdn = containerFqdn(info) ?? `${info.name}.${domain}`;
    const added: string[] = [];
    for (const net of info.networks) {
      if (net.ip === '' || !(await driver.isOurNetwork(net.networkId))) continue;
      peer.dns.add(info.id, net.ip, fqdn);
      added.push(`${fqdn} ${net.ip}`);
    }
    return added;
  }
}
