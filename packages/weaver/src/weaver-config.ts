import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseCIDR, parseSubnet } from '@weave-ts/ipam';
import type { DatapathKind, PeerOptions } from '@weave-ts/peer';
import { type LogLevel, parseLogLevel } from './log.js';

/**
 * weaver's command line: upstream's flags (`--port --name --nickname --host --password
 * --trusted-subnets --no-discovery --conn-limit --ipalloc-range --ipalloc-default-subnet
 * --ipalloc-init --no-dns --dns-listen-address --dns-domain --dns-ttl --resolv-conf --datapath
 * --no-fastdp --mtu --weave-bridge --db-prefix --http-addr --status-addr --metrics-addr --log-level
 * --resume --version`, peers as arguments, `WEAVE_PASSWORD` from the environment), parsed with
 * commander and checked with upstream's messages, then mapped to `createPeer` options.
 */

/** The daemon's version, printed by `--version` and in `/status`. */
export const WEAVER_VERSION = '2.8.1-ts';

/** Everything the command line says. */
export interface WeaverConfig {
  /** Options for `createPeer` (logger added by the daemon). */
  peer: PeerOptions;
  /** `--http-addr` (control API), '' = off; an absolute path = unix socket. */
  httpAddr: string;
  /** `--status-addr` (status + metrics), '' = off. */
  statusAddr: string;
  /** `--metrics-addr` (metrics only), '' = off. */
  metricsAddr: string;
  /** `--log-level`. */
  logLevel: LogLevel;
  /** `--db-prefix`; the peer's dataDir is `${dbPrefix}data`. '' = no persistence. */
  dbPrefix: string;
  /** `--weave-bridge`. */
  bridge: string;
  /** `--resume`: reuse the persisted targets instead of arguments. */
  resume: boolean;
  /** Flags as given, for the `Command line options:` log line (password redacted). */
  given: Record<string, string>;
  /** Docker-related flags, for the Docker services (parsed here, used there). */
  docker: DockerFlags;
}

/** The Docker flags of the command line. */
export interface DockerFlags {
  /** `--docker-api` ('' = none given). */
  api: string;
  /** `--plugin` (legacy plugin). */
  plugin: boolean;
  /** `--plugin-v2`. */
  pluginV2: boolean;
  /** `--plugin-v2-multicast`. */
  pluginV2Multicast: boolean;
  /** `--plugin-socket`. */
  pluginSocket: string;
  /** `--plugin-mesh-socket`. */
  pluginMeshSocket: string;
  /** `--proxy`. */
  proxy: boolean;
  /** `--no-multicast-route`. */
  noMulticastRoute: boolean;
}

/** A command line upstream would refuse: the text to log (FATA) and the exit code. */
export class WeaverUsageError extends Error {
  /** The error's stable name: `'WeaverUsageError'`. */
  override name = 'WeaverUsageError';
  constructor(
    message: string,
    /** The process exit code (1, as Go's log.Fatal). */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What {@link parseWeaverArgs} decided: run, or print something and exit. */
export type WeaverCommand = WeaverRun | WeaverExit;

/** Run the daemon with this configuration. */
export interface WeaverRun {
  /** Discriminant. */
  kind: 'run';
  /** The parsed command line. */
  config: WeaverConfig;
}

/** Print `output` (stdout when `exitCode` is 0, else stderr) and exit. */
export interface WeaverExit {
  /** Discriminant. */
  kind: 'exit';
  /** Help, version or usage error text. */
  output: string;
  /** 0 for `--help`/`--version`, 2 for a bad flag. */
  exitCode: number;
}

const intArg = (min: number, max: number) => (value: string) => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('not an integer.');
  const n = Number(value);
  if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}.`);
  return n;
};

/** The commander program (exported for `--help` text and tests). */
export function weaverProgram(): Command {
  const p = new Command('weaver')
    .description('Weave Net router: a mesh peer with IPAM, weaveDNS and the HTTP API')
    .argument('[peers...]', 'initial peers (host or host:port)')
    .option('--version', 'print version and exit')
    .option('--host <addr>', 'router host (listen address)', '')
    .option('--port <n>', 'router port', intArg(0, 65535), 6783)
    .option('--name <mac>', 'name of router (defaults to MAC of bridge, then persisted, then random)')
    .option('--nickname <name>', 'nickname of peer (defaults to hostname)')
    .option('--password <pw>', 'network password (or WEAVE_PASSWORD)')
    .option('--trusted-subnets <cidrs>', 'comma-separated list of trusted subnets in CIDR notation', '')
    .option('--no-discovery', 'disable peer discovery')
    .option('--conn-limit <n>', 'connection limit (0 for unlimited)', intArg(0, 1_000_000), 200)
    .option(
      '--ipalloc-range <cidr>',
      'IP address range reserved for automatic allocation, in CIDR notation',
      '',
    )
    .option('--ipalloc-default-subnet <cidr>', 'subnet to allocate within by default, in CIDR notation', '')
    .option(
      '--ipalloc-init <mode>',
      'allocator initialisation strategy (consensus[=N], seed=NAMES or observer)',
      '',
    )
    .option(
      '--ipalloc-reclaim-after <ms>',
      "take over the ranges of a peer unreachable this many milliseconds (not upstream's; off by default)",
      intArg(1, Number.MAX_SAFE_INTEGER),
    )
    .option('--no-dns', 'disable DNS server')
    .option('--dns-domain <domain>', 'local domain to server requests for', 'weave.local.')
    .option('--dns-listen-address <addr>', 'address to listen on for DNS requests', '0.0.0.0:53')
    .option('--dns-ttl <n>', 'TTL for DNS request from our domain', intArg(0, 2 ** 31 - 1), 1)
    .option('--dns-fallback-timeout <d>', 'timeout for fallback DNS requests (accepted, fixed at 5s)')
    .option('--resolv-conf <path>', 'path to resolver configuration for fallback DNS lookups', '')
    .option(
      '--dns-recursion-from <cidrs>',
      "comma-separated CIDRs whose queries outside the domain are forwarded upstream (not upstream's; default loopback, the IPAM range and the listen subnet)",
      '',
    )
    .addOption(
      new Option('--datapath <kind>', 'datapath: auto, fastdp, sleeve, none (or memory)')
        .choices(['auto', 'fastdp', 'sleeve', 'none', 'memory'])
        .default('auto'),
    )
    .option('--no-fastdp', 'disable fast datapath')
    .option('--mtu <n>', 'MTU size', intArg(0, 65535), 0)
    .option('--weave-bridge <name>', 'name of weave bridge', 'weave')
    .option('--db-prefix <prefix>', 'pathname/prefix of filename to store data', '/var/lib/weave/weave')
    .option(
      '--http-addr <addr>',
      'address to bind HTTP interface to (disabled if blank, absolute path = unix socket)',
      '127.0.0.1:6784',
    )
    .option(
      '--status-addr <addr>',
      'address to bind status+metrics interface to (disabled if blank)',
      '127.0.0.1:6782',
    )
    .option('--metrics-addr <addr>', 'address to bind metrics interface to (disabled if blank)', '')
    .option('--log-level <level>', 'logging level (debug, info, warning, error)', 'info')
    .option('--resume', 'resume connections to previous peers')
    .option('--docker-api <url>', 'Docker API endpoint (Docker services)', '')
    .option('--plugin', 'enable Docker plugin (v1)')
    .option('--plugin-v2', 'enable Docker plugin (v2)')
    .option('--plugin-v2-multicast', 'enable multicast for Docker plugin (v2)')
    .option('--plugin-socket <path>', 'plugin socket on which to listen', '/run/docker/plugins/weave.sock')
    .option(
      '--plugin-mesh-socket <path>',
      'plugin socket on which to listen in mesh mode',
      '/run/docker/plugins/weavemesh.sock',
    )
    .option('--proxy', 'start the Docker proxy')
    .option('--no-multicast-route', 'do not add a multicast route when attaching containers')
    .helpOption('--help', 'show this help')
    .allowExcessArguments(true);
  p.exitOverride();
  p.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  return p;
}

function checkInitMode(mode: string): void {
  const [kind, param] = mode.includes('=')
    ? [mode.slice(0, mode.indexOf('=')), mode.slice(mode.indexOf('=') + 1)]
    : [mode, undefined];
  const fail = (m: string) => {
    throw new WeaverUsageError(`Unable to parse --ipalloc-init: ${m}`);
  };
  switch (kind) {
    case 'consensus':
      if (param !== undefined && !/^-?\d+$/.test(param))
        fail(`bad consensus parameter: strconv.Atoi: parsing ${JSON.stringify(param)}: invalid syntax`);
      break;
    case 'seed':
      if (param === undefined) fail('seed mode requires peer name list');
      break;
    case 'observer':
      if (param !== undefined) fail('observer mode takes no parameter');
      break;
    default:
      fail(`unknown mode: ${kind}`);
  }
}

/** `nameserver a.b.c.d` lines of a resolv.conf. */
export function readResolvConf(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new WeaverUsageError(`Unable to read --resolv-conf ${path}: ${(err as Error).message}`);
  }
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => s !== undefined);
}

/**
 * Parses `argv` (without node and the script). Never exits: `--help`/`--version` and flag errors
 * come back as `{kind: 'exit'}` (exit code 2 for a bad flag, as Go's flag package); semantic errors
 * throw {@link WeaverUsageError} with upstream's message (logged as FATA, exit 1).
 */
export function parseWeaverArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): WeaverCommand {
  const program = weaverProgram();
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')
        return { kind: 'exit', output: program.helpInformation(), exitCode: 0 };
      return { kind: 'exit', output: `${err.message}\n${program.helpInformation()}`, exitCode: 2 };
    }
    throw err;
  }
  const o = program.opts();
  if (o.version) return { kind: 'exit', output: `weave ${WEAVER_VERSION}\n`, exitCode: 0 };
  const peers = program.args;
  let logLevel: LogLevel;
  try {
    logLevel = parseLogLevel(o.logLevel);
  } catch (err) {
    throw new WeaverUsageError((err as Error).message);
  }
  if (o.resume && peers.length > 0)
    throw new WeaverUsageError('You must not specify an initial peer list in conjunction with --resume');

  // IPAM: on only with a range, as upstream's weaver (the `weave` script always passes one).
  const range: string = o.ipallocRange;
  const defaultSubnet: string = o.ipallocDefaultSubnet;
  const init: string = o.ipallocInit;
  if (range === '' && defaultSubnet !== '')
    throw new WeaverUsageError('--ipalloc-default-subnet specified without --ipalloc-range.');
  if (range === '' && init !== '')
    throw new WeaverUsageError('--ipalloc-init specified without --ipalloc-range.');
  const reclaimAfterMs = o.ipallocReclaimAfter as number | undefined;
  if (range === '' && reclaimAfterMs !== undefined)
    throw new WeaverUsageError('--ipalloc-reclaim-after specified without --ipalloc-range.');
  if (init !== '') checkInitMode(init);
  for (const cidr of [range, defaultSubnet]) {
    if (cidr === '') continue;
    try {
      parseSubnet(cidr);
    } catch (err) {
      throw new WeaverUsageError((err as Error).message);
    }
  }

  const trusted = (o.trustedSubnets as string) === '' ? [] : (o.trustedSubnets as string).split(',');
  for (const t of trusted) {
    try {
      parseCIDR(t);
    } catch (err) {
      throw new WeaverUsageError(`Unable to parse trusted subnets: ${(err as Error).message}`);
    }
  }

  const recursionText = o.dnsRecursionFrom as string;
  const recursionFrom = recursionText === '' ? undefined : recursionText.split(',');
  for (const cidr of recursionFrom ?? []) {
    try {
      parseCIDR(cidr);
    } catch (err) {
      throw new WeaverUsageError(`Unable to parse --dns-recursion-from: ${(err as Error).message}`);
    }
  }

  let datapath = o.datapath as DatapathKind;
  if (o.fastdp === false) {
    if (datapath === 'fastdp') throw new WeaverUsageError('--no-fastdp conflicts with --datapath fastdp');
    if (datapath === 'auto') datapath = 'sleeve';
  }

  const password: string = o.password ?? env.WEAVE_PASSWORD ?? '';
  const dbPrefix: string = o.dbPrefix;
  const dnsListen: string = o.dnsListenAddress;
  if (o.dns !== false && !/^(\[[^\]]*\]|[^:]*):\d+$/.test(dnsListen))
    throw new WeaverUsageError(`Unable to start dns server: address ${dnsListen}: missing port in address`);

  const peer: PeerOptions = {
    ...(o.name !== undefined ? { name: o.name as string } : {}),
    ...(o.nickname !== undefined ? { nickname: o.nickname as string } : {}),
    ...(o.host !== '' ? { host: o.host as string } : {}),
    port: o.port as number,
    peers,
    ...(password !== '' ? { password } : {}),
    trustedSubnets: trusted,
    discovery: o.discovery !== false,
    connLimit: o.connLimit as number,
    ipam:
      range === ''
        ? false
        : {
            range,
            ...(defaultSubnet !== '' ? { defaultSubnet } : {}),
            ...(init !== '' ? { init } : {}),
            ...(reclaimAfterMs !== undefined ? { reclaimAfterMs } : {}),
          },
    dns:
      o.dns === false
        ? false
        : {
            domain: o.dnsDomain as string,
            listen: dnsListen,
            ttl: o.dnsTtl as number,
            ...(o.resolvConf !== '' ? { upstream: readResolvConf(o.resolvConf as string) } : {}),
            ...(recursionFrom ? { recursionFrom } : {}),
          },
    datapath,
    // The bridge outlives the daemon (containers stay attached across restarts); `weave reset` removes it.
    bridge: {
      name: o.weaveBridge as string,
      keep: true,
      ...((o.mtu as number) > 0 ? { mtu: o.mtu as number } : {}),
    },
    ...(dbPrefix !== '' ? { dataDir: `${dbPrefix}data` } : {}),
  };

  const given: Record<string, string> = {};
  for (const opt of program.options) {
    const key = opt.attributeName();
    if (program.getOptionValueSource(key) !== 'cli') continue;
    const name = opt.long?.replace(/^--(no-)?/, '') ?? key;
    given[opt.negate ? `no-${name}` : name] = name === 'password' ? '<redacted>' : String(o[key]);
  }

  return {
    kind: 'run',
    config: {
      peer,
      httpAddr: o.httpAddr,
      statusAddr: o.statusAddr,
      metricsAddr: o.metricsAddr,
      logLevel,
      dbPrefix,
      bridge: o.weaveBridge,
      resume: o.resume === true,
      given,
      docker: {
        api: o.dockerApi,
        plugin: o.plugin === true,
        pluginV2: o.pluginV2 === true,
        pluginV2Multicast: o.pluginV2Multicast === true,
        pluginSocket: o.pluginSocket,
        pluginMeshSocket: o.pluginMeshSocket,
        proxy: o.proxy === true,
        noMulticastRoute: o.multicastRoute === false,
      },
    },
  };
}

/** Go's `%v` of a `map[string]string`: `map[a:1 b:2]`, keys sorted. */
export function formatOptionsMap(given: Record<string, string>): string {
  return `map[${Object.keys(given)
    .sort()
    .map((k) => `${k}:${given[k]}`)
    .join(' ')}]`;
}
