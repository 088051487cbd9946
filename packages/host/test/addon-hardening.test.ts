// The addon's N-API entry points against hostile arguments, each scenario in a child process (a
// memory-safety bug there crashes the child, not the test runner): handles of one kind passed where
// another is expected are TypeErrors, and a getter that detaches an earlier buffer while udpSend reads
// its arguments cannot make it read freed or moved memory.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ADDON = fileURLToPath(new URL('../build/Release/weave_host.node', import.meta.url));

/** Runs `body` (CommonJS, `addon` in scope) in a fresh node; returns its exit status, signal and stdout. */
function child(body: string): { status: number | null; signal: NodeJS.Signals | null; out: string } {
  const script = `const addon = require(${JSON.stringify(ADDON)});\n${body}`;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000, env });
  return { status: r.status, signal: r.signal, out: r.stdout.trim() };
}

/** The error (name: message) a call throws, printed by the child. */
const attempt = (call: string) =>
  `try { ${call}; console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }`;

const open = `const [udp] = addon.udpOpen(null, '127.0.0.1', 0, 0, 0);
const fp = addon.fastpathCreate(Uint8Array.of(10, 0, 0, 0, 0, 1), 1000);`;

describe('host addon handle type tags', () => {
  it.each([
    ['udpClose(fast path handle)', 'addon.udpClose(fp)', /TypeError: handle must be a UDP socket handle/],
    [
      'udpSend(fast path handle)',
      "addon.udpSend(fp, [], '127.0.0.1', 9, false)",
      /TypeError: handle must be a UDP socket handle/,
    ],
    ['fastpathClose(UDP handle)', 'addon.fastpathClose(udp)', /TypeError: handle must be a fast path handle/],
    [
      'fastpathFlush(UDP handle)',
      'addon.fastpathFlush(udp)',
      /TypeError: handle must be an open fast path handle/,
    ],
    ['readerStop(UDP handle)', 'addon.readerStop(udp)', /TypeError: handle must be a reader handle/],
    [
      'udpSetFastpath(udp, udp)',
      'addon.udpSetFastpath(udp, udp)',
      /TypeError: handle must be an open fast path handle/,
    ],
  ])('%s is a TypeError', (_name, call, expected) => {
    const r = child(`${open}\n${attempt(call)}\naddon.udpClose(udp); addon.fastpathClose(fp);`);
    expect(r.signal).toBeNull();
    expect(r.out).toMatch(expected);
    expect(r.status).toBe(0);
  });

  it('handles of the right kind still work', () => {
    const r = child(
      `${open}\n${attempt('addon.fastpathFlush(fp); addon.udpClose(udp); addon.fastpathClose(fp)')}`,
    );
    expect(r.out).toBe('no error');
  });
});

describe('udpSend argument reading', () => {
  it('reads every element before taking buffer pointers: a getter that detaches an earlier buffer cannot be sent from', () => {
    const r = child(`
const dgram = require('node:dgram');
const rx = dgram.createSocket('udp4');
rx.bind(0, '127.0.0.1', () => {
  const [udp] = addon.udpOpen(null, '127.0.0.1', 0, 0, 0);
  const first = new Uint8Array(64).fill(0x41);
  let moved;
  const parts = [first];
  Object.defineProperty(parts, 1, {
    enumerable: true,
    get() {
      // Detach the first buffer (its memory now belongs to another ArrayBuffer), then return the second.
      moved = structuredClone(first.buffer, { transfer: [first.buffer] });
      return Uint8Array.of(0x42, 0x42);
    },
  });
  rx.on('message', (msg) => {
    console.log(JSON.stringify({ len: msg.length, hex: msg.toString('hex'), detached: first.byteLength, moved: moved && moved.byteLength }));
    rx.close(); addon.udpClose(udp);
  });
  try { addon.udpSend(udp, [parts], '127.0.0.1', rx.address().port, false); }
  catch (e) { console.log(JSON.stringify({ error: e.name + ': ' + e.message })); rx.close(); addon.udpClose(udp); }
});`);
    expect(r.signal).toBeNull();
    const result = JSON.parse(r.out);
    expect(result.detached).toBe(0);
    expect(result.moved).toBe(64);
    // Only the bytes that were still there once every element had been read go out.
    expect(result.hex).toBe('4242');
  });
});
