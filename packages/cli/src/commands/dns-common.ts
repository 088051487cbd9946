import { collectIpArgs } from '../addr-args.js';
import { type ContainerRef, withNetnsName } from '../container-ref.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseFlags, timesGiven } from '../parse-flags.js';
import { resolveContainer } from './container-common.js';

/** Container id for names that belong to no container (upstream `weave:extern`). */
export const EXTERN_ID = 'weave:extern';

/** Parsed `[<ip> ...] [<container>] [-h <fqdn>]`. */
export interface DnsArgs {
  ips: string[];
  container?: ContainerRef;
  fqdn?: string;
}

/**
 * `collect_dns_add_remove_args`: IPs, then a container, then `-h <fqdn>`; a container or (IPs and
 * a name) is required. Checks that weaver runs. Without IPs the container's ethwe addresses are used.
 */
export async function collectDnsArgs(args: readonly string[], ctx: CliContext): Promise<DnsArgs> {
  const { ips, rest } = collectIpArgs(args);
  const { values, positionals, tokens } = parseFlags(rest, { h: { type: 'string' } });
  // Upstream's order: the container (if any) right after the IPs, `-h <fqdn>` (once) last.
  const containerFirst = tokens.findIndex((t) => t.kind === 'positional') <= 0;
  if (positionals.length > 1 || !containerFirst || timesGiven(tokens, 'h') > 1) throw new UsageError();
  const containerArg = positionals[0];
  const fqdn = values.h as string | undefined;
  if (!(containerArg !== undefined || (ips.length > 0 && fqdn !== undefined))) throw new UsageError();
  await ctx.checkRunning();
  const out: DnsArgs = { ips };
  if (fqdn !== undefined) out.fqdn = fqdn;
  if (containerArg !== undefined) {
    const ref = await resolveContainer(containerArg);
    out.container = ref;
    if (ips.length === 0) out.ips = (await containerCidrs(ref)).map((c) => c.replace(/\/.*$/, ''));
  }
  return out;
}

/** The addresses on the container's ethwe ([] when it has none). */
export async function containerCidrs(ref: ContainerRef): Promise<string[]> {
  const host = await import('@weave-ts/host');
  return withNetnsName(ref, async (netns) => {
    if (!(await host.linkExists('ethwe', { netns }))) return [];
    return host.listAddresses('ethwe', { netns });
  });
}
