import type { CliContext } from '../context.js';
import { dnsArgs } from './docker-common.js';

/**
 * `weave dns-args`: the `docker run` flags that make a container use weaveDNS
 * (`--dns=<ip> --dns-search=<domain>`); nothing when weaver or its DNS is not running.
 */
export async function run(_args: string[], ctx: CliContext): Promise<number> {
  const flags = await dnsArgs(ctx);
  if (flags.length > 0) ctx.out(`${flags.join(' ')}\n`);
  return 0;
}
