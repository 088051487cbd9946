import type { CliContext } from '../context.js';
import { deleteDns, deleteDnsFqdn } from '../dns-calls.js';
import { collectDnsArgs, EXTERN_ID } from './dns-common.js';

/**
 * `weave dns-remove [<ip> ...] <container> [-h <fqdn>] | <ip> ... -h <fqdn>`: DELETE
 * /name/<id>/<ip> (only the name `-h` gives, or every name of the address).
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { ips, container, fqdn } = await collectDnsArgs(args, ctx);
  const id = container?.id ?? EXTERN_ID;
  if (fqdn !== undefined) await deleteDnsFqdn(ctx, id, fqdn, ips);
  else await deleteDns(ctx, id, ips);
  return 0;
}
