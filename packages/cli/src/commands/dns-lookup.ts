import { Resolver } from 'node:dns/promises';
import type { CliContext } from '../context.js';
import { CliExit, UsageError } from '../errors.js';

/**
 * `weave dns-lookup <name>`: asks weaveDNS (at the address weaver reports) for A records and prints
 * one address per line, as `dig +short` does; an unknown name prints nothing.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length !== 1) throw new UsageError();
  const server = await dnsServer(ctx);
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([server]);
  try {
    for (const ip of await resolver.resolve4(args[0] as string)) ctx.out(`${ip}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'ENONAME') return 0;
    throw new CliExit(';; connection timed out; no servers could be reached', 9);
  }
  return 0;
}

/** `ip:port` of weaveDNS: GET /dns-address-port, else GET /dns-address plus port 53. */
async function dnsServer(ctx: CliContext): Promise<string> {
  let addr: string | undefined;
  try {
    addr = (await ctx.call('GET', '/dns-address-port')).trim();
  } catch (err) {
    if (!(err instanceof CliExit && err.exitCode === 4)) throw err;
  }
  if (addr === undefined || addr === '') {
    try {
      addr = (await ctx.call('GET', '/dns-address')).trim();
    } catch (err) {
      if (err instanceof CliExit && err.exitCode === 4)
        throw new CliExit('weaveDNS is not running (weaver was launched with --no-dns)', 1);
      throw err;
    }
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(addr);
  if (m === null) throw new CliExit(`weaver reported an unusable DNS address: ${addr}`, 1);
  let host = m[1] ?? m[2] ?? '127.0.0.1';
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  if (host === '::') host = '::1';
  const port = m[3] ?? '53';
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
