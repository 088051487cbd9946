import { type ContainerRef, listContainers, vethId, withNetnsName } from '../container-ref.js';
import type { CliContext } from '../context.js';
import { resolveContainer } from './container-common.js';
import { EXPOSE_ID } from './expose.js';

/**
 * `weave ps [<container> ...]`: `<id> <MAC> <cidr> ...` per container with an ethwe; without
 * arguments first the `weave:expose` line (bridge MAC and addresses), then every container
 * attached to this host's bridge.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const host = await import('@weave-ts/host');
  let refs: ContainerRef[];
  if (args.length === 0) {
    if (await host.linkExists('weave')) {
      const bridge = await host.getLink('weave');
      const cidrs = await host.listAddresses('weave');
      ctx.out(`${[EXPOSE_ID, bridge.mac ?? '', ...cidrs].join(' ')}\n`);
    }
    const ours = new Set(
      (await host.listLinks())
        .filter((l) => l.name.startsWith('vethwepl') && l.master === 'weave')
        .map((l) => l.name.slice('vethwepl'.length)),
    );
    refs = (await listContainers()).filter((r) => ours.has(vethId(r)));
  } else {
    refs = [];
    for (const a of args) refs.push(await resolveContainer(a));
  }
  for (const ref of refs) {
    const line = await withNetnsName(ref, async (netns) => {
      if (!(await host.linkExists('ethwe', { netns }))) return undefined;
      const link = await host.getLink('ethwe', { netns });
      const cidrs = await host.listAddresses('ethwe', { netns });
      return [ref.id.slice(0, 12), link.mac ?? '', ...cidrs].join(' ');
    });
    if (line !== undefined) ctx.out(`${line}\n`);
  }
  return 0;
}
