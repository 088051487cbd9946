// Shrinking a failing schedule: delta debugging over its ops (drop chunks, then single ops), then
// fewer peers, shorter waits — keeping every change that still fails the same way.
import type { Op, Schedule } from './schedule.js';
import { type RunResult, runSchedule, type Violation } from './world.js';

/** A property of a run that shrinking must keep (normally: it broke an invariant of some kind). */
export type Keep = (result: RunResult) => boolean;

/** Keeps runs that fail with a violation of one of `kinds`. */
export function failsWith(kinds: ReadonlySet<Violation['kind']>): Keep {
  return (result) => result.violations.some((v) => kinds.has(v.kind));
}

/** A smaller schedule whose run still has property `keep`; at most `budget` runs. */
export async function shrinkSchedule(
  schedule: Schedule,
  keep: Keep,
  budget = 150,
  onStep?: (s: Schedule) => void,
): Promise<Schedule> {
  let best = schedule;
  let runs = 0;
  const tryCandidate = async (candidate: Schedule): Promise<boolean> => {
    if (runs >= budget) return false;
    runs++;
    if (keep(await runSchedule(candidate, { stopOnViolation: true }))) {
      best = candidate;
      onStep?.(best);
      return true;
    }
    return false;
  };
  const withOps = (ops: readonly Op[]): Schedule => ({ ...best, ops });

  // ddmin over the ops.
  let chunk = Math.max(1, Math.floor(best.ops.length / 2));
  while (chunk >= 1 && runs < budget) {
    let removed = false;
    for (let i = 0; i < best.ops.length && runs < budget; ) {
      const candidate = [...best.ops.slice(0, i), ...best.ops.slice(i + chunk)];
      if (await tryCandidate(withOps(candidate))) removed = true;
      else i += chunk;
    }
    if (!removed) chunk = Math.floor(chunk / 2);
  }
  // Fewer peers: drop the highest-numbered peer if no op names it.
  for (let n = best.peers; n > 3 && runs < budget; n--) {
    if (JSON.stringify(best.ops).match(new RegExp(`"(p|d)":${n}\\b|[\\[,]${n}[\\],]`))) break;
    const targets = best.targets.slice(0, n - 1).map((t) => {
      const kept = t.filter((m) => m < n);
      return kept.length > 0 ? kept : [1];
    });
    if (!(await tryCandidate({ ...best, peers: n - 1, targets }))) break;
  }
  // Shorter waits.
  for (let i = 0; i < best.ops.length && runs < budget; i++) {
    const op = best.ops[i]!;
    if (op.w <= 1_000) continue;
    const ops = [...best.ops];
    ops[i] = { ...op, w: Math.floor(op.w / 4) };
    await tryCandidate(withOps(ops));
  }
  return best;
}
