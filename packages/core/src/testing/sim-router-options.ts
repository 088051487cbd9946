import type { Overlay } from '../overlay.js';
import type { PeerName } from '../peer-name.js';
import type { RouterOptions } from '../router.js';
import { SeededRandom } from './seeded-random.js';
import type { SimNetwork } from './sim-network.js';

/**
 * The {@link RouterOptions} of simulated host `n` named `name` at `host`: nickname `host<n>`, the
 * simulation's transport (bound to `host`) and clock, a Random seeded with `n`, and `overlay` (when
 * given; the router's default otherwise).
 */
export function simRouterOptions(
  sim: SimNetwork,
  n: number,
  name: PeerName,
  host: string,
  overlay?: Overlay,
): RouterOptions {
  return {
    name,
    nickname: `host${n}`,
    host,
    transport: sim.transport(host),
    clock: sim.clock,
    random: new SeededRandom(n),
    ...(overlay ? { overlay } : {}),
  };
}
