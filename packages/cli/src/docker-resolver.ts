import Docker from 'dockerode';
import type { ContainerRef, ContainerResolver } from './container-ref.js';
import { CliExit } from './errors.js';

/**
 * Docker containers as `<container>` arguments (`weave attach/detach/ps/dns-add/dns-remove`): an id,
 * id prefix or name is inspected through the engine at `$DOCKER_HOST` (default
 * /var/run/docker.sock) with dockerode. The ref's id is the full container id (weave's IPAM and DNS
 * key), its namespace `/proc/<pid>/ns/net`, its hostname `hostname.domainname`. When no engine
 * answers, this resolver steps aside and the netns/pid resolver is asked.
 */

/** The engine address `weave` uses: `$DOCKER_HOST`, else the default socket. */
export function cliDockerHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** A dockerode client for `unix://…`, a socket path or `tcp://host:port`; undefined if unparsable. */
export function dockerClientFor(dockerHost: string): Docker | undefined {
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice(7) });
  if (dockerHost.startsWith('/')) return new Docker({ socketPath: dockerHost });
  const m = /^(?:tcp|http):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(dockerHost);
  if (!m) return undefined;
  return new Docker({ host: m[1], port: m[2] === undefined ? 2375 : Number(m[2]), protocol: 'http' });
}

/** Upstream's text for a stopped container. */
export function notRunningMessage(arg: string): string {
  return `${arg} container is not running.`;
}

/** The Docker resolver, or undefined when no engine answers at `dockerHost`. */
export async function dockerResolver(dockerHost = cliDockerHost()): Promise<ContainerResolver | undefined> {
  const docker = dockerClientFor(dockerHost);
  if (!docker) return undefined;
  try {
    await docker.ping({ timeout: 3_000 } as never);
  } catch {
    return undefined;
  }
  return {
    name: 'docker',
    async resolve(arg) {
      let info: Docker.ContainerInspectInfo;
      try {
        info = await docker.getContainer(arg).inspect();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
      if (!info.State.Running || info.State.Pid <= 0) throw new CliExit(notRunningMessage(arg), 1);
      return refOf(info);
    },
    async list() {
      const out: ContainerRef[] = [];
      for (const c of await docker.listContainers()) {
        const info = await docker
          .getContainer(c.Id)
          .inspect()
          .catch(() => undefined);
        if (info?.State.Running && info.State.Pid > 0) out.push(refOf(info));
      }
      return out;
    },
  };
}

function refOf(info: Docker.ContainerInspectInfo): ContainerRef {
  const hostname = info.Config.Hostname ?? '';
  const domain = info.Config.Domainname ?? '';
  return {
    id: info.Id,
    netnsPath: `/proc/${info.State.Pid}/ns/net`,
    pid: info.State.Pid,
    hostname: domain === '' ? hostname : `${hostname}.${domain}`,
    checkAlive: true,
  };
}
