import type Docker from 'dockerode';

/**
 * Looking up a Docker container by id, id prefix or name: what weave needs to attach it (its full id,
 * pid and so its network namespace, hostname for DNS, labels, env, networks).
 */

/** No container by that reference (Docker's own words). */
export class DockerContainerNotFoundError extends Error {
  /** The error's stable name: `'DockerContainerNotFoundError'`. */
  override name = 'DockerContainerNotFoundError';
  constructor(
    /** The id or name as given. */
    readonly ref: string,
  ) {
    super(`Error: No such container: ${ref}`);
  }
}

/** The container exists but does not run (upstream's script text). */
export class DockerContainerNotRunningError extends Error {
  /** The error's stable name: `'DockerContainerNotRunningError'`. */
  override name = 'DockerContainerNotRunningError';
  constructor(
    /** The id or name as given. */
    readonly ref: string,
  ) {
    super(`${ref} container is not running.`);
  }
}

/** One network a container is connected to. */
export interface DockerContainerNetwork {
  name: string;
  networkId: string;
  ip: string;
  prefixLen: number;
  mac: string;
}

/** What weave needs to know about a container. */
export interface DockerContainerInfo {
  /** Full 64-hex id (weave's IPAM and DNS key). */
  id: string;
  /** Name without the leading `/`. */
  name: string;
  running: boolean;
  /** Pid of its init process (0 when not running). */
  pid: number;
  /** `/proc/<pid>/ns/net` while running. */
  netnsPath: string | undefined;
  hostname: string;
  domainname: string;
  labels: Record<string, string>;
  /** Its environment as a map (later duplicates win). */
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  /** `default`, `none`, `host`, `container:<id>`, or a network name. */
  networkMode: string;
  networks: DockerContainerNetwork[];
}

/** Inspects a container; rejects with {@link DockerContainerNotFoundError} when there is none. */
export async function inspectDockerContainer(docker: Docker, ref: string): Promise<DockerContainerInfo> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await docker.getContainer(ref).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) throw new DockerContainerNotFoundError(ref);
    throw err;
  }
  const env: Record<string, string> = {};
  for (const kv of info.Config.Env ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const networks = Object.entries(info.NetworkSettings?.Networks ?? {}).map(([name, n]) => ({
    name,
    networkId: n.NetworkID,
    ip: n.IPAddress,
    prefixLen: n.IPPrefixLen,
    mac: n.MacAddress,
  }));
  const running = info.State.Running === true;
  const pid = running ? info.State.Pid : 0;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    running,
    pid,
    netnsPath: running && pid > 0 ? `/proc/${pid}/ns/net` : undefined,
    hostname: info.Config.Hostname ?? '',
    domainname: info.Config.Domainname ?? '',
    labels: info.Config.Labels ?? {},
    env,
    entrypoint: toList(info.Config.Entrypoint),
    cmd: toList(info.Config.Cmd),
    networkMode: info.HostConfig?.NetworkMode ?? 'default',
    networks,
  };
}

/** Like {@link inspectDockerContainer} but the container must run. */
export async function inspectRunningContainer(docker: Docker, ref: string): Promise<DockerContainerInfo> {
  const info = await inspectDockerContainer(docker, ref);
  if (!info.running || info.pid <= 0) throw new DockerContainerNotRunningError(ref);
  return info;
}

/** The container's fully qualified name if its hostname has a domain part (`hostname.domainname`). */
export function containerFqdn(
  info: Pick<DockerContainerInfo, 'hostname' | 'domainname'>,
): string | undefined {
  if (info.domainname !== '') return `${info.hostname}.${info.domainname}`;
  return info.hostname.includes('.') ? info.hostname : undefined;
}

function toList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value !== '') return [value];
  return [];
}
