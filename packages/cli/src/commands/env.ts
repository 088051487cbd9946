import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { preferredProxyAddress, proxyAddresses } from './docker-common.js';

/**
 * `weave env [--restore]`: the shell line that points the docker client at weave's proxy
 * (`export DOCKER_HOST=<proxy> ORIG_DOCKER_HOST=<previous>`), or back (`--restore`), for
 * `eval $(weave env)`.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length === 1 && args[0] === '--restore') {
    ctx.out(`export DOCKER_HOST=${ctx.env.ORIG_DOCKER_HOST ?? ''}\n`);
    return 0;
  }
  if (args.length > 0) throw new UsageError();
  const proxy = preferredProxyAddress(await proxyAddresses(ctx));
  ctx.out(`export DOCKER_HOST=${proxy} ORIG_DOCKER_HOST=${ctx.env.DOCKER_HOST ?? ''}\n`);
  return 0;
}
