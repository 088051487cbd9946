import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { runWeave } from '../src/index.js';
import { type FakeWeaver, startFakeWeaver } from './fake-weaver.js';

/** What one `weave` run printed and returned. */
export interface WeaveRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fake weaver and a private state directory for one test file (made in beforeAll, removed in afterAll). */
export interface WeaveFixture {
  /** The fake weaver; what it saw and its routes are cleared after every test. */
  readonly fake: FakeWeaver;
  /** Runs the CLI in-process against the fake weaver and the state directory (`env` overrides either). */
  weave(args: string[], env?: NodeJS.ProcessEnv): Promise<WeaveRun>;
}

/** Registers the hooks of a {@link WeaveFixture}; `prefix` names the state directory under the tmp dir. */
export function useWeaveFixture(prefix: string): WeaveFixture {
  let fake: FakeWeaver | undefined;
  let stateDir = '';
  beforeAll(async () => {
    fake = await startFakeWeaver();
    stateDir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await fake?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });
  afterEach(() => {
    fake?.seen.splice(0);
    fake?.routes.clear();
  });
  const started = (): FakeWeaver => {
    if (!fake) throw new Error('the fake weaver is not started yet (use it inside a test)');
    return fake;
  };
  return {
    get fake() {
      return started();
    },
    async weave(args, env = {}) {
      let stdout = '';
      let stderr = '';
      const code = await runWeave(args, {
        env: { WEAVE_HTTP_ADDR: started().addr, WEAVE_STATE_DIR: stateDir, ...env },
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          stderr += t;
        },
      });
      return { code, stdout, stderr };
    },
  };
}

/** An address on 127.0.0.1 where nothing listens. */
export async function deadAddr(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return `127.0.0.1:${port}`;
}
