import type { Logger, StatusSection } from '@weave-ts/core';
import { type Clock, silentLogger } from '@weave-ts/core';
import type Docker from 'dockerode';
import { ContainerDeathWatcher } from './container-death.js';
import { ContainerEventFollower } from './container-events.js';
import { createDockerClient, pingEngine, resolveDockerHost } from './docker-client.js';
import { type DockerPeer, dnsDomainOf } from './docker-peer.js';
import { DockerPlugin } from './docker-plugin.js';
import { containerDnsResolver } from './dns-resolver-address.js';
import { kernelEndpointLinks } from './endpoint-links.js';
import { PluginDnsRegistrar } from './plugin-dns.js';
import { DockerProxy } from './proxy/docker-proxy.js';
import { ProxyAttacher } from './proxy/proxy-attacher.js';

/**
 * Everything weave does with a Docker engine, behind one call the daemon makes:
 *
 *   startDockerIntegration({ peer, dockerHost, plugin, proxy })
 *     ├─ ContainerEventFollower (engine events) ─┬─ ContainerDeathWatcher (die/destroy → DNS, IPAM)
 *     │                                          ├─ PluginDnsRegistrar (names of --net=weave containers)
 *     │                                          └─ ProxyAttacher (re-attach proxied containers on start)
 *     ├─ DockerPlugin: network driver `weave` + IPAM driver `weavemesh` sockets
 *     └─ DockerProxy: the Docker API proxy (`weave env`)
 *   → { stop(), statusSections(), report(), proxyAddresses }
 */

/** Default proxy socket (what `weave env` points DOCKER_HOST at). */
export const DEFAULT_PROXY_SOCKET = 'unix:///var/run/weave/weave.sock';

/** The plugin part of {@link DockerIntegrationOptions}. */
export interface DockerPluginSettings {
  /** Network driver socket; default /run/docker/plugins/weave.sock (the driver name is its base name). */
  socket?: string;
  /** IPAM driver socket; default /run/docker/plugins/weavemesh.sock. */
  meshSocket?: string;
  /** `legacy` for `--plugin` (default), `v2` for `--plugin-v2`: how `weave status` names it. */
  version?: 'legacy' | 'v2';
  /** Give every plugin network the 224.0.0.0/4 route (`--plugin-v2-multicast`). */
  multicast?: boolean;
}

/** The proxy part of {@link DockerIntegrationOptions}. */
export interface DockerProxySettings {
  /** Listen addresses; default [`unix:///var/run/weave/weave.sock`]. */
  listen?: readonly string[];
  /** Attach containers without WEAVE_CIDR (default true; upstream's `--no-default-ipalloc` = false). */
  defaultAttach?: boolean;
  /** Skip weaveDNS settings and registration. */
  withoutDns?: boolean;
  /** The resolver containers get; default weaveDNS's address, else docker0's, else the bridge's. */
  dnsResolver?: string;
  /** `--hostname-match`: a regular expression over the container name (default the whole name). */
  hostnameMatch?: string;
  /** `--hostname-replacement` for the match (default `$1`). */
  hostnameReplacement?: string;
}

/** Options of {@link startDockerIntegration}. */
export interface DockerIntegrationOptions {
  /** The peer whose IPAM, weaveDNS and bridge containers use. */
  peer: DockerPeer;
  /** Engine address (`-H`/`DOCKER_HOST` form); default `DOCKER_HOST`, else /var/run/docker.sock. */
  dockerHost?: string;
  /** The Docker plugin; off when false/absent. */
  plugin?: false | DockerPluginSettings;
  /** The Docker API proxy; off when false/absent. */
  proxy?: false | DockerProxySettings;
  /** Route 224.0.0.0/4 via ethwe on attach (default true). */
  multicastRoute?: boolean;
  /** Grace before a dead container's addresses are freed (default 30 s). */
  containerDiedGraceMs?: number;
  /** Named netns of the bridge and the engine, when not ours (tests). */
  netns?: string;
  /** Timers of the death grace (tests inject a virtual clock). */
  clock?: Clock;
  /** Where plugin/proxy/event problems are logged. */
  logger?: Logger;
}

/** A running integration. */
export interface DockerIntegration {
  /** The Engine API client (dockerode). */
  readonly docker: Docker;
  /** The engine address in use. */
  readonly dockerHost: string;
  /** Where the proxy listens (`GET /proxyaddrs`). */
  readonly proxyAddresses: string[];
  /** `Service: proxy` / `Service: plugin (…)` blocks for `weave status`. */
  statusSections(): StatusSection[];
  /** `/report` fields: `Proxy`, `Plugin` (only those running). */
  report(): Record<string, unknown>;
  /** Stops everything (sockets removed, event stream closed, pending releases dropped). */
  stop(): Promise<void>;
}

/** Connects to the engine and starts what the options ask for. @throws DockerEngineUnreachableError */
export async function startDockerIntegration(options: DockerIntegrationOptions): Promise<DockerIntegration> {
  const logger = options.logger ?? silentLogger;
  const { peer } = options;
  const dockerHost = resolveDockerHost(options.dockerHost);
  const docker = createDockerClient(dockerHost);
  await pingEngine(docker, dockerHost);

  const events = new ContainerEventFollower({ docker });
  events.on('error', (err) => logger.warn(`[docker] event stream: ${err.message}; reconnecting`));
  const deaths = new ContainerDeathWatcher({
    peer,
    events,
    graceMs: options.containerDiedGraceMs,
    clock: options.clock,
    logger,
  });
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) {
      try {
        await s();
      } catch (err) {
        logger.warn(`[docker] stopping: ${(err as Error).message}`);
      }
    }
  };

  let plugin: DockerPlugin | undefined;
  let proxy: DockerProxy | undefined;
  const pluginVersion = options.plugin ? (options.plugin.version ?? 'legacy') : undefined;
  try {
    deaths.start();
    stops.push(() => deaths.stop());
    await events.start();
    stops.push(() => events.stop());

    if (options.plugin) {
      const socket = options.plugin.socket ?? '/run/docker/plugins/weave.sock';
      const meshSocket = options.plugin.meshSocket ?? '/run/docker/plugins/weavemesh.sock';
      const base = (p: string) => (p.split('/').pop() ?? p).replace(/\.sock$/, '');
      const dir = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
      if (dir(socket) !== dir(meshSocket)) throw new Error('the plugin sockets must be in one directory');
      plugin = new DockerPlugin({
        peer,
        links: kernelEndpointLinks(options.netns),
        pluginDir: dir(socket),
        networkDriverName: base(socket),
        ipamDriverName: base(meshSocket),
        multicastDefault: options.plugin.multicast,
        lookupNetwork: async (id) => {
          const info = await docker.getNetwork(id).inspect();
          return { driver: info.Driver, options: info.Options ?? {} };
        },
        onError: (driver, method, err) => logger.warn(`[${driver}] ${method}: ${err.message}`),
      });
      await plugin.start();
      const p = plugin;
      stops.push(() => p.stop());
      const registrar = new PluginDnsRegistrar({
        peer,
        docker,
        events,
        driver: plugin.networkDriver,
        logger,
      });
      registrar.start();
      stops.push(() => registrar.stop());
      logger.info(`Docker plugin listening on ${socket} and ${meshSocket}`);
    }

    if (options.proxy) {
      const proxyOptions = options.proxy;
      const attacher = new ProxyAttacher({
        peer,
        docker,
        events,
        withoutDns: proxyOptions.withoutDns,
        multicastRoute: options.multicastRoute,
        bridgeNetns: options.netns,
        logger,
      });
      attacher.start();
      stops.push(() => attacher.stop());
      const resolverFor = async () =>
        proxyOptions.withoutDns
          ? undefined
          : (proxyOptions.dnsResolver ?? (await containerDnsResolver(peer, { netns: options.netns })));
      let warnedNoResolver = false;
      const match =
        proxyOptions.hostnameMatch === undefined ? undefined : new RegExp(proxyOptions.hostnameMatch);
      proxy = new DockerProxy({
        dockerHost,
        docker,
        listen: proxyOptions.listen ?? [DEFAULT_PROXY_SOCKET],
        attacher,
        rewrite: async () => {
          const resolver = await resolverFor();
          const domain = proxyOptions.withoutDns ? undefined : dnsDomainOf(peer);
          if (
            (resolver === undefined || domain === undefined) &&
            !proxyOptions.withoutDns &&
            !warnedNoResolver
          ) {
            warnedNoResolver = true;
            const a = peer.dns.address();
            logger.warn(
              `[proxy] no weaveDNS address containers can reach (DNS ${a ? `listens on ${a.host}:${a.port}` : 'is off'}); containers keep the engine's resolver`,
            );
          }
          return {
            dns: resolver !== undefined && domain !== undefined ? { resolver, domain } : undefined,
            defaultAttach: proxyOptions.defaultAttach ?? true,
            multicastRoute: options.multicastRoute ?? true,
            hostnameMatch: match,
            hostnameReplacement: proxyOptions.hostnameReplacement,
          };
        },
        logger,
      });
      await proxy.start();
      const px = proxy;
      stops.push(() => px.stop());
      logger.info(`Docker API proxy listening on ${proxy.addresses.join(', ')}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    docker,
    dockerHost,
    get proxyAddresses() {
      return proxy ? [...proxy.addresses] : [];
    },
    statusSections() {
      const sections: StatusSection[] = [];
      if (proxy) sections.push({ service: 'proxy', fields: [['Address', proxy.addresses.join(', ')]] });
      if (plugin) {
        sections.push({
          service: `plugin (${pluginVersion})`,
          fields: [['DriverName', plugin.networkDriverName]],
        });
      }
      return sections;
    },
    report() {
      const r: Record<string, unknown> = {};
      if (proxy) r.Proxy = { Addresses: [...proxy.addresses] };
      if (plugin) r.Plugin = { DriverName: plugin.networkDriverName, MeshDriverName: plugin.ipamDriverName };
      return r;
    },
    stop,
  };
}
