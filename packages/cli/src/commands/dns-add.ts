import { containerFqdn } from '../container-ref.js';
import type { CliContext } from '../context.js';
import { putDnsFqdn } from '../dns-calls.js';
import { collectDnsArgs, EXTERN_ID } from './dns-common.js';

/**
 * `weave dns-add [<ip> ...] <container> [-h <fqdn>] | <ip> ... -h <fqdn>`: PUT /name/<id>/<ip>
 * for each address (the container's own addresses when none are given; its hostname when no
 * `-h`). Names without a container go under `weave:extern`.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { ips, container, fqdn } = await collectDnsArgs(args, ctx);
  const id = container?.id ?? EXTERN_ID;
  const checkAlive = container?.checkAlive === true;
  const name = fqdn ?? (container === undefined ? undefined : containerFqdn(container));
  if (name !== undefined) await putDnsFqdn(ctx, id, name, ips, { checkAlive });
  return 0;
}
