import { type AddressSpec, parseAddressSpecs } from '../docker-attach.js';
import { isWrapped, wrapEntrypoint } from './wait-for-interface.js';

/**
 * The proxy's change to `POST /containers/create` (upstream's create interceptor):
 *
 *   Env WEAVE_CIDR=none        → left alone (not attached)
 *   otherwise                  → Entrypoint = wait-for-ethwe wrapper + original entrypoint and cmd
 *                                (the image's, when the request has none), Cmd = null;
 *                                HostConfig.Dns = [weaveDNS] and DnsSearch = [domain] unless given;
 *                                Hostname/Domainname = <container name>/<domain> unless a hostname is given
 *   NetworkMode host / container:… → left alone (the container has no netns of its own)
 *
 * A pure function over the parsed JSON body, so it is tested without an engine.
 */

/** Options of {@link rewriteCreateRequest}. */
export interface CreateRewriteOptions {
  /** weaveDNS for containers; undefined = no DNS settings. */
  dns?: { resolver: string; domain: string };
  /** Attach containers without WEAVE_CIDR (default subnet); upstream's default. */
  defaultAttach?: boolean;
  /** The wrapper waits for the multicast route (attach adds one); default true. */
  multicastRoute?: boolean;
  /** `--hostname-match` / `--hostname-replacement`: container name → hostname; default identity. */
  hostnameMatch?: RegExp;
  hostnameReplacement?: string;
}

/** What the image says when the request does not. */
export interface ImageCommand {
  entrypoint: string[];
  cmd: string[];
}

/** The outcome: the body to send on and whether/how to attach after start. */
export interface CreateRewrite {
  body: Record<string, unknown>;
  /** undefined = do not attach. */
  attach: AddressSpec[] | undefined;
}

/** Upstream's limit for derived hostnames. */
export const MAX_HOSTNAME_LENGTH = 64;

/** The WEAVE_CIDR setting of an env list (`['K=V', …]`), if any. */
export function weaveCidrOf(env: unknown): string | undefined {
  if (!Array.isArray(env)) return undefined;
  let value: string | undefined;
  for (const kv of env) if (typeof kv === 'string' && kv.startsWith('WEAVE_CIDR=')) value = kv.slice(11);
  return value;
}

/** Whether the request's command must come from the image (neither Entrypoint nor Cmd given). */
export function needsImageCommand(body: Record<string, unknown>): boolean {
  return list(body.Entrypoint) === undefined && list(body.Cmd) === undefined;
}

/** Rewrites a create request body (see the module comment). @throws InvalidAddressSpecError */
export function rewriteCreateRequest(
  body: Record<string, unknown>,
  name: string | undefined,
  image: ImageCommand | undefined,
  options: CreateRewriteOptions,
): CreateRewrite {
  const cidr = weaveCidrOf(body.Env);
  const specs =
    cidr === undefined ? (options.defaultAttach === false ? undefined : []) : parseAddressSpecs(cidr);
  const hostConfig = objectField(body, 'HostConfig');
  const mode = typeof hostConfig.NetworkMode === 'string' ? hostConfig.NetworkMode : 'default';
  if (specs === undefined || mode === 'host' || mode.startsWith('container:'))
    return { body, attach: undefined };

  const out: Record<string, unknown> = { ...body, HostConfig: { ...hostConfig } };
  const hc = out.HostConfig as Record<string, unknown>;

  // entrypoint: wrapper + the command the container would have run
  let reqEntrypoint = list(body.Entrypoint);
  if (reqEntrypoint?.length === 1 && reqEntrypoint[0] === '') reqEntrypoint = [];
  const reqCmd = list(body.Cmd);
  let command: string[];
  if (reqEntrypoint !== undefined) command = [...reqEntrypoint, ...(reqCmd ?? [])];
  else command = [...(image?.entrypoint ?? []), ...(reqCmd ?? image?.cmd ?? [])];
  if (command.length > 0 && !isWrapped(reqEntrypoint ?? [])) {
    out.Entrypoint = wrapEntrypoint(options.multicastRoute ?? true);
    out.Cmd = command;
  }

  if (options.dns) {
    if (list(hc.Dns) === undefined || (hc.Dns as unknown[]).length === 0) hc.Dns = [options.dns.resolver];
    if (list(hc.DnsSearch) === undefined || (hc.DnsSearch as unknown[]).length === 0) {
      hc.DnsSearch = [options.dns.domain];
    }
    const hostname = typeof body.Hostname === 'string' ? body.Hostname : '';
    if (hostname === '' && name !== undefined && name !== '') {
      const derived = options.hostnameMatch
        ? name.replace(options.hostnameMatch, options.hostnameReplacement ?? '$1')
        : name;
      out.Hostname = derived.slice(0, MAX_HOSTNAME_LENGTH);
      out.Domainname = options.dns.domain;
    }
  }
  return { body: out, attach: specs };
}

function list(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.map(String);
  return undefined;
}

function objectField(body: Record<string, unknown>, field: string): Record<string, unknown> {
  const v = body[field];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
