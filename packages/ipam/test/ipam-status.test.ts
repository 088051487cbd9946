import { parsePeerName } from '@weave-ts/core';
import { describe, expect, it } from 'vitest';
import { InvalidInitModeError } from '../src/allocator-errors.js';
import { parseInitMode, quorumForClusterSize, quorumFromTargets } from '../src/init-mode.js';
import {
  formatIpamRanges,
  type IpamReport,
  ipamStatusLine,
  STATUS_ALL_UNREACHABLE,
  STATUS_WAITING,
} from '../src/ipam-status.js';

const A = parsePeerName('0a:00:00:00:00:01');
const B = parsePeerName('0a:00:00:00:00:02');
const C = parsePeerName('0a:00:00:00:00:03');

const entry = (Peer: string, Nickname: string, Size: number, IsKnownPeer = true) => ({
  Token: '10.32.0.0',
  Size,
  Peer,
  Nickname,
  IsKnownPeer,
  Version: 1,
});

const base: IpamReport = {
  Paxos: null,
  Range: '10.32.0.0/12',
  RangeNumIPs: 1048576,
  ActiveIPs: 2,
  DefaultSubnet: '10.32.0.0/12',
  Entries: null,
  PendingClaims: null,
  PendingAllocates: null,
};

describe('ipam status text', () => {
  it('names the state as upstream does', () => {
    expect(ipamStatusLine(base)).toBe('idle');
    expect(ipamStatusLine({ ...base, Paxos: { Elector: true, KnownNodes: 1, Quorum: 2 } })).toBe(
      'awaiting consensus (quorum: 2, known: 1)',
    );
    expect(ipamStatusLine({ ...base, Paxos: { Elector: false, KnownNodes: 0, Quorum: 0 } })).toBe('priming');
    const entries = [entry(A, 'one', 100), entry(B, 'two', 50, false)];
    expect(ipamStatusLine({ ...base, Entries: entries })).toBe('ready');
    expect(ipamStatusLine({ ...base, Entries: entries, PendingAllocates: ['c 10.32.0.0/12'] })).toBe(
      STATUS_WAITING,
    );
    expect(ipamStatusLine({ ...base, Entries: [entry(A, 'one', 0), entry(B, 'two', 9, false)] })).toBe(
      STATUS_ALL_UNREACHABLE,
    );
  });

  it('prints ranges per peer, ours first, sizes summed, unreachable marked, Go float formatting', () => {
    const report: IpamReport = {
      ...base,
      Entries: [
        entry(B, 'two', 349525),
        entry(A, 'one', 349526),
        entry(C, 'three', 174762, false),
        entry(C, 'three', 174763, false),
      ],
    };
    expect(formatIpamRanges(report, A)).toBe(
      [
        `${'0a:00:00:00:00:01(one)'.padEnd(37)}   349526 IPs (33.3% of total) (2 active)`,
        `${'0a:00:00:00:00:02(two)'.padEnd(37)}   349525 IPs (33.3% of total) `,
        `${'0a:00:00:00:00:03(three)'.padEnd(37)}   349525 IPs (33.3% of total) - unreachable!`,
        '',
      ].join('\n'),
    );
    // %04.1f: zero padding to four characters, and exact ties round to even as Go does.
    const small = {
      ...base,
      RangeNumIPs: 400,
      Entries: [entry(A, 'one', 9), entry(B, 'two', 49), entry(C, 'x', 342)],
    };
    const percents = [...formatIpamRanges(small, A).matchAll(/\(([\d.]+)% of total\)/g)].map((m) => m[1]);
    expect(percents).toEqual(['02.2', '12.2', '85.5']);
    expect(formatIpamRanges({ ...base, RangeNumIPs: 4, Entries: [entry(A, 'one', 4)] }, A)).toContain(
      '(100.0% of total)',
    );
  });
});

describe('--ipalloc-init', () => {
  it('parses the three modes', () => {
    expect(parseInitMode('consensus')).toEqual({ kind: 'consensus' });
    expect(parseInitMode('consensus=5')).toEqual({ kind: 'consensus', clusterSize: 5 });
    expect(parseInitMode('observer')).toEqual({ kind: 'observer' });
    expect(parseInitMode(`seed=${B},${A},${B}`)).toEqual({ kind: 'seed', peers: [A, B] });
    for (const bad of ['consensus=0', 'consensus=x', 'seed=', 'seed=zz', 'observer=1', 'vote']) {
      expect(() => parseInitMode(bad)).toThrow(InvalidInitModeError);
    }
  });

  it('computes quorums like upstream', () => {
    expect([0, 1, 2, 3, 4].map(quorumFromTargets)).toEqual([1, 2, 2, 3, 3]);
    expect([1, 2, 3, 4, 5].map(quorumForClusterSize)).toEqual([1, 2, 2, 3, 3]);
  });
});
