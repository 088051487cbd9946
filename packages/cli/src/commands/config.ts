import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { preferredProxyAddress, proxyAddresses } from './docker-common.js';

/** `weave config`: the docker client flag that goes through weave's proxy (`-H=<proxy>`). */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length > 0) throw new UsageError();
  ctx.out(`-H=${preferredProxyAddress(await proxyAddresses(ctx))}\n`);
  return 0;
}
