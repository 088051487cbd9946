import type { Router } from '../router.js';
import type { SimNetwork } from './sim-network.js';

/**
 * Starts `routers` (host `n` is `routers[n - 1]`), has host `from` dial `addressOf(to)` for every
 * `[from, to]` of `links`, and runs `sim` until every router has a unicast route to every other.
 *
 * Topology updates normally arrive within the first 5 s of virtual time; a topology update goes to
 * at most 2·log2(peers) random neighbours, though, so in a dense mesh one may be heard only from a
 * later periodic gossip (every 30 s): then it runs up to ten more 30-second rounds. Returns whether
 * the routers converged; the caller asserts it.
 */
export async function startAndConverge(
  sim: SimNetwork,
  routers: readonly Router[],
  links: readonly (readonly [number, number])[],
  addressOf: (host: number) => string,
): Promise<boolean> {
  for (const router of routers) await router.start();
  for (const [from, to] of links) routers[from - 1]?.connect([addressOf(to)]);
  await sim.runUntilQuiet({ horizonMs: 5_000 });
  const converged = () =>
    routers.every((x) => routers.every((y) => x === y || x.routes.unicast(y.name) !== undefined));
  for (let round = 0; round < 10 && !converged(); round++) await sim.runUntilQuiet({ horizonMs: 30_000 });
  return converged();
}
