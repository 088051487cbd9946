import { type PeerName, peerNameFromNumber } from '@weave-ts/core';
import { SeededRandom, type SimNetwork } from '@weave-ts/core/testing';
import { createPeer, type PeerOptions, type WeavePeer } from '@weave-ts/peer';

/** The simulated IP of peer `n`. */
export const simIp = (n: number) => `10.0.0.${n}`;
/** The name of peer `n`: `0a:00:00:00:00:0n`. */
export const simName = (n: number): PeerName => peerNameFromNumber(0x0a0000000000 + n);

/** A peer on simulated host `n`: its transport, the simulation's clock, a Random seeded with `n`. */
export function simPeer(sim: SimNetwork, n: number, extra: PeerOptions = {}): WeavePeer {
  return createPeer({
    name: simName(n),
    nickname: `host${n}`,
    host: simIp(n),
    transport: sim.transport(simIp(n)),
    clock: sim.clock,
    random: new SeededRandom(n),
    dns: { listen: false },
    ...extra,
  });
}

/**
 * Runs the simulation until `what` (a promise, or a predicate) is done; fails after `limitMs` of
 * virtual time. Returns the promise's value.
 */
export async function runUntil<T>(
  sim: SimNetwork,
  what: Promise<T> | (() => boolean),
  limitMs = 120_000,
): Promise<T | undefined> {
  let settled = false;
  let value: T | undefined;
  let failure: unknown;
  let failed = false;
  if (typeof what !== 'function') {
    what.then(
      (v) => {
        settled = true;
        value = v;
      },
      (e: unknown) => {
        settled = true;
        failed = true;
        failure = e;
      },
    );
  }
  const done = () => (typeof what === 'function' ? what() : settled);
  const end = sim.clock.now() + limitMs;
  await new Promise((r) => setImmediate(r));
  while (!done()) {
    if (sim.clock.now() >= end) throw new Error(`simulation: not done after ${limitMs} ms of virtual time`);
    await sim.runUntilQuiet({ horizonMs: 250 });
    await new Promise((r) => setImmediate(r));
  }
  if (failed) throw failure;
  return value;
}
