import type { CliContext } from './context.js';
import { CliExit } from './errors.js';

/**
 * Address arguments the way upstream's script reads them: `[ip:]<cidr>`, `net:<cidr>`,
 * `net:default`, and the IPAM calls they turn into (`ipam_cidrs`).
 */

const IP = '[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}';
const CIDR_RE = new RegExp(`^${IP}/[0-9]{1,2}$`);
const IP_RE = new RegExp(`^${IP}$`);

/** Whether `s` looks like `a.b.c.d/len` (as loosely as upstream's regular expression). */
export function isCidr(s: string): boolean {
  return CIDR_RE.test(s);
}

/** Whether `s` looks like `a.b.c.d`. */
export function isIp(s: string): boolean {
  return IP_RE.test(s);
}

/**
 * Takes the leading address arguments off `args` (`collect_cidr_args`): `ip:` is dropped, `net:`
 * kept. Returns them and the rest.
 */
export function collectCidrArgs(args: readonly string[]): {
  /** The address arguments, `ip:`/`net:` prefixes handled. */
  cidrs: string[];
  /** The arguments after them. */
  rest: string[];
} {
  const cidrs: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'net:default' || isCidr(a) || isCidr(a.replace(/^ip:/, '')) || isCidr(a.replace(/^net:/, ''))) {
      cidrs.push(a.replace(/^ip:/, ''));
    } else {
      break;
    }
  }
  return { cidrs, rest: args.slice(i) };
}

/** Takes the leading plain IP arguments off `args` (`collect_ip_args`). */
export function collectIpArgs(args: readonly string[]): {
  /** The leading IP arguments. */
  ips: string[];
  /** The arguments after them. */
  rest: string[];
} {
  let i = 0;
  while (i < args.length && isIp(args[i] as string)) i++;
  return { ips: args.slice(0, i), rest: args.slice(i) };
}

/** A container id as a URL path segment. */
export function idSegment(id: string): string {
  return /^[A-Za-z0-9_.:-]+$/.test(id) ? id : encodeURIComponent(id);
}

/** What ipamCidrs found or allocated. */
export interface IpamCidrs {
  /** Every address, in argument order. */
  all: string[];
  /** Those that came from IPAM (`net:` arguments). */
  ipam: string[];
}

/**
 * `ipam_cidrs`: for `net:` arguments (none means `net:default`) looks up (GET) or allocates (POST)
 * addresses of container `id` in IPAM; plain CIDRs are claimed (PUT) when allocating and weaver
 * runs. Errors end the command as upstream's script does.
 */
export async function ipamCidrs(
  ctx: CliContext,
  mode: 'lookup' | 'allocate',
  id: string,
  args: readonly string[],
  options: { checkAlive?: boolean } = {},
): Promise<IpamCidrs> {
  const method = mode === 'lookup' ? 'GET' : 'POST';
  const query: [string, string][] =
    mode === 'allocate' && options.checkAlive ? [['check-alive', 'true']] : [];
  const all: string[] = [];
  const ipam: string[] = [];
  const seg = idSegment(id);
  for (const arg of args.length === 0 ? ['net:default'] : args) {
    if (arg.startsWith('net:')) {
      const url = arg === 'net:default' ? `/ip/${seg}` : `/ip/${seg}/${arg.slice(4)}`;
      let body: string;
      try {
        body = await ctx.call(method, url, { query });
      } catch (err) {
        if (err instanceof CliExit && err.exitCode === 4 && method === 'POST') {
          throw new CliExit("IP address allocation must be enabled to use 'net:'", 1);
        }
        throw err;
      }
      const got = body.split(/\s+/).filter((s) => s !== '');
      ipam.push(...got);
      all.push(...got);
    } else {
      if (method === 'POST' && (await ctx.isRunning())) {
        try {
          await ctx.call('PUT', `/ip/${seg}/${arg}`, { query });
        } catch (err) {
          // 404: IPAM is disabled; the address is used as given.
          if (!(err instanceof CliExit && err.exitCode === 4)) throw err;
        }
      }
      all.push(arg);
    }
  }
  return { all, ipam };
}

/** `show_addrs`: the addresses without prefix lengths, space-separated. */
export function showAddrs(cidrs: readonly string[]): string {
  return cidrs.map((c) => c.replace(/\/.*$/, '')).join(' ');
}
