import Docker from 'dockerode';

/**
 * The Docker Engine API client (dockerode) for an engine address as `-H`/`DOCKER_HOST` write it:
 * `unix:///var/run/docker.sock`, a bare socket path, or `tcp://host:port`.
 */

/** The engine socket used when neither `-H` nor `DOCKER_HOST` says otherwise. */
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** The engine does not answer (upstream's script shows the docker CLI's words). */
export class DockerEngineUnreachableError extends Error {
  /** The error's stable name: `'DockerEngineUnreachableError'`. */
  override name = 'DockerEngineUnreachableError';
  constructor(
    /** The address that did not answer. */
    readonly dockerHost: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot connect to the Docker daemon at ${dockerHost}. Is the docker daemon running?`, options);
  }
}

/** A malformed `-H`/`DOCKER_HOST` value. */
export class InvalidDockerHostError extends Error {
  /** The error's stable name: `'InvalidDockerHostError'`. */
  override name = 'InvalidDockerHostError';
  constructor(
    /** The value as given. */
    readonly dockerHost: string,
  ) {
    super(`unable to parse docker host \`${dockerHost}\``);
  }
}

/** Where to reach an engine: a unix socket or a TCP address. */
export type DockerEndpoint = { socketPath: string } | { host: string; port: number };

/** Parses `unix:///path`, `/path`, `tcp://host:port` (port default 2375). */
export function parseDockerHost(dockerHost: string): DockerEndpoint {
  if (dockerHost.startsWith('unix://')) {
    const socketPath = dockerHost.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new InvalidDockerHostError(dockerHost);
    return { socketPath };
  }
  if (dockerHost.startsWith('/')) return { socketPath: dockerHost };
  const m = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(dockerHost);
  if (!m) throw new InvalidDockerHostError(dockerHost);
  const port = m[2] === undefined ? 2375 : Number(m[2]);
  if (port < 1 || port > 65535) throw new InvalidDockerHostError(dockerHost);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

/** The engine address in effect: the argument, else `DOCKER_HOST`, else the default socket. */
export function resolveDockerHost(dockerHost?: string, env: NodeJS.ProcessEnv = process.env): string {
  return dockerHost || env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
}

/** A dockerode client for the engine at `dockerHost` (see {@link resolveDockerHost}). */
export function createDockerClient(dockerHost?: string): Docker {
  const endpoint = parseDockerHost(resolveDockerHost(dockerHost));
  return 'socketPath' in endpoint
    ? new Docker({ socketPath: endpoint.socketPath })
    : new Docker({ host: endpoint.host, port: endpoint.port, protocol: 'http' });
}

/** Resolves when the engine answers `/_ping`; rejects with {@link DockerEngineUnreachableError}. */
export async function pingEngine(docker: Docker, dockerHost: string): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new DockerEngineUnreachableError(dockerHost, { cause: err });
  }
}
