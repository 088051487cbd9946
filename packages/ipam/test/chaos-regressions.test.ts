// Schedules the fault explorer (`pnpm chaos`) found, replayed on every test run, plus a short smoke
// run of freshly generated schedules. Each schedule is plain JSON under fixtures/chaos; replay one
// verbosely with `pnpm chaos --replay-file packages/ipam/test/fixtures/chaos/<name>.json`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSchedule, type Schedule } from '../../../tools/chaos/schedule.js';
import { runSchedule } from '../../../tools/chaos/world.js';

const load = (name: string): Schedule =>
  JSON.parse(readFileSync(new URL(`./fixtures/chaos/${name}.json`, import.meta.url), 'utf8')) as Schedule;

const violationsOf = async (schedule: Schedule) =>
  (await runSchedule(schedule)).violations.map((v) => `${v.kind}: ${v.message}`);

describe('schedules found by the fault explorer', () => {
  it('rmpeer of a dead peer on both sides of a partition: duplicates with upstream rmpeer, none now (PR #3078)', async () => {
    const schedule = load('rmpeer-both-sides');
    // Upstream's rmpeer (each side takes the ranges for itself) hands the same address out twice.
    const upstream = await runSchedule({ ...schedule, rmpeerForce: true });
    expect(upstream.violations.map((v) => v.kind)).toContain('duplicate');
    // With a majority needed and one heir, the minority side refuses and nothing is duplicated.
    expect(await violationsOf(schedule)).toEqual([]);
  });

  it('ranges reclaimed from a stopped peer survive the reclaimer’s own reset, and go back to it', async () => {
    // Found as: the holder handed what it held in trust to its heir on `weave reset`, and the
    // returning owner then dropped every connection with "Received update for IP range I own".
    expect(await violationsOf(load('reclaim-reset-holder'))).toEqual([]);
  });

  it('two peers reclaiming the same range at once (views differ after one-way cuts) converge on one owner', async () => {
    // Found as: equal versions naming different owners, kept apart for ever by the merge tie rule.
    expect(await violationsOf(load('concurrent-heirs'))).toEqual([]);
  });

  it('consensus that leaves the asking peer out: its allocation is answered (the issue 17 hang)', async () => {
    // Found as: an idle peer that had seen the others agree (but lost their ring to message loss)
    // formed the ring at once when asked for an address, inside the request; the request, which
    // had to wait for space, was then queued in a discarded queue and never answered.
    const result = await runSchedule(load('consensus-without-self'));
    expect(result.log.some((l) => /peer 4: Paxos consensus: (?!.*:04)/.test(l))).toBe(true);
    expect(result.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
  });

  it('smoke: freshly generated schedules keep every invariant', async () => {
    for (const seed of [7, 21, 42, 77, 101, 202]) {
      const schedule = generateSchedule(seed, { maxPeers: 6, steps: 18 });
      expect(await violationsOf(schedule), `seed ${seed}`).toEqual([]);
    }
  });
});
