import { type ContainerRef, findContainer, noSuchContainerMessage } from '../container-ref.js';
import { CliExit } from '../errors.js';

/** Resolves a container argument or ends the command with upstream's "No such container". */
export async function resolveContainer(arg: string): Promise<ContainerRef> {
  const ref = await findContainer(arg);
  if (ref === undefined) throw new CliExit(noSuchContainerMessage(arg), 1);
  return ref;
}

/** Upstream's text when the weave bridge is missing. */
export function bridgeNotFound(): CliExit {
  return new CliExit("Weave bridge not found. Please run 'weave launch' and try again", 1);
}
