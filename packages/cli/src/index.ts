// Public surface of @weave-ts/cli: the `weave` command as a function, and its extension seams.
export { runWeave, processIO } from './main.js';
export {
  CliContext,
  type CliIO,
  DEFAULT_HTTP_ADDR,
  NOT_PRESENT_MESSAGE,
  NOT_RUNNING_MESSAGE,
} from './context.js';
export { CliExit, UsageError } from './errors.js';
export { registerVerb, findVerb, verbNames, type Verb, type VerbLoader } from './verbs.js';
export {
  type ContainerRef,
  type ContainerResolver,
  type ContainerResolverSource,
  registerContainerResolver,
  containerResolvers,
  findContainer,
  listContainers,
  netnsResolver,
  withNetnsName,
  vethId,
  containerFqdn,
  noSuchContainerMessage,
} from './container-ref.js';
export { collectCidrArgs, collectIpArgs, ipamCidrs, showAddrs, type IpamCidrs } from './addr-args.js';
export { httpCall, HttpConnectError, type HttpCallOptions, type HttpResponse } from './http-client.js';
export { statePaths, stateDir, type StatePaths, DEFAULT_STATE_DIR } from './state-dir.js';
export { daemonState, weaverCommand, type DaemonState, type WeaverCommand } from './daemon.js';
export { USAGE } from './usage.js';
