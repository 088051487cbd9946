// Real processes (issue 17): two peers on loopback TCP allocate a burst each, persisting to FileStores;
// one, which needs more than its share and asks the other for space, is killed with SIGKILL in the middle of its burst and restarted from its file. Every address it
// had acknowledged comes back to the same container, and no address is ever held twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./helpers/burst-peer.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wx-kill9-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Peer {
  readonly child: ChildProcess;
  /** ident -> address, in the order acknowledged. */
  readonly got: Map<string, string>;
  done: Promise<void>;
  /** Resolves once `k` allocations were acknowledged. */
  atLeast(k: number): Promise<void>;
}

function startPeer(n: number, port: number, peerPort: number, count: number): Peer {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const args = [
    String(n),
    join(dir, `peer${n}.json`),
    String(port),
    String(peerPort),
    '10.44.0.0/24',
    String(count),
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const got = new Map<string, string>();
  const waiters: { k: number; resolve: () => void }[] = [];
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  let buffer = '';
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  child.stdout!.on('data', (d) => {
    buffer += String(d);
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (line === 'done') finished();
      const [ident, addr] = line.split(' ');
      if (ident && addr) got.set(ident, addr);
    }
    for (const w of waiters.filter((x) => got.size >= x.k)) w.resolve();
  });
  child.on('exit', (code, signal) => {
    if (signal !== 'SIGKILL') console.error(`burst peer ${n} exited (${code}): ${stderr}`);
  });
  return {
    child,
    got,
    done,
    atLeast: (k) =>
      new Promise<void>((resolve) => (got.size >= k ? resolve() : waiters.push({ k, resolve }))),
  };
}

describe('kill -9 in the middle of a burst of allocations (real processes, loopback TCP)', () => {
  it('restarted from its FileStore, the peer hands out nothing twice and loses nothing', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    // A /24 split in two: B needs more than its half, so it must get space from A over TCP too.
    const [countA, count] = [60, 170];
    const a = startPeer(1, portA, portB, countA);
    const b1 = startPeer(2, portB, portA, count);
    await b1.atLeast(40);
    b1.child.kill('SIGKILL');
    await new Promise((resolve) => b1.child.once('exit', resolve));
    children.delete(b1.child);
    const beforeKill = new Map(b1.got);
    expect(beforeKill.size).toBeGreaterThanOrEqual(40);
    expect(beforeKill.size).toBeLessThan(count); // it really died mid-burst

    const b2 = startPeer(2, portB, portA, count);
    await Promise.all([a.done, b2.done]);
    // Nothing lost: every address acknowledged before the kill is the container's again.
    for (const [ident, addr] of beforeKill) expect(b2.got.get(ident), ident).toBe(addr);
    // Nothing twice: 230 containers, 230 different addresses.
    expect(a.got.size).toBe(countA);
    expect(b2.got.size).toBe(count);
    const all = [...a.got.values(), ...b2.got.values()];
    expect(new Set(all).size).toBe(countA + count);
    for (const c of [a.child, b2.child]) c.kill('SIGKILL');
  }, 120_000);
});
