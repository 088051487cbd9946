import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Logger, parsePeerName } from '@weave-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import { formatCIDR } from '../src/address.js';
import { PersistedDataError } from '../src/allocator-errors.js';
import { FileStore, StoreFileError } from '../src/file-store.js';
import { parseInitMode } from '../src/init-mode.js';
import type { Store } from '../src/store.js';
import { FakeGossipNet, makeAllocator } from './fake-gossip.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipam-store-'));
  dirs.push(dir);
  return dir;
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m) };
}

const A = parsePeerName('0a:00:00:00:00:01');
const B = parsePeerName('0a:00:00:00:00:02');

function allocatorOn(store: Store, name = A, range = '10.0.0.0/24', logger?: Logger) {
  const net = new FakeGossipNet();
  return makeAllocator(net, name, range, {
    store,
    mode: parseInitMode('consensus=1'),
    ...(logger ? { logger } : {}),
  });
}

describe('FileStore', () => {
  it('writes atomically, leaves no temporary file, and reads back after reopening', () => {
    const path = join(tempDir(), 'weavedata.json');
    const store = new FileStore(path);
    expect(store.get('ring')).toBeUndefined();
    store.set({ peername: 'x', ring: { a: [1, 2] } });
    store.set({ ownedAddresses: { c: { isContainer: true, cidrs: ['10.0.0.1/24'] } } });
    const again = new FileStore(path);
    expect(again.get('peername')).toBe('x');
    expect(again.get('ring')).toEqual({ a: [1, 2] });
    expect(again.get('ownedAddresses')).toEqual({ c: { isContainer: true, cidrs: ['10.0.0.1/24'] } });
    expect(readdirSync(join(path, '..'))).toEqual(['weavedata.json']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ format: 'weave-ts-ipam', version: 1 });
  });

  it('refuses a file that is not a store', () => {
    const path = join(tempDir(), 'bad.json');
    writeFileSync(path, '{"format":"weave-ts-ipam","version":1,"rec');
    expect(() => new FileStore(path)).toThrow(StoreFileError);
    writeFileSync(path, '{"hello":1}');
    expect(() => new FileStore(path)).toThrow('not a weave-ts IPAM store');
  });
});

describe('allocator persistence', () => {
  it('restores ring and holdings after a restart', async () => {
    const path = join(tempDir(), 'data.json');
    const first = allocatorOn(new FileStore(path));
    const a = await first.allocate('c1');
    const b = await first.allocate('c2', { subnet: '10.0.0.128/25' });
    await first.claim('c3', '1.2.3.4/8');
    first.stop();

    const log = recordingLogger();
    const second = allocatorOn(new FileStore(path), A, '10.0.0.0/24', log);
    expect(log.lines).toContain(`[allocator ${A}] Initialising with persisted data`);
    expect(second.status()).toBe('ready');
    expect(second.lookup('c1')).toEqual([a]);
    expect(second.lookup('c2')).toEqual([b]);
    expect(second.lookup('c3').map(formatCIDR)).toEqual(['1.2.3.4/8']);
    // Held addresses are not handed out again.
    expect(formatCIDR(await second.allocate('c4'))).toBe('10.0.0.2/24');
    expect(second.report().ActiveIPs).toBe(3);
  });

  it('discards data of another peer name or another range, saying so', async () => {
    const path = join(tempDir(), 'data.json');
    const first = allocatorOn(new FileStore(path));
    await first.allocate('c1');
    first.stop();

    const log = recordingLogger();
    const other = allocatorOn(new FileStore(path), B, '10.0.0.0/24', log);
    expect(log.lines).toContain(`[allocator ${B}] Deleting persisted data for peername ${A}`);
    expect(other.lookup('c1')).toEqual([]);
    expect(other.status()).toBe('idle');
    await other.allocate('c9');
    other.stop();

    const log2 = recordingLogger();
    const moved = allocatorOn(new FileStore(path), B, '10.1.0.0/24', log2);
    expect(log2.lines).toContain(
      `[allocator ${B}] Deleting persisted data for IPAM range 10.0.0.0-10.0.0.255; our range is 10.1.0.0/24`,
    );
    expect(formatCIDR(await moved.allocate('c9'))).toBe('10.1.0.1/24');
  });

  it('refuses persisted records it cannot understand', () => {
    const path = join(tempDir(), 'data.json');
    new FileStore(path).set({ peername: A, ring: { start: 'x' } });
    expect(() => allocatorOn(new FileStore(path))).toThrow(PersistedDataError);
  });

  it('keeps an acknowledged allocation across kill -9', async () => {
    const path = join(tempDir(), 'data.json');
    const script = fileURLToPath(new URL('./helpers/allocate-and-hang.ts', import.meta.url));
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const child = spawn(process.execPath, ['--import', 'tsx', script, path, '10.9.0.0/24'], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const printed = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += String(d);
        if (out.includes('\n')) {
          child.kill('SIGKILL'); // no chance to flush anything after the acknowledgement
          resolve(out.trim());
        }
      });
      child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    });
    await new Promise((resolve) => child.on('exit', resolve));
    expect(child.signalCode).toBe('SIGKILL');
    expect(printed).toBe('10.9.0.1/24');

    const after = allocatorOn(new FileStore(path), A, '10.9.0.0/24');
    expect(after.lookup('container-1').map(formatCIDR)).toEqual([printed]);
    expect(formatCIDR(await after.allocate('container-2'))).toBe('10.9.0.2/24');
  }, 20_000);
});
