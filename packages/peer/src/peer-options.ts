import type {
  Clock,
  LocalPort,
  Logger,
  Overlay,
  PeerName,
  Random,
  Router,
  StreamTransport,
} from '@weave-ts/core';

/** IPAM options (`--ipalloc-range`, `--ipalloc-default-subnet`, `--ipalloc-init`). */
export interface PeerIpamOptions {
  /** The allocation range, default `10.32.0.0/12`. */
  readonly range?: string;
  /** Where allocations without a subnet go; default the whole range. */
  readonly defaultSubnet?: string;
  /** `'consensus'` (default), `'consensus=N'`, `'seed=NAME,NAME…'` or `'observer'`. */
  readonly init?: string;
  /**
   * Automatic reclaim (ours; off by default): a ring owner missing from the topology this many
   * milliseconds has its ranges taken over by the lowest-named reachable owner, only while a majority
   * of the owners is reachable.
   */
  readonly reclaimAfterMs?: number;
}

/** weaveDNS options (`--dns-domain`, `--dns-listen-address`, `--dns-ttl`, upstream servers). */
export interface PeerDnsOptions {
  /** The domain names are served in, default `weave.local.` (a trailing dot is added). */
  readonly domain?: string;
  /**
   * Where the DNS server listens, `host:port` (default `127.0.0.1:53`; port 0 picks a free one), or
   * `false` for no server (names are still gossiped and `dns.lookup` works).
   */
  readonly listen?: string | false;
  /** Upstream resolvers for names outside the domain (`'1.1.1.1'`, `'1.1.1.1:53'`), `'resolv.conf'`, or none (default). */
  readonly upstream?: readonly string[] | 'resolv.conf';
  /** TTL of answers in seconds, default 1. */
  readonly ttl?: number;
  /**
   * IPv4 CIDRs of the clients whose queries outside the domain are forwarded upstream (others get
   * REFUSED; names in the domain answer everyone). Default: loopback, the IPAM range, and the subnet
   * of the listen address, or on `0.0.0.0` the `docker0` subnet instead of every local subnet.
   */
  readonly recursionFrom?: readonly string[];
}

/** The Linux bridge containers attach to (kernel datapaths only). */
export interface PeerBridgeOptions {
  /** Bridge name, default `weave`. */
  readonly name?: string;
  /** MTU of the bridge and its ports, default 65521 for sleeve only, 1376 with fastdp. */
  readonly mtu?: number;
  /** The TAP between the bridge and the router, default `vethwe-tap`. */
  readonly tap?: string;
  /** Keep a bridge this peer created when it stops (default false: `stop()` removes it). */
  readonly keep?: boolean;
}

/** Bridge options after defaults. */
export interface ResolvedBridgeOptions {
  /** Bridge name. */
  readonly name: string;
  /** Undefined: the datapath's default. */
  readonly mtu: number | undefined;
  /** TAP name. */
  readonly tap: string;
  /** Keep a bridge this peer created when it stops. */
  readonly keep: boolean;
}

/** What a {@link DatapathBackend} gets when the peer opens it (on every `start()`). */
export interface DatapathContext {
  /** Our peer name. */
  readonly peerName: PeerName;
  /** The control address we listen on (the datapath's UDP port is the same by convention). */
  readonly host: string;
  /** The control port (after binding, when it was 0). */
  readonly port: number;
  /** The bridge options given to `createPeer`, with defaults. */
  readonly bridge: ResolvedBridgeOptions;
  /** Whether a password is set (fastdp cannot encrypt). */
  readonly encrypted: boolean;
  /** The peer's router; built after the datapath, so only call it once connections arrive. */
  readonly router: () => Router;
  /** The peer's clock. */
  readonly clock: Clock;
  /** The peer's randomness. */
  readonly random: Random;
  /** The peer's logger. */
  readonly logger: Logger;
}

/** A datapath opened for one run of the peer. The peer's router stops `overlay` and closes `localPort`. */
export interface OpenDatapath {
  /** The overlay the router negotiates per connection (a single one or an `OverlaySwitch`). */
  readonly overlay: Overlay;
  /** The local containers' side (TAP on the bridge, in-memory port); needs a network overlay. */
  readonly localPort?: LocalPort;
  /** The bridge containers attach to, when there is one. */
  readonly bridge?: string;
  /** The MTU containers should use. */
  readonly mtu?: number;
  /** Anything else to release after the router stopped (kernel objects, sockets). */
  close?(): Promise<void>;
}

/**
 * An explicit datapath: the peer calls `open()` on each `start()` (a stopped peer can start again, so
 * the backend builds fresh objects each time).
 */
export interface DatapathBackend {
  /** Shown as `peer.datapath.kind`. */
  readonly kind: string;
  /** Builds the datapath for one run. */
  open(context: DatapathContext): Promise<OpenDatapath>;
}

/** The datapath kinds `createPeer` knows by name. */
export type DatapathKind = 'auto' | 'fastdp' | 'sleeve' | 'memory' | 'none';

/**
 * Options of `createPeer`: weaver's flags in camelCase, plus injection points for the simulation.
 * Every option is validated by `createPeer` (a typed {@link InvalidPeerOptionError} subclass each).
 */
export interface PeerOptions {
  /**
   * Peer name in MAC form (`8a:3e:…`, or the short `::1` form). Default: the name persisted in
   * `dataDir`, else (kernel datapaths) the MAC of an existing bridge, else a fresh random
   * locally-administered MAC, unique per `createPeer` call (and persisted when `dataDir` is set).
   */
  readonly name?: string;
  /** Shown next to the name in status; default `os.hostname()`. */
  readonly nickname?: string;
  /** Listen address, default `0.0.0.0`. */
  readonly host?: string;
  /** Control port, default 6783; 0 picks a free one. */
  readonly port?: number;
  /** Initial peers to connect to (`'10.0.0.1'`, `'10.0.0.1:6783'`). */
  readonly peers?: readonly string[];
  /** Mesh password: encrypts control traffic and the overlay. */
  readonly password?: string | Uint8Array;
  /** CIDRs whose peers are trusted to carry unencrypted overlay traffic. */
  readonly trustedSubnets?: readonly string[];
  /** Connect to peers learnt from the topology (default true). */
  readonly discovery?: boolean;
  /** Most connections (default 200; 0 = unlimited). */
  readonly connLimit?: number;
  /** IPAM options, or `false` for none. Default: IPAM over `10.32.0.0/12` by consensus. */
  readonly ipam?: false | PeerIpamOptions;
  /** weaveDNS options, or `false` for none. Default: domain `weave.local.`, server on `127.0.0.1:53`. */
  readonly dns?: false | PeerDnsOptions;
  /**
   * The datapath: `'none'` (default; control plane only), `'memory'` (in-process), `'sleeve'` (UDP
   * encapsulation, TAP on a bridge; root), `'fastdp'` (kernel; root), `'auto'` (fastdp → sleeve → none
   * by what the host supports), or an explicit {@link DatapathBackend}.
   */
  readonly datapath?: DatapathKind | DatapathBackend;
  /** The bridge (kernel datapaths only). */
  readonly bridge?: PeerBridgeOptions;
  /** Persistence: name, IPAM ring and owned addresses, direct targets, own DNS entries. */
  readonly dataDir?: string;
  /** Gossip interval (default 30 s). */
  readonly gossipIntervalMs?: number;
  /** Where the router, IPAM and datapath log (default silent). */
  readonly logger?: Logger;
  /** Simulation: the clock (e.g. `SimNetwork.clock`). */
  readonly clock?: Clock;
  /** Simulation: randomness (e.g. a `SeededRandom`). */
  readonly random?: Random;
  /** Simulation: the control-plane transport (e.g. `SimNetwork.transport(ip)`). */
  readonly transport?: StreamTransport;
}
