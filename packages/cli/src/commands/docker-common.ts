import type { CliContext } from '../context.js';
import { CliExit } from '../errors.js';
import { HttpConnectError } from '../http-client.js';

/**
 * What the Docker verbs (env, config, dns-args, run) ask weaver: the proxy's addresses and the
 * weaveDNS resolver and domain containers should use.
 */

/** Upstream's text when no proxy runs. */
export const PROXY_NOT_RUNNING = 'weave proxy is not running.';

/** The proxy's addresses from `GET /proxyaddrs`; rejects with upstream's message when there is none. */
export async function proxyAddresses(ctx: CliContext): Promise<string[]> {
  let body: string;
  try {
    const res = await ctx.request('GET', '/proxyaddrs');
    if (res.status !== 200) throw new CliExit(PROXY_NOT_RUNNING, 1);
    body = res.body;
  } catch (err) {
    if (err instanceof HttpConnectError) throw new CliExit(PROXY_NOT_RUNNING, 1);
    throw err;
  }
  const addrs = body.split(/\s+/).filter(Boolean);
  if (addrs.length === 0) throw new CliExit(PROXY_NOT_RUNNING, 1);
  return addrs;
}

/** The address `DOCKER_HOST`/`-H` should name: the proxy's unix socket if it has one, else its first. */
export function preferredProxyAddress(addrs: readonly string[]): string {
  return addrs.find((a) => a.startsWith('unix://')) ?? addrs[0] ?? '';
}

/**
 * `--dns=<ip> --dns-search=<domain>` for `docker run`, or [] when weaver or its DNS is not there.
 * The IP is weaveDNS's listen address when containers can reach it, else docker0's (upstream's
 * weaveDNS listens on the docker bridge), else the weave bridge's.
 */
export async function dnsArgs(ctx: CliContext): Promise<string[]> {
  const get = async (path: string) => {
    try {
      const res = await ctx.request('GET', path);
      return res.status === 200 ? res.body.trim() : undefined;
    } catch {
      return undefined;
    }
  };
  const [address, domain] = [await get('/dns-address'), await get('/domain')];
  if (address === undefined || domain === undefined || domain === '') return [];
  let ip: string | undefined = address;
  if (ip === '' || ip === '0.0.0.0' || ip === '::' || ip.startsWith('127.')) {
    const host = await import('@weave-ts/host');
    ip = undefined;
    for (const dev of ['docker0', 'weave']) {
      const addrs = await host.listAddresses(dev).catch(() => [] as string[]);
      const v4 = addrs.find((a) => /^\d+\.\d+\.\d+\.\d+\//.test(a));
      if (v4) {
        ip = v4.split('/')[0];
        break;
      }
    }
  }
  if (ip === undefined) return [];
  return [`--dns=${ip}`, `--dns-search=${domain}`];
}
