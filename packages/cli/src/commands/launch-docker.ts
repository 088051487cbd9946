import { existsSync } from 'node:fs';

/**
 * The Docker defaults of `weave launch` (as upstream 2.x's script): when a Docker engine answers,
 * weaver is started with the network plugin and the Docker API proxy (`--plugin --proxy`) and told
 * the engine's address (`--docker-api`), unless `--plugin=false` / `--proxy=false` say otherwise.
 * Without an engine, launch starts the router alone, as `weave launch-router` always does. weaver
 * itself has no such default: its flags stay explicit.
 */

/** How long launch waits for the engine's `GET /_ping` before going on without Docker. */
export const ENGINE_PING_TIMEOUT_MS = 1000;

/** What the command line said about one of the Docker services: on, off, or nothing. */
export type ServiceChoice = boolean | undefined;

/** `--plugin[=bool]` / `--proxy[=bool]` as given to launch. */
export interface DockerServiceChoices {
  /** `--plugin` / `--plugin=true` → true, `--plugin=false` → false, absent → undefined. */
  plugin: ServiceChoice;
  /** `--proxy` / `--proxy=true` → true, `--proxy=false` → false, absent → undefined. */
  proxy: ServiceChoice;
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/**
 * A boolean flag's value as upstream's flag package reads it (`--plugin` alone is true); undefined
 * for a word that is not a boolean.
 */
export function parseBoolFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || TRUE_WORDS.has(value)) return true;
  if (FALSE_WORDS.has(value)) return false;
  return undefined;
}

/**
 * The weaver flags for the Docker services: `engine` is the address of an engine that answered
 * (undefined when none did, or for `launch-router`), `hasDockerApi` whether the command line
 * already names one with `--docker-api`. With an engine, plugin and proxy are on unless turned off;
 * without one, only what was asked for explicitly is passed (as before the default existed).
 */
export function dockerLaunchArgs(
  choices: DockerServiceChoices,
  engine: string | undefined,
  hasDockerApi = false,
): string[] {
  const on = (c: ServiceChoice) => (engine === undefined ? c === true : c !== false);
  const out: string[] = [];
  if (on(choices.plugin)) out.push('--plugin');
  if (on(choices.proxy)) out.push('--proxy');
  if (engine !== undefined && !hasDockerApi) out.push('--docker-api', engine);
  return out;
}

/**
 * Whether a Docker engine answers `GET /_ping` at `dockerHost` (`unix://…`, a socket path or
 * `tcp://host:port`) within `timeoutMs`. A unix socket that does not exist is answered at once,
 * without loading the Docker client, so launch stays fast (and silent) on hosts without Docker.
 */
export async function dockerEngineAnswers(
  dockerHost: string,
  timeoutMs = ENGINE_PING_TIMEOUT_MS,
): Promise<boolean> {
  const socket = dockerHost.startsWith('unix://')
    ? dockerHost.slice('unix://'.length)
    : dockerHost.startsWith('/')
      ? dockerHost
      : undefined;
  if (socket !== undefined && !existsSync(socket)) return false;
  const { dockerClientFor } = await import('../docker-resolver.js');
  const docker = dockerClientFor(dockerHost);
  if (docker === undefined) return false;
  // dockerode takes an abort signal (its types do not say so).
  const ping = docker.ping.bind(docker) as unknown as (opts: {
    abortSignal: AbortSignal;
  }) => Promise<unknown>;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      ping({ abortSignal: abort.signal }).then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
