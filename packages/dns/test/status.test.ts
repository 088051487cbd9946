import { formatStatus } from '@weave-ts/core';
import { fileURLToPath } from 'node:url';
// `weave status dns` and the `Service: dns` block, against a real Weave 2.8.1 router's output.
import { readFileSync } from 'node:fs';
import { parsePeerName } from '@weave-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Nameserver } from '../src/nameserver.js';
import { DnsServer } from '../src/server.js';
import {
  type DnsStatus,
  dnsStatus,
  dnsStatusSection,
  formatDnsStatus,
  liveEntryCount,
} from '../src/status.js';
import { VirtualClock } from '@weave-ts/core/testing';

const INTEROP = fileURLToPath(new URL('../../../fixtures/weaver-2.8.1', import.meta.url));

describe('DNS status', () => {
  let server: DnsServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  /** Host A of the capture: web1 is its own, web2 was learned from host B. */
  function hostA() {
    const ns = new Nameserver({
      ourName: parsePeerName('0a:00:00:00:00:01'),
      isKnownPeer: () => true,
      clock: new VirtualClock(),
    });
    ns.add('web1cid0000000000', '172.16.16.1', 'web1.weave.local.');
    ns.addEntry('web2.weave.local.', 'web2cid0000000000', parsePeerName('0a:00:00:00:00:02'), 0xac101080);
    ns.add('gonecid', '172.16.16.9', 'gone.weave.local.');
    ns.containerDied('gonecid');
    return ns;
  }

  /** Host A's status behind a server configured as in the capture (port 53, one upstream; not started). */
  function capturedStatus(): DnsStatus {
    const ns = hostA();
    server = new DnsServer({
      nameserver: ns,
      host: '127.0.0.1',
      port: 53,
      upstream: { servers: () => ['127.0.0.53'] },
    });
    return dnsStatus(ns, server);
  }

  it('formats `status dns` exactly as weave 2.8.1 (live entries only)', () => {
    const status = capturedStatus();
    expect(formatDnsStatus(status)).toBe(readFileSync(`${INTEROP}/hostA_status_dns.txt`, 'utf8'));
  });

  it('gives the `Service: dns` block of `weave status` and the /report fields', () => {
    const status = capturedStatus();
    const text = readFileSync(`${INTEROP}/hostA_status.txt`, 'utf8');
    expect(text).toContain(formatStatus('x', [dnsStatusSection(status)]).split('\n\n')[1]);
    expect(liveEntryCount(status)).toBe(2);

    const report = JSON.parse(readFileSync(`${INTEROP}/hostA_report.json`, 'utf8')) as { DNS: DnsStatus };
    const live = { ...status, Entries: status.Entries.filter((e) => e.Tombstone === 0) };
    expect(live).toEqual(report.DNS);
  });

  it('pads, cuts and right-justifies like Go fmt', () => {
    const status: DnsStatus = {
      Domain: 'weave.local.',
      Upstream: [],
      Address: '0.0.0.0:53',
      TTL: 1,
      Entries: [
        {
          Hostname: 'a-very-long-hostname.weave.local.',
          Origin: '0a:00:00:00:00:01',
          ContainerID: 'abc',
          Address: '10.0.0.1',
          Version: 0,
          Tombstone: 0,
        },
        {
          Hostname: 'other.example.',
          Origin: '0a:00:00:00:00:01',
          ContainerID: 'weave:extern',
          Address: '10.0.0.2',
          Version: 0,
          Tombstone: 0,
        },
      ],
    };
    expect(formatDnsStatus(status)).toBe(
      'a-very-long-hostname 10.0.0.1                 abc 0a:00:00:00:00:01\n' +
        'other.example. 10.0.0.2        weave:extern 0a:00:00:00:00:01\n',
    );
    expect(dnsStatusSection(status).fields).toContainEqual(['Upstream', 'none']);
  });

  it('reports the bound address once started', async () => {
    const ns = hostA();
    server = new DnsServer({ nameserver: ns, host: '127.0.0.1', port: 0, upstream: { servers: () => [] } });
    const { udpPort } = await server.start();
    expect(dnsStatus(ns, server).Address).toBe(`127.0.0.1:${udpPort}`);
  });
});
