import { idSegment } from './addr-args.js';
import type { CliContext } from './context.js';
import { CliExit } from './errors.js';

/** weaveDNS registrations through weaver's API (upstream's put_dns_fqdn / delete_dns helpers). */

function ipOf(cidr: string): string {
  return cidr.replace(/\/.*$/, '');
}

async function tolerant(ctx: CliContext, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof CliExit)) throw err;
    if (err.message !== '') ctx.err(`${err.message}\n`);
  }
}

/** PUT /name/<id>/<ip> fqdn=… for each address; failures are reported and skipped. */
export async function putDnsFqdn(
  ctx: CliContext,
  id: string,
  fqdn: string,
  cidrs: readonly string[],
  options: { checkAlive?: boolean } = {},
): Promise<void> {
  for (const cidr of cidrs) {
    const form: [string, string][] = [['fqdn', fqdn]];
    if (options.checkAlive) form.push(['check-alive', 'true']);
    await tolerant(ctx, () => ctx.call('PUT', `/name/${idSegment(id)}/${ipOf(cidr)}`, { form }));
  }
}

/** DELETE /name/<id>/<ip> for each address (every name on it). */
export async function deleteDns(ctx: CliContext, id: string, cidrs: readonly string[]): Promise<void> {
  for (const cidr of cidrs) {
    await tolerant(ctx, () => ctx.call('DELETE', `/name/${idSegment(id)}/${ipOf(cidr)}`));
  }
}

/** DELETE /name/<id>/<ip>?fqdn=… for each address. */
export async function deleteDnsFqdn(
  ctx: CliContext,
  id: string,
  fqdn: string,
  cidrs: readonly string[],
): Promise<void> {
  for (const cidr of cidrs) {
    await tolerant(ctx, () =>
      ctx.call('DELETE', `/name/${idSegment(id)}/${ipOf(cidr)}`, { query: [['fqdn', fqdn]] }),
    );
  }
}
