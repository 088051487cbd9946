import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { listNetns } from '@weave-ts/host';
import { describe, expect, it } from 'vitest';
import { engineAvailable, startTestEngine, TEST_IMAGE } from './test-engine.js';

// The harness itself: a private engine in its own namespace runs the offline busybox image and leaves
// nothing behind.
describe.skipIf(!engineAvailable())('private test engine', () => {
  it('runs a busybox container and removes everything on stop', { timeout: 120_000 }, async () => {
    const prefix = `wd-${randomBytes(3).toString('hex')}`;
    const engine = await startTestEngine({ prefix });
    let stopped = false;
    try {
      expect(await listNetns()).toContain(`${prefix}-e`);
      const out = await engine.cli([
        'run',
        '--rm',
        TEST_IMAGE,
        'sh',
        '-c',
        'echo hello from $(hostname -s | wc -c)',
      ]);
      expect(out).toMatch(/^hello from \d+\n$/);
      await engine.cli(['run', '-d', '--name', `${prefix}-c`, TEST_IMAGE, 'sleep', '300']);
      const info = await engine.docker.getContainer(`${prefix}-c`).inspect();
      expect(info.State.Running).toBe(true);
      await engine.stop();
      stopped = true;
      expect(existsSync(engine.socketPath)).toBe(false);
      expect(await listNetns()).not.toContain(`${prefix}-e`);
      expect(existsSync(`/proc/${info.State.Pid}`)).toBe(false);
    } finally {
      if (!stopped) await engine.stop();
    }
  });
});
