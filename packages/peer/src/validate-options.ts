import { isIPv4 } from 'node:net';
import { parsePeerName } from '@weave-ts/core';
import {
  type CIDR,
  cidrRange,
  type InitMode,
  parseCIDR,
  parseInitMode,
  parseSubnet,
  rangeContains,
} from '@weave-ts/ipam';
import {
  InvalidBooleanOptionError,
  InvalidBridgeOptionError,
  InvalidConnLimitError,
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
  UnknownPeerOptionError,
} from './peer-errors.js';
import type { DatapathBackend, DatapathKind, PeerOptions, ResolvedBridgeOptions } from './peer-options.js';

/** Upstream's default allocation range. */
export const DEFAULT_IPAM_RANGE = '10.32.0.0/12';
/** weaveDNS's default domain. */
export const DEFAULT_DNS_DOMAIN = 'weave.local.';
/** Where an embedded peer's DNS server listens unless told otherwise. */
export const DEFAULT_DNS_LISTEN = '127.0.0.1:53';
/** The default bridge name. */
export const DEFAULT_BRIDGE = 'weave';
/** Sleeve-only bridges run at (nearly) 65535; a TAP's maximum is 65521. */
export const DEFAULT_SLEEVE_MTU = 65521;

/** IPAM options after validation. */
export interface ResolvedIpam {
  readonly range: CIDR;
  readonly rangeText: string;
  readonly defaultSubnet?: string;
  readonly mode: InitMode;
  /** Automatic reclaim after this long unreachable; undefined = off. */
  readonly reclaimAfterMs?: number;
}

/** DNS options after validation. */
export interface ResolvedDns {
  readonly domain: string;
  readonly listen: { readonly host: string; readonly port: number } | false;
  readonly upstream: readonly string[] | 'resolv.conf';
  readonly upstreamPort: number;
  readonly ttl: number;
  /** Undefined: the peer's default (see `peerRecursionNetworks`). */
  readonly recursionFrom?: readonly string[];
}

/** `createPeer` options after validation. */
export interface ResolvedOptions {
  readonly name?: string;
  readonly nickname?: string;
  readonly host: string;
  readonly port: number;
  readonly peers: readonly string[];
  readonly password?: string | Uint8Array;
  readonly trustedSubnets: readonly string[];
  readonly discovery: boolean;
  readonly connLimit: number;
  readonly ipam: ResolvedIpam | false;
  readonly dns: ResolvedDns | false;
  readonly datapath: DatapathKind | DatapathBackend;
  readonly bridge: ResolvedBridgeOptions;
  readonly dataDir?: string;
  readonly gossipIntervalMs?: number;
}

const KNOWN_OPTIONS = new Set([
  'name',
  'nickname',
  'host',
  'port',
  'peers',
  'password',
  'trustedSubnets',
  'discovery',
  'connLimit',
  'ipam',
  'dns',
  'datapath',
  'bridge',
  'dataDir',
  'gossipIntervalMs',
  'logger',
  'clock',
  'random',
  'transport',
]);
const KNOWN_IPAM = new Set(['range', 'defaultSubnet', 'init', 'reclaimAfterMs']);
const KNOWN_DNS = new Set(['domain', 'listen', 'upstream', 'ttl', 'recursionFrom']);
const KNOWN_BRIDGE = new Set(['name', 'mtu', 'tap', 'keep']);
const DATAPATH_KINDS: readonly string[] = ['auto', 'fastdp', 'sleeve', 'memory', 'none'];

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

const describe = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(prefix: string, value: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new UnknownPeerOptionError(`${prefix}${key}`, value[key]);
  }
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

/** A peer address `host[:port]` (as `weave connect` takes it). @throws InvalidPeerAddressError */
export function checkPeerAddress(option: string, peer: unknown): string {
  if (typeof peer !== 'string') {
    throw new InvalidPeerAddressError(option, peer, `${describe(peer)} is not a string`);
  }
  const parts = peer.split(':');
  const [host = '', port] = parts;
  const ok =
    parts.length <= 2 &&
    HOSTNAME.test(host) &&
    (port === undefined || (/^\d{1,5}$/.test(port) && Number(port) > 0 && Number(port) <= 65535));
  if (!ok) {
    throw new InvalidPeerAddressError(
      option,
      peer,
      `invalid peer name ${JSON.stringify(peer)}, should be host[:port]`,
    );
  }
  return peer;
}

/** A DNS domain, fully qualified and lower-cased. @throws InvalidDomainError */
export function checkDomain(option: string, domain: unknown): string {
  if (typeof domain !== 'string' || domain.length === 0 || domain.length > 253) {
    throw new InvalidDomainError(option, domain, `${describe(domain)} is not a DNS domain`);
  }
  const trimmed = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  if (trimmed === '' || !trimmed.split('.').every((l) => LABEL.test(l))) {
    throw new InvalidDomainError(option, domain, `${describe(domain)} is not a DNS domain`);
  }
  return `${trimmed.toLowerCase()}.`;
}

function checkHostPort(
  option: string,
  value: unknown,
  make: (msg: string, cause?: unknown) => InvalidPeerOptionError,
): { host: string; port: number } {
  if (typeof value !== 'string') throw make(`${describe(value)} is not host:port`);
  const sep = value.lastIndexOf(':');
  const host = sep < 0 ? value : value.slice(0, sep);
  const portText = sep < 0 ? '' : value.slice(sep + 1);
  if (!isIPv4(host)) throw make(`${describe(value)}: ${describe(host)} is not an IPv4 address`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw make(`${describe(value)}: port must be 0..65535`);
  }
  void option;
  return { host, port: Number(portText) };
}

function resolveIpam(value: unknown): ResolvedIpam | false {
  if (value === false) return false;
  if (value === undefined) value = {};
  if (!isObject(value)) {
    throw new InvalidPeerOptionError('ipam', value, 'must be false or an object');
  }
  checkKeys('ipam.', value, KNOWN_IPAM);
  const rangeText = value.range ?? DEFAULT_IPAM_RANGE;
  let range: CIDR;
  try {
    if (typeof rangeText !== 'string') throw new TypeError(`${describe(rangeText)} is not a string`);
    range = parseSubnet(rangeText);
  } catch (cause) {
    throw new InvalidRangeError('ipam.range', rangeText, (cause as Error).message, { cause });
  }
  let defaultSubnet: string | undefined;
  if (value.defaultSubnet !== undefined) {
    const text = value.defaultSubnet;
    let subnet: CIDR;
    try {
      if (typeof text !== 'string') throw new TypeError(`${describe(text)} is not a string`);
      subnet = parseSubnet(text);
    } catch (cause) {
      throw new InvalidDefaultSubnetError('ipam.defaultSubnet', text, (cause as Error).message, { cause });
    }
    const r = cidrRange(range);
    const s = cidrRange(subnet);
    if (!rangeContains(r, s.start) || !rangeContains(r, s.end - 1)) {
      throw new InvalidDefaultSubnetError(
        'ipam.defaultSubnet',
        text,
        `${text} is not inside the range ${rangeText}`,
      );
    }
    defaultSubnet = text as string;
  }
  const init = value.init ?? 'consensus';
  let mode: InitMode;
  if (typeof init !== 'string') {
    throw new InvalidIpamInitError('ipam.init', init, `${describe(init)} is not a string`);
  }
  try {
    mode = parseInitMode(init);
  } catch (cause) {
    if (init.startsWith('seed=')) {
      throw new InvalidSeedError('ipam.init', init, `${init}: every seed must be a peer name`, { cause });
    }
    throw new InvalidIpamInitError(
      'ipam.init',
      init,
      `${describe(init)}: expected consensus, consensus=N, seed=NAME,… or observer`,
      { cause },
    );
  }
  const reclaim = value.reclaimAfterMs;
  if (
    reclaim !== undefined &&
    (typeof reclaim !== 'number' || !Number.isSafeInteger(reclaim) || reclaim <= 0)
  ) {
    throw new InvalidReclaimAfterError(
      'ipam.reclaimAfterMs',
      reclaim,
      `${describe(reclaim)} is not a positive whole number of milliseconds`,
    );
  }
  return {
    range,
    rangeText: rangeText as string,
    ...(defaultSubnet ? { defaultSubnet } : {}),
    mode,
    ...(reclaim !== undefined ? { reclaimAfterMs: reclaim as number } : {}),
  };
}

function resolveDns(value: unknown): ResolvedDns | false {
  if (value === false) return false;
  if (value === undefined) value = {};
  if (!isObject(value)) throw new InvalidPeerOptionError('dns', value, 'must be false or an object');
  checkKeys('dns.', value, KNOWN_DNS);
  const domain = checkDomain('dns.domain', value.domain ?? DEFAULT_DNS_DOMAIN);
  let listen: ResolvedDns['listen'];
  if (value.listen === false) listen = false;
  else {
    const text = value.listen ?? DEFAULT_DNS_LISTEN;
    listen = checkHostPort(
      'dns.listen',
      text,
      (msg, cause) => new InvalidDnsListenError('dns.listen', text, msg, { cause }),
    );
  }
  let upstream: ResolvedDns['upstream'] = [];
  let upstreamPort = 53;
  if (value.upstream === 'resolv.conf') upstream = 'resolv.conf';
  else if (value.upstream !== undefined) {
    const list = value.upstream;
    if (!Array.isArray(list)) {
      throw new InvalidUpstreamError('dns.upstream', list, "must be a list of addresses or 'resolv.conf'");
    }
    const ports = new Set<number>();
    upstream = list.map((entry) => {
      const [ip = '', port, ...rest] = typeof entry === 'string' ? entry.split(':') : [];
      if (
        !isIPv4(ip) ||
        rest.length > 0 ||
        (port !== undefined && !(/^\d{1,5}$/.test(port) && isPort(Number(port)) && Number(port) > 0))
      ) {
        throw new InvalidUpstreamError(
          'dns.upstream',
          entry,
          `${describe(entry)} is not an IPv4 address[:port]`,
        );
      }
      ports.add(port === undefined ? 53 : Number(port));
      return ip;
    });
    if (ports.size > 1) {
      throw new InvalidUpstreamError('dns.upstream', list, 'all upstream servers must use the same port');
    }
    upstreamPort = [...ports][0] ?? 53;
  }
  const ttl = value.ttl ?? 1;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 2 ** 31 - 1) {
    throw new InvalidTtlError('dns.ttl', ttl, `${describe(ttl)} is not a whole number of seconds`);
  }
  let recursionFrom: string[] | undefined;
  if (value.recursionFrom !== undefined) {
    const list = value.recursionFrom;
    if (!Array.isArray(list)) {
      throw new InvalidRecursionFromError('dns.recursionFrom', list, 'must be a list of IPv4 CIDRs');
    }
    recursionFrom = list.map((cidr: unknown) => {
      try {
        if (typeof cidr !== 'string') throw new TypeError(`${describe(cidr)} is not a string`);
        parseCIDR(cidr);
      } catch (cause) {
        throw new InvalidRecursionFromError(
          'dns.recursionFrom',
          cidr,
          `invalid CIDR address: ${describe(cidr)}`,
          { cause },
        );
      }
      return cidr;
    });
  }
  return { domain, listen, upstream, upstreamPort, ttl, ...(recursionFrom ? { recursionFrom } : {}) };
}

function resolveDatapath(value: unknown): DatapathKind | DatapathBackend {
  if (value === undefined) return 'none';
  if (typeof value === 'string') {
    if (DATAPATH_KINDS.includes(value)) return value as DatapathKind;
    throw new InvalidDatapathError(
      'datapath',
      value,
      `${describe(value)}: expected ${DATAPATH_KINDS.join(', ')} or a backend object`,
    );
  }
  if (isObject(value) && typeof value.kind === 'string' && typeof value.open === 'function') {
    return value as unknown as DatapathBackend;
  }
  throw new InvalidDatapathError(
    'datapath',
    value,
    'a backend object needs a string `kind` and an `open()` method',
  );
}

/**
 * Checks every option of `createPeer` and fills in defaults; throws the first problem as a typed
 * {@link InvalidPeerOptionError} subclass (the original error as `cause` where there is one).
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (!isObject(options)) throw new InvalidPeerOptionError('options', options, 'must be an object');
  const o = options as Record<string, unknown> & PeerOptions;
  checkKeys('', o, KNOWN_OPTIONS);

  let name: string | undefined;
  if (o.name !== undefined) {
    try {
      if (typeof o.name !== 'string') throw new TypeError(`${describe(o.name)} is not a string`);
      name = parsePeerName(o.name);
    } catch (cause) {
      throw new InvalidPeerNameOptionError('name', o.name, (cause as Error).message, { cause });
    }
  }
  if (
    o.nickname !== undefined &&
    (typeof o.nickname !== 'string' || o.nickname.length === 0 || /[\0-\x1f]/.test(o.nickname))
  ) {
    throw new InvalidNicknameError(
      'nickname',
      o.nickname,
      'must be a non-empty string without control characters',
    );
  }
  const host = o.host ?? '0.0.0.0';
  if (typeof host !== 'string' || !isIPv4(host)) {
    throw new InvalidHostError('host', host, `${describe(host)} is not an IPv4 address`);
  }
  const port = o.port ?? 6783;
  if (!isPort(port)) throw new InvalidPortError('port', port, `${describe(port)} is not a port (0..65535)`);
  const peersIn = o.peers ?? [];
  if (!Array.isArray(peersIn))
    throw new InvalidPeerAddressError('peers', peersIn, 'must be a list of host[:port]');
  const peers = peersIn.map((p) => checkPeerAddress('peers', p));
  if (o.password !== undefined) {
    const ok =
      (typeof o.password === 'string' && o.password.length > 0) ||
      (o.password instanceof Uint8Array && o.password.length > 0);
    if (!ok)
      throw new InvalidPasswordError('password', '<redacted>', 'must be a non-empty string or Uint8Array');
  }
  const trustedIn = o.trustedSubnets ?? [];
  if (!Array.isArray(trustedIn)) {
    throw new InvalidTrustedSubnetError('trustedSubnets', trustedIn, 'must be a list of CIDRs');
  }
  for (const cidr of trustedIn) {
    try {
      if (typeof cidr !== 'string') throw new TypeError(`${describe(cidr)} is not a string`);
      parseCIDR(cidr);
    } catch (cause) {
      throw new InvalidTrustedSubnetError('trustedSubnets', cidr, `invalid CIDR address: ${String(cidr)}`, {
        cause,
      });
    }
  }
  const discovery = o.discovery ?? true;
  if (typeof discovery !== 'boolean')
    throw new InvalidBooleanOptionError('discovery', discovery, 'must be a boolean');
  const connLimit = o.connLimit ?? 200;
  if (typeof connLimit !== 'number' || !Number.isInteger(connLimit) || connLimit < 0) {
    throw new InvalidConnLimitError(
      'connLimit',
      connLimit,
      `${describe(connLimit)} is not a non-negative integer`,
    );
  }
  const ipam = resolveIpam(o.ipam);
  const dns = resolveDns(o.dns);
  const datapath = resolveDatapath(o.datapath);
  const bridgeIn = o.bridge ?? {};
  if (!isObject(bridgeIn)) throw new InvalidBridgeOptionError('bridge', bridgeIn, 'must be an object');
  checkKeys('bridge.', bridgeIn, KNOWN_BRIDGE);
  const bridgeName = bridgeIn.name ?? 'weave';
  if (typeof bridgeName !== 'string' || !IFNAME.test(bridgeName)) {
    throw new InvalidBridgeOptionError(
      'bridge.name',
      bridgeName,
      `${describe(bridgeName)} is not an interface name (1-15 characters)`,
    );
  }
  const mtu = bridgeIn.mtu;
  if (mtu !== undefined && (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 576 || mtu > 65535)) {
    throw new InvalidBridgeOptionError('bridge.mtu', mtu, `${describe(mtu)} is not an MTU (576..65535)`);
  }
  const tap = bridgeIn.tap ?? 'vethwe-tap';
  if (typeof tap !== 'string' || !IFNAME.test(tap) || tap === bridgeName) {
    throw new InvalidBridgeOptionError(
      'bridge.tap',
      tap,
      `${describe(tap)} is not an interface name (1-15 characters, not the bridge's)`,
    );
  }
  const keep = bridgeIn.keep ?? false;
  if (typeof keep !== 'boolean') throw new InvalidBridgeOptionError('bridge.keep', keep, 'must be a boolean');
  if (
    o.dataDir !== undefined &&
    (typeof o.dataDir !== 'string' || o.dataDir.length === 0 || o.dataDir.includes('\0'))
  ) {
    throw new InvalidDataDirError('dataDir', o.dataDir, 'must be a non-empty path');
  }
  const gossip = o.gossipIntervalMs;
  if (gossip !== undefined && (typeof gossip !== 'number' || !Number.isInteger(gossip) || gossip <= 0)) {
    throw new InvalidPeerOptionError('gossipIntervalMs', gossip, 'must be a positive integer');
  }
  return {
    ...(name !== undefined ? { name } : {}),
    ...(o.nickname !== undefined ? { nickname: o.nickname } : {}),
    host,
    port,
    peers,
    ...(o.password !== undefined ? { password: o.password } : {}),
    trustedSubnets: trustedIn as string[],
    discovery,
    connLimit,
    ipam,
    dns,
    datapath,
    bridge: { name: bridgeName, mtu: mtu as number | undefined, tap, keep },
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(gossip !== undefined ? { gossipIntervalMs: gossip } : {}),
  };
}
