// Public surface of the Docker integration (re-exported by @weave-ts/weaver).
export {
  startDockerIntegration,
  DEFAULT_PROXY_SOCKET,
  type DockerIntegration,
  type DockerIntegrationOptions,
  type DockerPluginSettings,
  type DockerProxySettings,
} from './docker-integration.js';
export { dockerService } from './docker-service.js';
export type {
  DockerPeer,
  DockerPeerDns,
  DockerPeerIpam,
  DockerPeerReport,
  DnsListenAddress,
} from './docker-peer.js';
export { DockerEngineUnreachableError, InvalidDockerHostError } from './docker-client.js';
export { DockerContainerNotFoundError, DockerContainerNotRunningError } from './docker-container.js';
export { InvalidAddressSpecError } from './docker-attach.js';
export { CONTAINER_DIED_GRACE_MS } from './container-death.js';
