import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createNetns, deleteNetns, setLinkUp } from '@weave-ts/host';
import { afterAll, describe, expect, it } from 'vitest';

// datapath 'auto' in a namespace of our own (fastdp's kernel objects and the bridge stay in there):
// fastdp when the host supports it, sleeve when a password is set (fastdp does not encrypt).
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const script = fileURLToPath(new URL('./auto-peer.ts', import.meta.url));
const nonrootScript = fileURLToPath(new URL('./nonroot-peer.ts', import.meta.url));
const ns = `wp${Math.random().toString(36).slice(2, 6)}-auto`;

interface AutoResult {
  kind: string;
  mtu: number;
  name: string;
  bridgeMac: string;
  during: string[];
  after: string[];
  bridgeAfter: boolean;
}

async function runAuto(...args: string[]): Promise<AutoResult> {
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  const { stdout } = await run(
    'ip',
    ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, ...args],
    {
      cwd: root,
      env,
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as AutoResult;
}

afterAll(async () => {
  if (isRoot) await deleteNetns(ns, { ifExists: true });
});

describe.skipIf(!isRoot)("datapath 'auto' (root, in a namespace)", () => {
  it('picks fastdp or sleeve by what the host supports, sets the bridge MAC, and removes everything on stop', async () => {
    await createNetns(ns);
    await setLinkUp('lo', { netns: ns });
    const plain = await runAuto();
    expect(['fastdp', 'sleeve']).toContain(plain.kind);
    expect(plain.bridgeMac).toBe(plain.name);
    expect(plain.during).toEqual(expect.arrayContaining(['lo', 'weave', 'vethwe-tap']));
    if (plain.kind === 'fastdp') {
      expect(plain.mtu).toBe(1376);
      expect(plain.during).toContain('vxlan-6784');
    } else expect(plain.mtu).toBe(65521);
    // The process ended by itself after stop(), and left nothing behind.
    expect(plain.after).toEqual(['lo']);
    expect(plain.bridgeAfter).toBe(false);

    const encrypted = await runAuto('weave', 'vethwe-tap', 's3cret');
    expect(encrypted.kind).toBe('sleeve');
    expect(encrypted.mtu).toBe(65521);
    expect(encrypted.after).toEqual(['lo']);
  }, 120_000);
});

describe.skipIf(!isRoot)("datapath 'auto' without privileges", () => {
  it("falls back to none; an explicit 'sleeve' is a DatapathUnavailableError and binds nothing", async () => {
    const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
    const { stdout } = await run(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '--import',
        'tsx',
        nonrootScript,
      ],
      { cwd: root, env: { ...env, HOME: '/tmp' }, timeout: 60_000 },
    );
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(result).toEqual({
      uid: 65534,
      kind: 'none',
      error: {
        name: 'DatapathUnavailableError',
        message: 'datapath sleeve is not available: needs root (CAP_NET_ADMIN)',
      },
      state: 'new',
      privileged: expect.stringMatching(/^(PermissionDeniedError|no privileged ports here)$/),
    });
  }, 60_000);
});
