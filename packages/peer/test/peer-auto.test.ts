import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createNetns, deleteNetns, setLinkUp } from '@weave-ts/host';
import { afterAll, describe, expect, it } from 'vitest';

// datapath 'auto' in a namespace of our own (fastdp's kernel objects and the bridge stay in there):
// fastdp when the host supports it, password or not (with a password, fastdp refuses each encrypted
// connection and the overlay switch carries it over sleeve, saying why in the connection's attrs).
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const script = fileURLToPath(new URL('./auto-peer.ts', import.meta.url));
const nonrootScript = fileURLToPath(new URL('./nonroot-peer.ts', import.meta.url));
const pairScript = fileURLToPath(new URL('./auto-pair.ts', import.meta.url));
const ns = `wp${Math.random().toString(36).slice(2, 6)}-auto`;
const pairNs = `wi${Math.random().toString(36).slice(2, 6)}-autopw`;

interface AutoResult {
  kind: string;
  mtu: number;
  flows?: number;
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
  if (isRoot) {
    await deleteNetns(ns, { ifExists: true });
    await deleteNetns(pairNs, { ifExists: true });
  }
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
      expect(plain.flows).toBe(0);
    } else {
      expect(plain.mtu).toBe(65521);
      expect(plain.flows).toBeUndefined();
    }
    // The process ended by itself after stop(), and left nothing behind.
    expect(plain.after).toEqual(['lo']);
    expect(plain.bridgeAfter).toBe(false);

    // A password does not change the choice: fastdp refuses encrypted connections one by one.
    const encrypted = await runAuto('weave', 'vethwe-tap', 's3cret');
    expect(encrypted.kind).toBe(plain.kind);
    expect(encrypted.mtu).toBe(plain.mtu);
    expect(encrypted.after).toEqual(['lo']);
  }, 120_000);

  it('with a password, two fastdp peers connect over encrypted sleeve and status says why', async (ctx) => {
    await createNetns(pairNs);
    await setLinkUp('lo', { netns: pairNs });
    const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
    const { stdout } = await run(
      'ip',
      ['netns', 'exec', pairNs, process.execPath, '--import', 'tsx', pairScript, 'wi'],
      { cwd: root, env, timeout: 60_000 },
    );
    const pair = JSON.parse(stdout.trim().split('\n').pop()!) as {
      fastdpSupported: boolean;
      kinds: string[];
      chosen: string[];
      connectionsA: string;
      connectionsB: string;
      attrsA: Record<string, string | number | boolean>[];
      after: string[];
    };
    // Without fastdp support on this host, auto is sleeve and there is no fastdp reason to show.
    if (!pair.fastdpSupported) ctx.skip();
    expect(pair.kinds).toEqual(['fastdp', 'fastdp']);
    expect(pair.chosen).toEqual(['sleeve']);
    expect(pair.attrsA).toEqual([
      expect.objectContaining({ fastdp: 'encryption needs IPsec ESP, not available: using sleeve' }),
    ]);
    for (const text of [pair.connectionsA, pair.connectionsB]) {
      expect(text).toMatch(/established encrypted +sleeve 0a:00:00:00:00:0[ab]\([AB]\)/);
      expect(text).toContain('fastdp=encryption needs IPsec ESP, not available: using sleeve');
    }
    expect(pair.after).toEqual(['lo']);
  }, 90_000);
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
