// @weave-ts/core/testing must load in node:test/jest/mocha projects, where vitest is not installed: a
// child node process imports it with a resolve hook that makes `vitest` unresolvable.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const src = (file: string) => fileURLToPath(new URL(`../src/${file}`, import.meta.url));

// Registered with --import: any import of vitest (or a vitest/* subpath) fails as it would without it.
const hook = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function resolve(specifier, context, next) {
  if (specifier === 'vitest' || specifier.startsWith('vitest/')) {
    const err = new Error('Cannot find package vitest (hidden by the test)');
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}\`));
`)}`;

async function importInChild(file: string): Promise<{ ok: boolean; out: string }> {
  const script = `const m = await import(${JSON.stringify(src(file))}); console.log(Object.keys(m).sort().join(','));`;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS; // vitest's own worker options must not leak into the child
  try {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--import', hook, '--input-type=module', '-e', script],
      { env, timeout: 60_000 },
    );
    return { ok: true, out: stdout };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: string }).stderr ?? e) };
  }
}

describe('@weave-ts/core/testing without vitest', () => {
  it('imports the simulation with vitest unresolvable', async () => {
    const { ok, out } = await importInChild('testing/index.ts');
    expect(out).toContain('SimNetwork');
    expect(out).toContain('VirtualClock');
    expect(out).toContain('runUntil');
    expect(out).not.toContain('runDatapathCompliance');
    expect(ok).toBe(true);
  }, 90_000);

  it('the compliance subpath is the one that needs vitest (the hook really hides it)', async () => {
    const { ok, out } = await importInChild('testing/compliance/index.ts');
    expect(ok).toBe(false);
    expect(out).toContain('hidden by the test');
  }, 90_000);
});
