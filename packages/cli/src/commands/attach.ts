import { collectCidrArgs, ipamCidrs, showAddrs } from '../addr-args.js';
import { containerFqdn, isOwnNetns, vethId, withNetnsName } from '../container-ref.js';
import type { CliContext } from '../context.js';
import { putDnsFqdn } from '../dns-calls.js';
import { CliExit, UsageError } from '../errors.js';
import { parseFlags } from '../parse-flags.js';
import { bridgeNotFound, resolveContainer } from './container-common.js';

/**
 * `weave attach [<addr> ...] [--no-multicast-route] [-h <fqdn>] <container>`: allocates or claims
 * the addresses in IPAM, gives the container an `ethwe` on the weave bridge with them (subnet mask,
 * bridge MTU, gratuitous ARP, multicast route), registers its FQDN (`-h`, or its hostname when
 * that has a domain part) in weaveDNS, and prints the addresses.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { cidrs, rest } = collectCidrArgs(args);
  // --rewrite-hosts and --add-host (/etc/hosts in Docker containers) are accepted and ignored.
  const { values, positionals: positional } = parseFlags(
    rest,
    {
      'no-multicast-route': { type: 'boolean' },
      hostname: { type: 'string', short: 'h' },
      'rewrite-hosts': { type: 'boolean' },
      'add-host': { type: 'string', multiple: true },
    },
    { inline: ['hostname', 'add-host'] },
  );
  const multicastRoute = values['no-multicast-route'] !== true;
  const fqdn = values.hostname as string | undefined;
  if (positional.length !== 1) throw new UsageError();
  const ref = await resolveContainer(positional[0] as string);
  if (isOwnNetns(ref.netnsPath)) {
    throw new CliExit(
      'Container is running in the host network namespace, and therefore cannot be\n' +
        'connected to weave. Perhaps the container was started with --net=host.',
      1,
    );
  }
  const host = await import('@weave-ts/host');
  if (!(await host.linkExists('weave'))) throw bridgeNotFound();

  const { all } = await ipamCidrs(ctx, 'allocate', ref.id, cidrs, { checkAlive: ref.checkAlive === true });
  try {
    await withNetnsName(ref, (netns) =>
      host.attachContainer({ netns, cidr: all, id: vethId(ref), multicastRoute }),
    );
  } catch (err) {
    if (err instanceof host.BridgeNotFoundError) throw bridgeNotFound();
    throw new CliExit(
      `Failure during network configuration for container ${positional[0]}:\n${err instanceof Error ? err.message : String(err)}`,
      1,
    );
  }
  const name = fqdn ?? containerFqdn(ref);
  if (name !== undefined && (await ctx.isRunning())) {
    await putDnsFqdn(ctx, ref.id, name, all, { checkAlive: ref.checkAlive === true });
  }
  ctx.out(`${showAddrs(all)}\n`);
  return 0;
}
