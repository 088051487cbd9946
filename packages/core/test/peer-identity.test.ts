import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InvalidPeerNameError,
  type Random,
  derivePeerName,
  parsePeerName,
  systemRandom,
} from '@weave-ts/core';
import { macFromUUID, randomMAC, readSystemFile } from '@weave-ts/core/protocol';

const enc = (s: string) => new TextEncoder().encode(s);

/** The expected MAC computed here from the definition, byte by byte. */
function expectedMac(input: Uint8Array): string {
  const h = createHash('sha256');
  h.update(Buffer.from('9oBJ0Jmip-', 'ascii'));
  h.update(input);
  const d = [...h.digest().subarray(0, 6)];
  d[0] = (d[0]! & 0b1111_1110) | 0b0000_0010;
  return d.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A Random that returns the given bytes for `bytes()` calls. */
function fixedRandom(bytes: number[]): Random {
  return {
    float: () => 0,
    int: () => 0,
    bytes: (n) => Uint8Array.from(bytes.slice(0, n)),
  };
}

type Files = Record<string, string | Error>;

/** A reader over an in-memory file system; an Error value makes that file unreadable. */
function fakeFs(files: Files) {
  const reads: string[] = [];
  const readFile = async (path: string) => {
    reads.push(path);
    const v = files[path];
    if (v === undefined) return undefined;
    if (v instanceof Error) throw v;
    return enc(v);
  };
  return { readFile, reads };
}

const MACHINE_ID = '0123456789abcdef0123456789abcdef\n';
const PRODUCT_UUID = '12345678-1234-5678-90AB-CDDEEFAABBCC\n';

describe('macFromUUID', () => {
  it('hashes the salted input and forces a local unicast MAC', () => {
    for (const s of ['', 'a', MACHINE_ID, MACHINE_ID + PRODUCT_UUID, '\u00ff\u0000binary']) {
      expect(macFromUUID(enc(s))).toBe(expectedMac(enc(s)));
    }
  });
  it('always yields bit0 = 0 and bit1 = 1 in the first octet', () => {
    for (let i = 0; i < 64; i++) {
      const first = Number.parseInt(macFromUUID(Uint8Array.of(i)).slice(0, 2), 16);
      expect(first & 1).toBe(0);
      expect(first & 2).toBe(2);
    }
  });
  it('is sensitive to the trailing newline (files are read verbatim)', () => {
    expect(macFromUUID(enc('abc\n'))).not.toBe(macFromUUID(enc('abc')));
  });
});

describe('randomMAC', () => {
  it('uses the random bytes with the local/unicast bits fixed', () => {
    expect(randomMAC(fixedRandom([0xff, 1, 2, 3, 4, 5]))).toBe('fe:01:02:03:04:05');
    expect(randomMAC(fixedRandom([0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]))).toBe('02:aa:bb:cc:dd:ee');
  });
});

describe('derivePeerName', () => {
  const random = fixedRandom([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
  const RANDOM_NAME = '12:22:33:44:55:66';
  const hostFiles: Files = {
    '/etc/machine-id': MACHINE_ID,
    '/sys/class/dmi/id/product_uuid': PRODUCT_UUID,
  };

  it('prefers an explicit name, even an abbreviated one', async () => {
    const { readFile, reads } = fakeFs(hostFiles);
    expect(
      await derivePeerName({ explicitName: '::1', bridgeMac: 'aa:aa:aa:aa:aa:aa', readFile, random }),
    ).toBe('00:00:00:00:00:01');
    expect(reads).toEqual([]);
  });
  it('then the existing bridge MAC', async () => {
    const { readFile } = fakeFs(hostFiles);
    expect(await derivePeerName({ bridgeMac: 'AA:BB:CC:DD:EE:FF', readFile, random })).toBe(
      'aa:bb:cc:dd:ee:ff',
    );
  });
  it('rejects malformed explicit names', async () => {
    const { readFile } = fakeFs(hostFiles);
    await expect(derivePeerName({ explicitName: 'not-a-mac', readFile, random })).rejects.toThrow(
      InvalidPeerNameError,
    );
  });
  it('then machine-id ‖ product_uuid, verbatim', async () => {
    const { readFile } = fakeFs(hostFiles);
    expect(await derivePeerName({ readFile, random })).toBe(expectedMac(enc(MACHINE_ID + PRODUCT_UUID)));
  });
  it('honours the host root prefix', async () => {
    const { readFile, reads } = fakeFs({
      '/host/etc/machine-id': MACHINE_ID,
      '/host/sys/class/dmi/id/product_uuid': PRODUCT_UUID,
    });
    expect(await derivePeerName({ hostRoot: '/host', readFile, random })).toBe(
      expectedMac(enc(MACHINE_ID + PRODUCT_UUID)),
    );
    expect(reads.every((p) => p.startsWith('/host/'))).toBe(true);
  });
  it('falls back to the dbus machine-id and the hypervisor uuid when the primaries are missing', async () => {
    const { readFile } = fakeFs({ '/var/lib/dbus/machine-id': 'dbus\n', '/sys/hypervisor/uuid': 'hv\n' });
    expect(await derivePeerName({ readFile, random })).toBe(expectedMac(enc('dbus\nhv\n')));
  });
  it('does not fall back when the primary exists', async () => {
    const { readFile } = fakeFs({
      ...hostFiles,
      '/var/lib/dbus/machine-id': 'other\n',
      '/sys/hypervisor/uuid': 'x',
    });
    expect(await derivePeerName({ readFile, random })).toBe(expectedMac(enc(MACHINE_ID + PRODUCT_UUID)));
  });
  it('uses whichever id exists alone', async () => {
    expect(
      await derivePeerName({ readFile: fakeFs({ '/etc/machine-id': MACHINE_ID }).readFile, random }),
    ).toBe(expectedMac(enc(MACHINE_ID)));
    const onlyUuid = fakeFs({ '/sys/class/dmi/id/product_uuid': PRODUCT_UUID }).readFile;
    expect(await derivePeerName({ readFile: onlyUuid, random })).toBe(expectedMac(enc(PRODUCT_UUID)));
  });
  it('ignores an unreadable machine-id but gives up on an unreadable product_uuid', async () => {
    const denied = new Error('EACCES');
    const a = fakeFs({ '/etc/machine-id': denied, '/sys/class/dmi/id/product_uuid': PRODUCT_UUID });
    expect(await derivePeerName({ readFile: a.readFile, random })).toBe(expectedMac(enc(PRODUCT_UUID)));
    const b = fakeFs({ '/etc/machine-id': MACHINE_ID, '/sys/class/dmi/id/product_uuid': denied });
    expect(await derivePeerName({ readFile: b.readFile, random })).toBe(RANDOM_NAME);
  });
  it('is random when no host id exists or all are empty', async () => {
    expect(await derivePeerName({ readFile: fakeFs({}).readFile, random })).toBe(RANDOM_NAME);
    const empty = fakeFs({ '/etc/machine-id': '', '/sys/class/dmi/id/product_uuid': '' });
    expect(await derivePeerName({ readFile: empty.readFile, random })).toBe(RANDOM_NAME);
  });
  it('two hosts with the same ids derive the same name (the duplicate machine-id problem)', async () => {
    const a = await derivePeerName({ readFile: fakeFs(hostFiles).readFile, random: systemRandom });
    const b = await derivePeerName({ readFile: fakeFs(hostFiles).readFile, random: systemRandom });
    expect(a).toBe(b);
    expect(parsePeerName(a)).toBe(a);
  });
});

describe('readSystemFile', () => {
  it('returns the bytes verbatim, undefined for a missing file, and rejects other failures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weave-ts-identity-'));
    try {
      await writeFile(join(dir, 'machine-id'), MACHINE_ID);
      expect(new TextDecoder().decode(await readSystemFile(join(dir, 'machine-id')))).toBe(MACHINE_ID);
      expect(await readSystemFile(join(dir, 'absent'))).toBeUndefined();
      await expect(readSystemFile(dir)).rejects.toThrow(); // a directory: EISDIR
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
