// Public surface of the Docker integration (re-exported by @weave-ts/weaver).
export {
  startDockerIntegration,
  DEFAULT_PROXY_SOCKET,
  type DockerIntegration,
  type DockerIntegrationOptions,
} from './docker-integration.js';
export { dockerService } from './docker-service.js';
export type { DockerPeer, DockerPeerDns, DockerPeerReport } from './docker-peer.js';
export {
  createDockerClient,
  parseDockerHost,
  resolveDockerHost,
  pingEngine,
  DEFAULT_DOCKER_HOST,
  DockerEngineUnreachableError,
  InvalidDockerHostError,
  type DockerEndpoint,
} from './docker-client.js';
export {
  inspectDockerContainer,
  inspectRunningContainer,
  containerFqdn,
  DockerContainerNotFoundError,
  DockerContainerNotRunningError,
  type DockerContainerInfo,
  type DockerContainerNetwork,
} from './docker-container.js';
export {
  attachDockerContainer,
  detachDockerContainer,
  parseAddressSpecs,
  registerDns,
  InvalidAddressSpecError,
  type AddressSpec,
  type AttachDockerContainerOptions,
  type DockerAttachment,
} from './docker-attach.js';
export { withContainerNetns } from './container-netns.js';
export {
  ContainerEventFollower,
  type ContainerEvent,
  type ContainerEventFollowerEvents,
  type ContainerEventFollowerOptions,
} from './container-events.js';
export {
  ContainerDeathWatcher,
  CONTAINER_DIED_GRACE_MS,
  type ContainerDeathWatcherOptions,
} from './container-death.js';
export {
  DockerPlugin,
  DEFAULT_NETWORK_DRIVER_NAME,
  DEFAULT_IPAM_DRIVER_NAME,
  type DockerPluginOptions,
} from './docker-plugin.js';
export {
  WeaveNetworkDriver,
  MULTICAST_OPTION,
  vethNames,
  type NetworkDriverOptions,
  type NetworkInfo,
} from './network-driver.js';
export { WeaveIpamDriver, type IpamDriverOptions } from './ipam-driver.js';
export { kernelEndpointLinks, type EndpointLinks } from './endpoint-links.js';
export {
  PluginServer,
  PluginRequestError,
  PLUGIN_CONTENT_TYPE,
  DEFAULT_PLUGIN_DIR,
  type PluginHandler,
  type PluginRequest,
  type PluginServerOptions,
} from './plugin-server.js';
export { PluginDnsRegistrar } from './plugin-dns.js';
export { containerDnsResolver } from './dns-resolver-address.js';
export { DockerProxy, type DockerProxyOptions } from './proxy/docker-proxy.js';
export { ProxyAttacher } from './proxy/proxy-attacher.js';
export {
  rewriteCreateRequest,
  weaveCidrOf,
  type CreateRewriteOptions,
  type CreateRewrite,
} from './proxy/create-rewrite.js';
export { waitScript, wrapEntrypoint, isWrapped, WAIT_MARKER } from './proxy/wait-for-interface.js';
