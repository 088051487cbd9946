// Golden layouts against the brief (§6): the VNI / tunnel id, the VXLAN header, the heartbeat frame,
// and the BPF map records the kernel programs read.
import { describe, expect, it } from 'vitest';
import {
  encodeConfig,
  encodeDeliverKey,
  encodeDeliverValue,
  encodeSendKey,
  encodeSendValue,
  FASTDP_BPF_OBJECT,
  FASTDP_DEFAULT_MTU,
  InvalidShortIdError,
  ipv4ToNumber,
  makeHeartbeatFrame,
  numberToIpv4,
  parseHeartbeat,
  peersOfTunnelId,
  readVxlanHeader,
  tunnelIdFor,
  vxlanHeader,
} from '../src/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('tunnel id (VNI = src | dst << 12)', () => {
  it('short ID 1 to 2 is VNI 0x002001, as the prototype saw on the wire', () => {
    expect(tunnelIdFor(1, 2)).toBe(0x002001);
    expect(hex(vxlanHeader(tunnelIdFor(1, 2)))).toBe('0800000000200100');
  });

  it('uses 12 bits per peer, source low', () => {
    expect(tunnelIdFor(0xabc, 0x123)).toBe(0x123abc);
    expect(tunnelIdFor(4095, 4095)).toBe(0xffffff);
    expect(peersOfTunnelId(0x123abc)).toEqual({ src: 0xabc, dst: 0x123 });
    // Upstream's extractPeers masks 0xfff: bits above 24 are ignored.
    expect(peersOfTunnelId(0x7f123abc)).toEqual({ src: 0xabc, dst: 0x123 });
  });

  it('refuses short IDs outside 0..4095', () => {
    expect(() => tunnelIdFor(4096, 1)).toThrow(InvalidShortIdError);
    expect(() => tunnelIdFor(1, -1)).toThrow('short ID must be an integer in 0..4095, got -1');
  });

  it('reads the VNI back from a VXLAN header and rejects one without the I flag', () => {
    expect(readVxlanHeader(vxlanHeader(0x00fedc))).toBe(0x00fedc);
    expect(readVxlanHeader(Uint8Array.of(0, 0, 0, 0, 0, 0x20, 0x01, 0))).toBeUndefined();
    expect(readVxlanHeader(Uint8Array.of(8, 0, 0))).toBeUndefined();
  });
});

describe('heartbeat frame (14 zero bytes, connUID u64 BE, total length u16 BE, 14 + MTU long)', () => {
  it('fills the datapath MTU: 1390 bytes for 1376', () => {
    const frame = makeHeartbeatFrame(0x0102030405060708n, FASTDP_DEFAULT_MTU);
    expect(frame.length).toBe(14 + 1376);
    expect(hex(frame.subarray(0, 14))).toBe('00'.repeat(14));
    expect(hex(frame.subarray(14, 24))).toBe('0102030405060708056e');
    expect(frame.subarray(24).every((b) => b === 0)).toBe(true);
    expect(parseHeartbeat(frame)).toEqual({ ok: true, connUID: 0x0102030405060708n });
  });

  it('rejects short and truncated heartbeats with upstream wording', () => {
    const frame = makeHeartbeatFrame(7n, 100);
    expect(parseHeartbeat(frame.subarray(0, 23))).toEqual({ ok: false, reason: 'Ignoring short heartbeat' });
    expect(parseHeartbeat(frame.subarray(0, 60))).toEqual({
      ok: false,
      reason: 'Ignoring truncated heartbeat',
    });
  });

  it('keeps the full 64-bit UID', () => {
    const uid = 0xffff_0000_1234_5678n;
    const parsed = parseHeartbeat(makeHeartbeatFrame(uid, 1376));
    expect(parsed.ok && parsed.connUID).toBe(uid);
  });
});

describe('BPF map records (little-endian, as bpf/fastdp.c declares them)', () => {
  it('cfg: five u32 then a reserved one', () => {
    expect(
      hex(
        encodeConfig({
          vxlanIfindex: 5,
          portIfindex: 0x102,
          missIfindex: 7,
          localShortId: 0xabc,
          generation: 3,
        }),
      ),
    ).toBe(['05000000', '02010000', '07000000', 'bc0a0000', '03000000', '00000000'].join(''));
  });

  it('send flow: src MAC, dst MAC; remote IPv4 in host order, tunnel id, generation, claimed, times', () => {
    expect(hex(encodeSendKey(0x0a0000000001, 0xffeeddccbbaa))).toBe('0a0000000001ffeeddccbbaa');
    const times = { refreshNs: 0x1122334455667788n, expiresNs: 0x0102030405060708n };
    expect(hex(encodeSendValue('10.249.0.2', 0x002001, 9, times))).toBe(
      ['0200f90a', '01200000', '09000000', '00000000', '8877665544332211', '0807060504030201'].join(''),
    );
  });

  it('deliver flow: src MAC, dst MAC, src short ID u16; generation, claimed, times', () => {
    expect(hex(encodeDeliverKey(0x123, 0x0a0000000002, 0x0a0000000001))).toBe(
      '0a00000000020a000000000123010000',
    );
    expect(hex(encodeDeliverValue(2, { refreshNs: 1n, expiresNs: 2n }))).toBe(
      ['02000000', '00000000', '0100000000000000', '0200000000000000'].join(''),
    );
  });

  it('IPv4 numbers round-trip and bad addresses are refused', () => {
    expect(ipv4ToNumber('10.249.0.2')).toBe(0x0af90002);
    expect(numberToIpv4(0x0af90002)).toBe('10.249.0.2');
    expect(() => ipv4ToNumber('10.1.2')).toThrow('not an IPv4 address: 10.1.2');
  });
});

describe('the committed BPF object matches these layouts', () => {
  it('declares the map value sizes the encoders write (from its BTF, via bpftool)', async () => {
    const { execFileSync } = await import('node:child_process');
    let dump: string;
    try {
      dump = execFileSync('bpftool', ['btf', 'dump', 'file', FASTDP_BPF_OBJECT], { encoding: 'utf8' });
    } catch {
      return; // bpftool not installed: nothing to compare against
    }
    const size = (name: string) => Number(new RegExp(`STRUCT '${name}' size=(\\d+)`).exec(dump)?.[1]);
    expect(size('fdp_cfg')).toBe(
      encodeConfig({ vxlanIfindex: 0, portIfindex: 0, missIfindex: 0, localShortId: 0, generation: 0 })
        .length,
    );
    expect(size('send_key')).toBe(encodeSendKey(0, 0).length);
    expect(size('send_val')).toBe(encodeSendValue('0.0.0.0', 0, 0, { refreshNs: 0n, expiresNs: 0n }).length);
    expect(size('deliver_key')).toBe(encodeDeliverKey(0, 0, 0).length);
    expect(size('deliver_val')).toBe(encodeDeliverValue(0, { refreshNs: 0n, expiresNs: 0n }).length);
  });
});
