import { createServer } from 'node:net';
import {
  AddressInUseError,
  AddressNotAvailableError,
  createPeer,
  DnsNameOutsideDomainError,
  FeatureDisabledError,
  InvalidAddressError,
  InvalidBooleanOptionError,
  InvalidBridgeOptionError,
  InvalidConnLimitError,
  InvalidContainerIdError,
  InvalidDataDirError,
  InvalidDatapathError,
  InvalidDefaultSubnetError,
  InvalidDnsListenError,
  InvalidDomainError,
  InvalidHostError,
  InvalidIpamInitError,
  InvalidNicknameError,
  InvalidPasswordError,
  InvalidPeerAddressError,
  InvalidPeerNameOptionError,
  InvalidPeerOptionError,
  InvalidPortError,
  InvalidRangeError,
  InvalidReclaimAfterError,
  InvalidRecursionFromError,
  InvalidSeedError,
  InvalidTrustedSubnetError,
  InvalidTtlError,
  InvalidUpstreamError,
  PeerNotStartedError,
  type PeerOptions,
  PeerStoppedError,
  UnknownPeerOptionError,
  type WeavePeer,
} from '@weave-ts/peer';
import { describe, expect, it } from 'vitest';

type Ctor = abstract new (...args: never[]) => Error;
// [description, options, error class, option path, has cause]
const BAD: [string, unknown, Ctor, string, boolean][] = [
  ['options not an object', 42, InvalidPeerOptionError, 'options', false],
  ['unknown option', { prot: 1 }, UnknownPeerOptionError, 'prot', false],
  ['name not a MAC', { name: 'not-a-mac' }, InvalidPeerNameOptionError, 'name', true],
  ['name too long', { name: '01:02:03:04:05:06:07' }, InvalidPeerNameOptionError, 'name', true],
  ['name a number', { name: 5 }, InvalidPeerNameOptionError, 'name', true],
  ['empty nickname', { nickname: '' }, InvalidNicknameError, 'nickname', false],
  ['nickname with newline', { nickname: 'a\nb' }, InvalidNicknameError, 'nickname', false],
  ['host a name', { host: 'example.invalid' }, InvalidHostError, 'host', false],
  ['host out of range', { host: '10.0.0.256' }, InvalidHostError, 'host', false],
  ['port too big', { port: 70000 }, InvalidPortError, 'port', false],
  ['port negative', { port: -1 }, InvalidPortError, 'port', false],
  ['port fractional', { port: 1.5 }, InvalidPortError, 'port', false],
  ['port a string', { port: '6783' }, InvalidPortError, 'port', false],
  ['peers not a list', { peers: '10.0.0.1' }, InvalidPeerAddressError, 'peers', false],
  ['peer with bad port', { peers: ['10.0.0.1:99999'] }, InvalidPeerAddressError, 'peers', false],
  ['peer with two colons', { peers: ['a:b:c'] }, InvalidPeerAddressError, 'peers', false],
  ['empty password', { password: '' }, InvalidPasswordError, 'password', false],
  ['password a number', { password: 1234 }, InvalidPasswordError, 'password', false],
  [
    'trusted subnet not a CIDR',
    { trustedSubnets: ['10.0.0.0'] },
    InvalidTrustedSubnetError,
    'trustedSubnets',
    true,
  ],
  [
    'trusted subnets not a list',
    { trustedSubnets: '10.0.0.0/8' },
    InvalidTrustedSubnetError,
    'trustedSubnets',
    false,
  ],
  ['discovery not boolean', { discovery: 'yes' }, InvalidBooleanOptionError, 'discovery', false],
  ['connLimit negative', { connLimit: -3 }, InvalidConnLimitError, 'connLimit', false],
  ['ipam not an object', { ipam: 'yes' }, InvalidPeerOptionError, 'ipam', false],
  ['ipam unknown key', { ipam: { ranges: '10.0.0.0/8' } }, UnknownPeerOptionError, 'ipam.ranges', false],
  ['range not a CIDR', { ipam: { range: '10.32.0.0' } }, InvalidRangeError, 'ipam.range', true],
  ['range with host bits', { ipam: { range: '10.32.0.1/12' } }, InvalidRangeError, 'ipam.range', true],
  ['range too small', { ipam: { range: '10.32.0.0/31' } }, InvalidRangeError, 'ipam.range', true],
  [
    'default subnet outside range',
    { ipam: { range: '10.32.0.0/12', defaultSubnet: '10.64.0.0/16' } },
    InvalidDefaultSubnetError,
    'ipam.defaultSubnet',
    false,
  ],
  [
    'default subnet invalid',
    { ipam: { defaultSubnet: '10.32.0.0/40' } },
    InvalidDefaultSubnetError,
    'ipam.defaultSubnet',
    true,
  ],
  ['init unknown', { ipam: { init: 'majority' } }, InvalidIpamInitError, 'ipam.init', true],
  ['init consensus=0', { ipam: { init: 'consensus=0' } }, InvalidIpamInitError, 'ipam.init', true],
  ['seed not peer names', { ipam: { init: 'seed=alpha,beta' } }, InvalidSeedError, 'ipam.init', true],
  ['seed empty', { ipam: { init: 'seed=' } }, InvalidSeedError, 'ipam.init', true],
  [
    'reclaimAfterMs zero',
    { ipam: { reclaimAfterMs: 0 } },
    InvalidReclaimAfterError,
    'ipam.reclaimAfterMs',
    false,
  ],
  [
    'reclaimAfterMs fractional',
    { ipam: { reclaimAfterMs: 1.5 } },
    InvalidReclaimAfterError,
    'ipam.reclaimAfterMs',
    false,
  ],
  [
    'reclaimAfterMs a string',
    { ipam: { reclaimAfterMs: '10m' } },
    InvalidReclaimAfterError,
    'ipam.reclaimAfterMs',
    false,
  ],
  ['dns not an object', { dns: true }, InvalidPeerOptionError, 'dns', false],
  ['domain with space', { dns: { domain: 'weave local.' } }, InvalidDomainError, 'dns.domain', false],
  ['domain empty', { dns: { domain: '' } }, InvalidDomainError, 'dns.domain', false],
  ['domain bad label', { dns: { domain: '-weave.local.' } }, InvalidDomainError, 'dns.domain', false],
  ['dns listen without port', { dns: { listen: '127.0.0.1' } }, InvalidDnsListenError, 'dns.listen', false],
  ['dns listen on a name', { dns: { listen: 'localhost:53' } }, InvalidDnsListenError, 'dns.listen', false],
  [
    'dns listen port too big',
    { dns: { listen: '127.0.0.1:65536' } },
    InvalidDnsListenError,
    'dns.listen',
    false,
  ],
  [
    'upstream not an address',
    { dns: { upstream: ['dns.google'] } },
    InvalidUpstreamError,
    'dns.upstream',
    false,
  ],
  [
    'upstream mixed ports',
    { dns: { upstream: ['1.1.1.1:53', '8.8.8.8:5353'] } },
    InvalidUpstreamError,
    'dns.upstream',
    false,
  ],
  ['upstream a string', { dns: { upstream: '8.8.8.8' } }, InvalidUpstreamError, 'dns.upstream', false],
  ['ttl negative', { dns: { ttl: -1 } }, InvalidTtlError, 'dns.ttl', false],
  ['ttl fractional', { dns: { ttl: 0.5 } }, InvalidTtlError, 'dns.ttl', false],
  [
    'recursionFrom not a list',
    { dns: { recursionFrom: '10.0.0.0/8' } },
    InvalidRecursionFromError,
    'dns.recursionFrom',
    false,
  ],
  [
    'recursionFrom entry without prefix',
    { dns: { recursionFrom: ['10.0.0.1'] } },
    InvalidRecursionFromError,
    'dns.recursionFrom',
    true,
  ],
  [
    'recursionFrom entry IPv6',
    { dns: { recursionFrom: ['fd00::/8'] } },
    InvalidRecursionFromError,
    'dns.recursionFrom',
    true,
  ],
  [
    'recursionFrom entry a number',
    { dns: { recursionFrom: [10] } },
    InvalidRecursionFromError,
    'dns.recursionFrom',
    true,
  ],
  ['datapath unknown', { datapath: 'ovs' }, InvalidDatapathError, 'datapath', false],
  ['datapath object without open', { datapath: { kind: 'x' } }, InvalidDatapathError, 'datapath', false],
  [
    'bridge name too long',
    { bridge: { name: 'a-very-long-bridge-name' } },
    InvalidBridgeOptionError,
    'bridge.name',
    false,
  ],
  ['bridge mtu too small', { bridge: { mtu: 100 } }, InvalidBridgeOptionError, 'bridge.mtu', false],
  ['dataDir empty', { dataDir: '' }, InvalidDataDirError, 'dataDir', false],
  ['gossip interval zero', { gossipIntervalMs: 0 }, InvalidPeerOptionError, 'gossipIntervalMs', false],
];

describe('createPeer rejects bad options at construction', () => {
  it.each(BAD)('%s', (_what, options, ErrorClass, option, hasCause) => {
    let error: unknown;
    try {
      createPeer(options as PeerOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(InvalidPeerOptionError);
    expect((error as InvalidPeerOptionError).option).toBe(option);
    expect((error as Error).name).toBe(ErrorClass.name);
    expect((error as Error).message).toMatch(new RegExp(`^invalid option ${option.replace('.', '\\.')}: `));
    if (hasCause) expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('never reveals the password in the error', () => {
    expect(() => createPeer({ password: 42 as never })).toThrow(/invalid option password/);
    try {
      createPeer({ password: 42 as never });
    } catch (e) {
      expect((e as InvalidPeerOptionError).value).toBe('<redacted>');
    }
  });

  it('accepts every documented form', () => {
    const ok: PeerOptions[] = [
      {},
      { name: '::1', port: 0, peers: ['10.0.0.1', 'host-1.example:6783'] },
      { ipam: false, dns: false, datapath: 'memory' },
      { ipam: { range: '10.40.0.0/16', defaultSubnet: '10.40.1.0/24', init: 'seed=::1,::2' } },
      { ipam: { init: 'consensus=3' } },
      { ipam: { init: 'observer' } },
      { dns: { domain: 'example.com', listen: false, upstream: 'resolv.conf', ttl: 30 } },
      { password: new Uint8Array([1, 2, 3]), trustedSubnets: ['10.0.0.0/8'], connLimit: 0, discovery: false },
    ];
    for (const options of ok) expect(createPeer(options).state).toBe('new');
  });
});

async function busyPort(host: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('start() wraps socket errors and leaves nothing bound', () => {
  it('control port in use: AddressInUseError with the Node error as cause', async () => {
    const busy = await busyPort('127.0.0.1');
    try {
      const peer = createPeer({ host: '127.0.0.1', port: busy.port, dns: false });
      const error = await peer.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AddressInUseError);
      expect((error as Error).message).toBe(
        `router: listen tcp 127.0.0.1:${busy.port}: bind: address already in use`,
      );
      expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
      expect(peer.state).toBe('new');
    } finally {
      await busy.close();
    }
  });

  it('DNS port in use: AddressInUseError, and the router port is released again', async () => {
    const busy = await busyPort('127.0.0.1');
    const control = await busyPort('127.0.0.1');
    await control.close();
    try {
      const peer = createPeer({
        host: '127.0.0.1',
        port: control.port,
        dns: { listen: `127.0.0.1:${busy.port}` },
      });
      await expect(peer.start()).rejects.toBeInstanceOf(AddressInUseError);
      // Nothing stays bound: the control port can be taken again.
      const again = createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(control.port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => again.close(() => resolve()));
    } finally {
      await busy.close();
    }
  });

  it('an address not on this host: AddressNotAvailableError', async () => {
    const peer = createPeer({ host: '192.0.2.77', port: 0, dns: false });
    await expect(peer.start()).rejects.toBeInstanceOf(AddressNotAvailableError);
  });
});

describe('lifecycle', () => {
  const running = () => createPeer({ host: '127.0.0.1', port: 0, dns: { listen: '127.0.0.1:0' } });

  it('calls before start that need a running peer throw PeerNotStartedError; targets and DNS records queue', async () => {
    const peer = running();
    await expect(peer.allocate('c1')).rejects.toBeInstanceOf(PeerNotStartedError);
    expect(() => peer.status()).toThrow(PeerNotStartedError);
    expect(() => peer.router).toThrow(PeerNotStartedError);
    peer.connect(['127.0.0.1:1']);
    peer.dns.add('c1', '10.32.0.9', 'early.weave.local');
    await peer.start();
    try {
      expect(peer.targets()).toEqual(['127.0.0.1:1']);
      expect(peer.router.connectionMaker.targets()).toEqual(['127.0.0.1:1']);
      expect(peer.dns.lookup('early')).toEqual(['10.32.0.9']);
    } finally {
      await peer.stop();
    }
  });

  it('after stop every call throws PeerStoppedError; start() again works', async () => {
    const peer = running();
    await peer.start();
    const cidr = await peer.allocate('c1');
    await peer.stop();
    expect(peer.state).toBe('stopped');
    const calls: [string, () => unknown][] = [
      ['allocate', () => peer.allocate('c2')],
      ['claim', () => peer.claim('c2', '10.32.0.9/12')],
      ['release', () => peer.release('c1')],
      ['addressesOf', () => peer.addressesOf('c1')],
      ['connect', () => peer.connect(['10.0.0.1'])],
      ['forget', () => peer.forget(['10.0.0.1'])],
      ['rmpeer', () => peer.rmpeer('x')],
      ['status', () => peer.status()],
      ['statusText', () => peer.statusText()],
      ['whenConverged', () => peer.whenConverged({ peers: 1 })],
      ['dns.add', () => peer.dns.add('c1', '10.32.0.1', 'a.weave.local')],
      ['dns.remove', () => peer.dns.remove('c1')],
      ['dns.lookup', () => peer.dns.lookup('a')],
      ['ready', () => peer.ready],
    ];
    for (const [what, call] of calls) {
      let error: unknown;
      try {
        await call();
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(PeerStoppedError);
    }
    await peer.start();
    try {
      expect(peer.state).toBe('running');
      expect(peer.addressesOf('c1')).toEqual([cidr]);
      await peer.ready;
      expect(peer.status().Ready).toBe(true);
    } finally {
      await peer.stop();
    }
  });

  it('concurrent start() calls share one start; stop() during a start waits for it', async () => {
    const peer = running();
    const first = peer.start();
    const second = peer.start();
    expect(peer.state).toBe('starting');
    const stopped = peer.stop();
    await Promise.all([first, second, stopped]);
    expect(peer.state).toBe('stopped');
    expect(peer.dns.address()).toBeUndefined();
  });

  it('await using stops the peer at scope exit', async () => {
    let escaped: WeavePeer | undefined;
    {
      await using peer = running();
      await peer.start();
      escaped = peer;
      expect(peer.state).toBe('running');
    }
    expect(escaped.state).toBe('stopped');
  });

  it('dns.add outside the domain, bad addresses and container ids are typed errors', async () => {
    const peer = running();
    await peer.start();
    try {
      expect(() => peer.dns.add('c1', '10.32.0.1', 'web')).toThrow(DnsNameOutsideDomainError);
      expect(() => peer.dns.add('c1', '10.32.0.1', 'web.example.com')).toThrow(DnsNameOutsideDomainError);
      expect(() => peer.dns.add('c1', '10.32.0.300', 'web.weave.local')).toThrow(InvalidAddressError);
      expect(() => peer.dns.add('', '10.32.0.1', 'web.weave.local')).toThrow(InvalidContainerIdError);
      await expect(peer.claim('c1', 'garbage')).rejects.toBeInstanceOf(InvalidAddressError);
      await expect(peer.allocate('c1', { subnet: '10.32.0.0/99' })).rejects.toBeInstanceOf(
        InvalidAddressError,
      );
      expect(() => peer.release('c1', 'nope')).toThrow(InvalidAddressError);
      expect(() => peer.connect(['a:b:c'])).toThrow(InvalidPeerAddressError);
      expect(() => peer.statusText('nope' as never)).toThrow(InvalidPeerOptionError);
    } finally {
      await peer.stop();
    }
    const bare = createPeer({ ipam: false, dns: false, port: 0, host: '127.0.0.1' });
    await bare.start();
    try {
      await expect(bare.allocate('c')).rejects.toBeInstanceOf(FeatureDisabledError);
      expect(() => bare.dns.lookup('x')).toThrow(FeatureDisabledError);
      expect(() => bare.statusText('ipam')).toThrow(FeatureDisabledError);
      expect(bare.status().IPAM).toBeUndefined();
      await bare.ready;
    } finally {
      await bare.stop();
    }
  });

  it('generated names are unique per peer in one process', () => {
    const names = new Set(Array.from({ length: 50 }, () => createPeer().name));
    expect(names.size).toBe(50);
    for (const n of names) expect(Number.parseInt(n.slice(0, 2), 16) & 0x03).toBe(0x02);
  });
});
