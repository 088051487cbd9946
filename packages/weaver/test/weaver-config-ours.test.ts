// Flags of ours (not upstream weaver's) and how they map to createPeer options.
import { describe, expect, it } from 'vitest';
import { parseWeaverArgs, type WeaverConfig, WeaverUsageError } from '../src/index.js';

function run(argv: string[]): WeaverConfig {
  const r = parseWeaverArgs(argv, {});
  if (r.kind !== 'run') throw new Error(`expected run, got ${r.output}`);
  return r.config;
}

function usageError(argv: string[]): string {
  try {
    parseWeaverArgs(argv, {});
  } catch (e) {
    expect(e).toBeInstanceOf(WeaverUsageError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('--dns-recursion-from', () => {
  it('maps to dns.recursionFrom; absent leaves the peer default', () => {
    const dns = run(['--dns-recursion-from', '10.32.0.0/12,172.17.0.0/16']).peer.dns;
    expect(dns).toMatchObject({ recursionFrom: ['10.32.0.0/12', '172.17.0.0/16'] });
    const plain = run([]).peer.dns;
    expect(plain).not.toBe(false);
    expect(plain && 'recursionFrom' in plain).toBe(false);
  });

  it('a bad CIDR is a usage error', () => {
    expect(usageError(['--dns-recursion-from', '10.0.0.1'])).toMatch(
      /^Unable to parse --dns-recursion-from: .*10\.0\.0\.1/,
    );
  });
});

describe('--ipalloc-reclaim-after', () => {
  it('maps milliseconds to ipam.reclaimAfterMs; off when absent', () => {
    const ipam = run(['--ipalloc-range', '10.32.0.0/12', '--ipalloc-reclaim-after', '600000']).peer.ipam;
    expect(ipam).toMatchObject({ range: '10.32.0.0/12', reclaimAfterMs: 600_000 });
    const plain = run(['--ipalloc-range', '10.32.0.0/12']).peer.ipam;
    expect(plain && 'reclaimAfterMs' in plain).toBe(false);
  });

  it('needs a range and a positive integer', () => {
    expect(usageError(['--ipalloc-reclaim-after', '1000'])).toBe(
      '--ipalloc-reclaim-after specified without --ipalloc-range.',
    );
    for (const bad of ['0', '10m', '-5']) {
      const r = parseWeaverArgs(['--ipalloc-range', '10.32.0.0/12', '--ipalloc-reclaim-after', bad], {});
      expect(r).toMatchObject({ kind: 'exit', exitCode: 2 });
    }
  });
});
