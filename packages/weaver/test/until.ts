/**
 * Polls `fn` every `intervalMs` until it returns something truthy, and resolves with that; rejects with
 * "timed out waiting for <what>" after `timeoutMs`.
 */
export async function until<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
