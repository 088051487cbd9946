// Pin directories of namespaces that are gone are removed; those of live namespaces and anything
// not named like ours stay.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { kernelObjectNames, removeStalePins } from '../src/index.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it('removes pin directories whose network namespace no longer exists', () => {
  dir = mkdtempSync(join(tmpdir(), 'wf-pins-'));
  const ours = kernelObjectNames(6784, dir).pinDir;
  const ownInode = statSync('/proc/self/ns/net').ino;
  expect(ours).toBe(join(dir, `weave-fastdp-${ownInode}-6784`));
  // Inode 1 is never a network namespace.
  for (const d of [
    ours,
    join(dir, 'weave-fastdp-1-6784'),
    join(dir, 'weave-fastdp-1-x'),
    join(dir, 'other'),
  ]) {
    mkdirSync(join(d, 'maps'), { recursive: true });
  }
  expect(removeStalePins(dir)).toEqual(['weave-fastdp-1-6784']);
  expect(readdirSync(dir).sort()).toEqual(
    ['other', `weave-fastdp-${ownInode}-6784`, 'weave-fastdp-1-x'].sort(),
  );
  expect(removeStalePins(join(dir, 'missing'))).toEqual([]);
});
