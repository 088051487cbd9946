import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../parse-flags.js';
import { preferredProxyAddress, proxyAddresses } from './docker-common.js';

/**
 * `weave env [--restore]`: the shell line that points the docker client at weave's proxy
 * (`export DOCKER_HOST=<proxy> ORIG_DOCKER_HOST=<previous>`), or back (`--restore`), for
 * `eval $(weave env)`.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals, tokens } = parseFlags(args, { restore: { type: 'boolean' } });
  if (positionals.length !== 0 || tokens.length > 1) throw new UsageError();
  if (values.restore === true) {
    ctx.out(`export DOCKER_HOST=${ctx.env.ORIG_DOCKER_HOST ?? ''}\n`);
    return 0;
  }
  const proxy = preferredProxyAddress(await proxyAddresses(ctx));
  ctx.out(`export DOCKER_HOST=${proxy} ORIG_DOCKER_HOST=${ctx.env.DOCKER_HOST ?? ''}\n`);
  return 0;
}
