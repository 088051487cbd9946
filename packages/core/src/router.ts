import { BlockList, isIPv4 } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { type Clock, type TimerHandle, systemClock } from './clock.js';
import {
  ConnectionLimitError,
  toGoDialError,
  toGoNetError,
  ConnectToSelfError,
  ConnectionShutdownError,
  MultipleConnectionsError,
  PeerNameCollisionError,
  UnknownRemoteNameError,
} from './connection-errors.js';
import { type ConnectionHost, MeshConnection } from './connection.js';
import { ConnectionMaker } from './connection-maker.js';
import type { LocalPort } from './datapath.js';
import { WeaveError } from './errors.js';
import { type NetworkRouterHandle, attachNetworkRouter } from './l2-forwarder.js';
import { makeFeatures } from './features.js';
import type { Gossiper, GossipChannel, GossipReceiver } from './gossip.js';
import { RouterGossipChannel, decodeGossipEnvelope } from './gossip-channel.js';
import type { HandshakeOptions, HandshakeResult } from './handshake.js';
import { LocalPeer } from './local-peer.js';
import { type Logger, silentLogger } from './logger.js';
import { NullOverlay } from './null-overlay.js';
import type { Overlay } from './overlay.js';
import { Peer } from './peer.js';
import type { PeerName } from './peer-name.js';
import { GC_DELAY_MS, Peers } from './peers.js';
import { ProtocolTag, protocolMessage } from './protocol-tags.js';
import { type Random, randomUint64, systemRandom } from './random.js';
import { ROUTES_RECALC_DELAY_MS, Routes } from './routes.js';
import {
  type ConnectionStatus,
  type RouterStatus,
  type StatusSection,
  connectionInfo,
  formatConnections,
  formatPeers,
  formatStatus,
  formatTargets,
  routerSection,
} from './status.js';
import { SurrogateReceiver } from './surrogate-gossip.js';
import { TcpTransport } from './tcp-transport.js';
import { TokenBucket, ACCEPT_MAX_TOKENS, ACCEPT_TOKEN_INTERVAL_MS } from './token-bucket.js';
import { TOPOLOGY_CHANNEL, TopologyGossipData, TopologyReceiver } from './topology-gossip.js';
import type { StreamConnection, StreamListener, StreamTransport } from './transport.js';

/** Weave's control port. */
export const DEFAULT_PORT = 6783;
/** Upstream's default `--conn-limit`. */
export const DEFAULT_CONN_LIMIT = 200;
/** How often each channel's full state goes to random neighbours. */
export const DEFAULT_GOSSIP_INTERVAL_MS = 30_000;
/** Topology changes are coalesced this long before they are gossiped. */
export const TOPOLOGY_UPDATE_DELAY_MS = 1_000;

/** How a {@link Router} is built. */
export interface RouterOptions {
  /** Our peer name (see `derivePeerName`). */
  name: PeerName;
  /** Shown next to the name in status (upstream: the host name). */
  nickname?: string;
  /** Address to listen on (default `0.0.0.0`). */
  host?: string;
  /** Control port (default 6783); 0 picks a free one (tests). */
  port?: number;
  /** Mesh password: encrypts control traffic and (unless trusted) the overlay. */
  password?: string | Uint8Array;
  /** Most connections (`--conn-limit`, default 200; 0 = unlimited). */
  connLimit?: number;
  /** Connect to peers learnt from the topology (default true). */
  peerDiscovery?: boolean;
  /** CIDRs whose peers we trust to carry unencrypted overlay traffic. */
  trustedSubnets?: readonly string[];
  /** How often each channel's full state goes to random neighbours (default 30 s). */
  gossipIntervalMs?: number;
  /** Lowest protocol version we offer (1 or 2; we only ever negotiate 2). */
  minProtocolVersion?: number;
  /** The datapath (default: {@link NullOverlay}). */
  overlay?: Overlay;
  /**
   * The local containers' side (a TAP on the bridge, or an in-memory port). With it, the router runs
   * L2 forwarding between the port and the overlay, which must then be a `NetworkOverlay`. The router
   * closes it on `stop()`.
   */
  localPort?: LocalPort;
  /** Control-plane transport (default TCP; the simulation passes its own). */
  transport?: StreamTransport;
  /** Time source for every timer (default the system clock). */
  clock?: Clock;
  /** Randomness for UIDs, connection ids, back-off (default `crypto`). */
  random?: Random;
  /** Where the router logs (default silent). */
  logger?: Logger;
}

/** Events of a {@link Router} (eventemitter3), emitted after the change. */
export interface RouterEvents {
  /** A connection's overlay came up; `overlay` is the overlay it runs on (`sleeve`, `fastdp`, `none`…). */
  connectionEstablished: [remote: PeerName, address: string, overlay: string];
  /** A connection ended (`remote` is undefined if it died during the handshake). */
  connectionClosed: [remote: PeerName | undefined, address: string, error: Error | undefined];
  /** A dial to a target failed before any connection existed (`error` has upstream's text). */
  connectionFailed: [address: string, error: Error];
  /** A peer appeared in the topology (learnt from gossip or a connection). */
  peerAdded: [name: PeerName, nickname: string];
  /** Peers vanished from the topology (unreachable and unreferenced). */
  peersRemoved: [names: PeerName[]];
  /** The topology changed (peers or their connections). */
  topologyChanged: [];
}

/** `--trusted-subnets` had something that is not an IPv4 CIDR. */
export class InvalidSubnetError extends WeaveError {
  /** The error's stable name: `'InvalidSubnetError'`. */
  override name = 'InvalidSubnetError';
  constructor(cidr: string) {
    super(`invalid CIDR address: ${cidr}`);
  }
}

function parseTrustedSubnets(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [ip = '', bits = ''] = cidr.split('/');
    const prefix = Number(bits);
    if (!isIPv4(ip) || !/^\d{1,2}$/.test(bits) || prefix > 32) throw new InvalidSubnetError(cidr);
    list.addSubnet(ip, prefix, 'ipv4');
  }
  return list;
}

const endpointText = (e: { host: string; port: number }) => `${e.host}:${e.port}`;

/**
 * The router an orchestrator embeds (mesh `Router` + weave's `NetworkRouter` control side).
 *
 * ```
 * new Router(options) ─▶ registerChannel('IPallocation', …) … ─▶ start() ─▶ connect(['10.0.0.1'])
 *   listener/ConnectionMaker ─▶ MeshConnection (handshake) ─▶ connection ready ─▶ topology + gossip
 *   stop(): closes the listener, every connection, timers and the overlay
 * ```
 *
 * A stopped router can be started again (same name and UID); gossip channels can be unregistered and
 * registered anew (e.g. an IPAM allocator restarted with its router). Connection handling is internal:
 * connections talk to the router through a private host object, not through public methods.
 */
export class Router extends EventEmitter<RouterEvents> implements Gossiper {
  /** Our peer in the topology. */
  readonly ourself: LocalPeer;
  /** The topology: every peer we know. */
  readonly peers: Peers;
  /** Unicast and broadcast routes over the topology. */
  readonly routes: Routes;
  /** Decides which addresses to dial and when. */
  readonly connectionMaker: ConnectionMaker;
  /** The clock every timer runs on. */
  readonly clock: Clock;
  /** The datapath. */
  readonly overlay: Overlay;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly transport: StreamTransport;
  private readonly password?: Uint8Array;
  private readonly trusted: BlockList;
  private readonly channels = new Map<string, RouterGossipChannel>();
  private readonly connections = new Set<MeshConnection>();
  private readonly acceptBucket: TokenBucket;
  private readonly options: RouterOptions;
  private listener?: StreamListener;
  private l2?: NetworkRouterHandle;
  private boundPort: number;
  private readonly timers = new Map<string, TimerHandle>();
  private pendingTopology = new Set<PeerName>();
  /** Peers found unreachable by the last garbage collection (see {@link collectGarbage}). */
  private gcSuspects = new Set<PeerName>();
  private running = false;
  /** Names of peers reported by `peerAdded` (kept in step with the topology). */
  private readonly announced = new Set<PeerName>();
  /** What connections see of us (kept off the public surface). */
  readonly #host: ConnectionHost;

  constructor(options: RouterOptions) {
    super();
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.logger = options.logger ?? silentLogger;
    const host = options.host ?? '0.0.0.0';
    // Bound to one address, dial from it too, so peers see (and discover) that address.
    this.transport =
      options.transport ??
      new TcpTransport({ clock: this.clock, ...(host !== '0.0.0.0' ? { localAddress: host } : {}) });
    this.overlay = options.overlay ?? new NullOverlay();
    this.boundPort = options.port ?? DEFAULT_PORT;
    this.trusted = parseTrustedSubnets(options.trustedSubnets ?? []);
    if (options.password !== undefined) {
      this.password =
        typeof options.password === 'string' ? new TextEncoder().encode(options.password) : options.password;
    }
    this.ourself = LocalPeer.create(options.name, options.nickname ?? options.name, this.random);
    this.peers = new Peers(this.ourself, this.random);
    this.routes = new Routes(this.peers);
    this.announced.add(this.ourself.name);
    this.#host = {
      clock: this.clock,
      handshakeOptions: (outbound, remoteHost) => this.#handshakeOptions(outbound, remoteHost),
      connectionReady: (conn, handshake) => this.#connectionReady(conn, handshake),
      connectionEstablished: (conn) => this.#connectionEstablished(conn),
      handleMessage: (conn, tag, body) => this.#handleMessage(conn, tag, body),
      connectionClosed: (conn, error) => this.#connectionClosed(conn, error),
    };
    this.acceptBucket = new TokenBucket(this.clock, ACCEPT_MAX_TOKENS, ACCEPT_TOKEN_INTERVAL_MS);
    this.connectionMaker = new ConnectionMaker({
      ourName: this.ourself.name,
      port: this.boundPort,
      discovery: options.peerDiscovery ?? true,
      clock: this.clock,
      random: this.random,
      peers: () => this.peers.all(),
      attemptConnection: (address, acceptNewPeer) => this.dial(address, acceptNewPeer),
    });
    this.connectionMaker.on('attemptFailed', (address, error) => {
      this.logger.info(`->[${address}] error during connection attempt: ${error.message}`);
      this.emit('connectionFailed', address, error);
    });
    this.peers.on('peersGarbageCollected', (removed) => {
      this.scheduleRoutes();
      for (const p of removed) this.announced.delete(p.name);
      this.emit(
        'peersRemoved',
        removed.map((p) => p.name),
      );
      this.emit('topologyChanged');
    });
    this.peers.on('localPeerModified', () => this.topologyUpdate([this.ourself.name]));
    this.registerChannel(TOPOLOGY_CHANNEL, new TopologyReceiver(this.peers, () => this.topologyImproved()));
  }

  /** Our name. */
  get name(): PeerName {
    return this.ourself.name;
  }

  /** The port we listen on (the bound one once started with port 0). */
  get port(): number {
    return this.boundPort;
  }

  /**
   * Registers the receiver of gossip channel `channel` (e.g. `IPallocation`, `nameserver`).
   * @throws WeaveError if a receiver is registered already (unregister it first)
   */
  registerChannel(channel: string, receiver: GossipReceiver): GossipChannel {
    const existing = this.channels.get(channel);
    if (existing && !(existing.receiver instanceof SurrogateReceiver)) {
      throw new WeaveError(`gossip channel ${channel} is already registered`);
    }
    const created = new RouterGossipChannel(channel, receiver, {
      ourName: this.ourself.name,
      unicastNextHop: (dst) => this.routes.unicastAll(dst),
      broadcastNextHops: (origin) => {
        this.routes.ensureRecalculated();
        return this.routes.broadcastAll(origin);
      },
      randomNeighbours: (except) => {
        this.routes.ensureRecalculated();
        return this.routes.randomNeighbours(except, this.random);
      },
      sendToNeighbour: (neighbour, msg) => this.sendToNeighbour(neighbour, msg),
      defer: (fn) => this.clock.setTimeout(() => this.running && fn(), 0),
    });
    this.channels.set(channel, created);
    return created;
  }

  /**
   * Removes the receiver of `channel` (only if it is `receiver`, when given), so another can register;
   * gossip arriving meanwhile is kept and relayed as for an unknown channel. Returns whether one was
   * removed. The topology channel cannot be unregistered.
   */
  unregisterChannel(channel: string, receiver?: GossipReceiver): boolean {
    const existing = this.channels.get(channel);
    if (!existing || channel === TOPOLOGY_CHANNEL || existing.receiver instanceof SurrogateReceiver) {
      return false;
    }
    if (receiver !== undefined && existing.receiver !== receiver) return false;
    this.channels.delete(channel);
    return true;
  }

  /** Listens for peers and starts periodic gossip (also after {@link stop}). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.listener = await this.transport.listen(
        { host: this.options.host ?? '0.0.0.0', port: this.boundPort },
        (stream) => void this.accept(stream),
      );
    } catch (error) {
      this.running = false;
      throw error;
    }
    this.connectionMaker.start();
    this.boundPort = this.listener.local.port;
    if (this.options.localPort) {
      this.l2 = attachNetworkRouter(this, { port: this.options.localPort, logger: this.logger });
    }
    this.schedulePeriodicGossip();
  }

  /** Closes the listener and every connection, stops timers and the overlay. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.connectionMaker.stop();
    for (const handle of this.timers.values()) this.clock.clearTimeout(handle);
    this.timers.clear();
    await this.listener?.close();
    this.listener = undefined;
    for (const conn of [...this.connections]) conn.shutdown();
    this.l2?.detach();
    this.l2 = undefined;
    await this.options.localPort?.close();
    await this.overlay.stop();
  }

  /** Adds peers to connect to (`host[:port]`); with `replace`, instead of the current ones. */
  connect(peers: readonly string[], replace = false): Error[] {
    return this.connectionMaker.connect(peers, replace);
  }

  /** Stops (re)connecting to these peers; live connections stay. */
  forget(peers: readonly string[]): void {
    this.connectionMaker.forget(peers);
  }

  /** Whether `name` is in the topology. */
  hasPeer(name: PeerName): boolean {
    return this.peers.fetch(name) !== undefined;
  }

  /** The peer's nickname, if known. */
  nicknameOf(name: PeerName): string | undefined {
    return this.peers.fetch(name)?.nickname;
  }

  /** The router's state as data (`/report`'s `Router`). */
  status(): RouterStatus {
    const peers = this.peers.all().map((p) => ({
      name: p.name,
      nickname: p.nickname,
      uid: p.uid,
      shortId: p.shortId,
      version: p.version,
      connections: [...p.connections.values()].map((c) => ({
        name: c.remoteName,
        nickname: this.peers.fetch(c.remoteName)?.nickname ?? '',
        address: c.remoteTcpAddr,
        outbound: c.outbound,
        established: c.established,
      })),
    }));
    return {
      protocol: 'weave',
      protocolMinVersion: this.options.minProtocolVersion ?? 1,
      protocolMaxVersion: 2,
      encryption: this.password !== undefined,
      peerDiscovery: this.options.peerDiscovery ?? true,
      name: this.ourself.name,
      nickname: this.ourself.nickname,
      port: this.boundPort,
      peers,
      unicastRoutes: [...this.routes.unicastRoutes()].map(([dest, via]) => ({ dest, via })),
      broadcastRoutes: [...this.routes.broadcastRoutes()].map(([source, via]) => ({ source, via })),
      connections: [
        ...this.liveConnectionStatus(),
        ...this.connectionMaker.connectionStatus().map((t) => ({ ...t, attrs: {} })),
      ],
      terminationCount: this.connectionMaker.terminationCount,
      targets: this.connectionMaker.targets(),
      trustedSubnets: this.options.trustedSubnets ?? [],
    };
  }

  /** `weave status`: the router section plus any others (IPAM, DNS) the caller adds. */
  statusText(
    extra: readonly StatusSection[] = [],
    version = 'weave-ts (version check update disabled)',
  ): string {
    return formatStatus(version, [routerSection(this.status()), ...extra]);
  }

  /** `weave status connections`. */
  connectionsText(): string {
    return formatConnections(this.status());
  }

  /** `weave status peers`. */
  peersText(): string {
    return formatPeers(this.status());
  }

  /** `weave status targets`. */
  targetsText(): string {
    return formatTargets(this.status());
  }

  // ---- connection host (private) ---------------------------------------------------------------

  #handshakeOptions(outbound: boolean, remoteHost?: string): HandshakeOptions {
    const features = makeFeatures({
      name: this.ourself.name,
      nickname: this.ourself.nickname,
      uid: this.ourself.uid,
      connId: randomUint64(this.random),
      shortId: this.ourself.shortId,
      trusted: remoteHost !== undefined && this.trusts(remoteHost),
    });
    this.overlay.addFeaturesTo(features);
    return {
      outbound,
      features,
      clock: this.clock,
      random: this.random,
      ...(this.password ? { password: this.password } : {}),
      ...(this.options.minProtocolVersion ? { minVersion: this.options.minProtocolVersion } : {}),
    };
  }

  #connectionReady(conn: MeshConnection, handshake: HandshakeResult): void {
    const intro = handshake.remote;
    const announced = new Peer({
      name: intro.name,
      nickname: intro.nickname,
      uid: intro.uid,
      version: 0,
      shortId: intro.shortId ?? 0,
      hasShortId: intro.shortId !== undefined,
    });
    // Register first, so every refusal below releases the reference in connectionClosed.
    const remote = conn.acceptNewPeer
      ? this.peers.fetchWithDefault(announced)
      : this.peers.fetchAndAddRef(intro.name);
    if (!remote) throw new UnknownRemoteNameError(intro.name, conn.remoteTcpAddr);
    conn.remote = remote;
    if (intro.name === this.ourself.name && intro.uid !== this.ourself.uid) {
      throw new PeerNameCollisionError(this.ourself.toString(), announced.toString());
    }
    if (remote === this.ourself) throw new ConnectToSelfError();
    const restarted = remote.uid !== intro.uid;
    const untrusted = !this.trusts(conn.stream.remote.host) || !conn.trustedByRemote;
    conn.overlay = this.overlay.prepareConnection({
      remotePeer: intro,
      local: conn.stream.local,
      remote: conn.stream.remote,
      outbound: conn.outbound,
      connUID: handshake.connUID,
      ...(handshake.sessionKey && untrusted ? { sessionKey: handshake.sessionKey } : {}),
      features: intro.features,
      // The overlay picks the protocol tag: 7 (framed by the overlay switch) or legacy 1..3.
      sendControlMessage: (tag, msg) => conn.sendMessage(tag as ProtocolTag, msg),
    });
    this.addConnection(conn, restarted);
    this.connectionMaker.connectionCreated(conn);
    this.logger.info(`${this.connLabel(conn)}: connection ready; using protocol version 2`);
  }

  #connectionEstablished(conn: MeshConnection): void {
    if (!this.ourself.connectionEstablished(conn)) {
      conn.shutdown(new ConnectionShutdownError('Cannot set unknown connection active'));
      return;
    }
    this.logger.info(`${this.connLabel(conn)}: connection fully established`);
    this.localPeerChanged(conn.remote.name);
    const overlayName = conn.overlay?.attrs().name;
    this.emit(
      'connectionEstablished',
      conn.remote.name,
      conn.remoteTcpAddr,
      overlayName === undefined ? 'none' : String(overlayName),
    );
  }

  #handleMessage(conn: MeshConnection, tag: number, body: Uint8Array): void {
    switch (tag) {
      case ProtocolTag.Gossip:
      case ProtocolTag.GossipUnicast:
      case ProtocolTag.GossipBroadcast: {
        const { channel, from, decoder } = decodeGossipEnvelope(body);
        const target = this.channelFor(channel);
        if (tag === ProtocolTag.Gossip) target.deliverGossip(from, decoder);
        else if (tag === ProtocolTag.GossipBroadcast) target.deliverBroadcast(from, decoder);
        else target.deliverUnicast(from, decoder, protocolMessage(tag, body));
        return;
      }
      case ProtocolTag.OverlayControlMsg:
      case ProtocolTag.Reserved1:
      case ProtocolTag.Reserved2:
      case ProtocolTag.Reserved3:
        conn.overlay?.controlMessage(tag, body);
        return;
      default:
        this.logger.info(`${this.connLabel(conn)}: ignoring unknown protocol tag: ${tag}`);
    }
  }

  #connectionClosed(conn: MeshConnection, cause: Error | undefined): void {
    this.connections.delete(conn);
    const error = cause && toGoNetError(cause, 'read', conn.stream.local, conn.stream.remote);
    const registered = conn.remote !== undefined;
    if (error) {
      const during = registered
        ? ': connection shutting down due to error'
        : ' connection shutting down due to error during handshake';
      this.logger.info(`${this.connLabel(conn)}${during}: ${error.message}`);
    }
    if (registered) {
      this.peers.dereference(conn.remote);
      if (this.ourself.deleteConnection(conn)) {
        this.localPeerChanged(conn.remote.name);
        this.scheduleGC(0);
      }
    }
    this.connectionMaker.connectionTerminated(conn, error);
    this.emit('connectionClosed', registered ? conn.remote.name : undefined, conn.remoteTcpAddr, error);
  }

  // ---- internals ------------------------------------------------------------------------------

  private trusts(host: string): boolean {
    return isIPv4(host) && this.trusted.check(host, 'ipv4');
  }

  private connLabel(conn: MeshConnection): string {
    const arrow = conn.outbound ? '->' : '<-';
    const who = conn.remote ? `|${conn.remote}` : '';
    return `${arrow}[${conn.remoteTcpAddr}${who}]`;
  }

  private channelFor(name: string): RouterGossipChannel {
    const existing = this.channels.get(name);
    if (existing) return existing;
    this.registerChannel(
      name,
      new SurrogateReceiver(this.clock, this.options.gossipIntervalMs ?? DEFAULT_GOSSIP_INTERVAL_MS),
    );
    return this.channels.get(name)!;
  }

  private async accept(stream: StreamConnection): Promise<void> {
    await this.acceptBucket.wait();
    if (!this.running) {
      stream.close();
      return;
    }
    this.startConnection(stream, false, endpointText(stream.remote), true);
  }

  private async dial(address: string, acceptNewPeer: boolean): Promise<void> {
    const sep = address.lastIndexOf(':');
    const remote = { host: address.slice(0, sep), port: Number(address.slice(sep + 1)) };
    let stream: StreamConnection;
    try {
      stream = await this.transport.dial(remote);
    } catch (error) {
      throw toGoDialError(error, remote);
    }
    if (!this.running) {
      stream.close();
      return;
    }
    this.startConnection(stream, true, address, acceptNewPeer);
  }

  private startConnection(
    stream: StreamConnection,
    outbound: boolean,
    address: string,
    acceptNewPeer: boolean,
  ): void {
    const conn = new MeshConnection(this.#host, stream, outbound, address, acceptNewPeer);
    this.connections.add(conn);
    void conn.start();
  }

  /** Adds `conn` to our peer, resolving duplicates by connection uid (lower wins on both ends). */
  private addConnection(conn: MeshConnection, restarted: boolean): void {
    const duplicate = this.ourself.connectionTo(conn.remote.name) as MeshConnection | undefined;
    if (duplicate && duplicate !== conn) {
      const dupError = new MultipleConnectionsError(conn.remote.toString(), this.ourself.toString());
      if (conn.connUID > duplicate.connUID) throw dupError;
      duplicate.shutdown(dupError);
      if (conn.connUID === duplicate.connUID) throw dupError;
    }
    const limit = this.options.connLimit ?? DEFAULT_CONN_LIMIT;
    if (limit > 0 && this.ourself.connectionCount >= limit) throw new ConnectionLimitError(limit);
    const connectedBefore = this.routes.unicast(conn.remote.name) !== undefined;
    this.ourself.addConnection(conn);
    if (restarted || !connectedBefore) {
      for (const channel of this.channels.values()) channel.sendAllTo(conn.remote.name);
    }
    this.localPeerChanged(conn.remote.name);
  }

  private sendToNeighbour(neighbour: PeerName, msg: Uint8Array): boolean {
    const conn = this.ourself.connectionTo(neighbour) as MeshConnection | undefined;
    if (!conn) return false;
    conn.sendRaw(msg);
    return true;
  }

  /** Our connections changed: routes, targets and a (coalesced) topology broadcast. */
  private localPeerChanged(remote: PeerName): void {
    this.scheduleRoutes();
    this.topologyUpdate([this.ourself.name, remote]);
    this.announceNewPeers();
    this.emit('topologyChanged');
  }

  private topologyImproved(): void {
    this.scheduleRoutes();
    this.scheduleGC(GC_DELAY_MS);
    this.announceNewPeers();
    this.emit('topologyChanged');
  }

  /** Emits `peerAdded` for peers not announced yet (only peers GC removes leave the table). */
  private announceNewPeers(): void {
    if (this.peers.size === this.announced.size) return;
    for (const p of this.peers.all()) {
      if (this.announced.has(p.name)) continue;
      this.announced.add(p.name);
      this.emit('peerAdded', p.name, p.nickname);
    }
  }

  private topologyUpdate(names: PeerName[]): void {
    for (const n of names) this.pendingTopology.add(n);
    this.schedule('topology', TOPOLOGY_UPDATE_DELAY_MS, () => {
      const update = new TopologyGossipData(this.peers, this.pendingTopology);
      this.pendingTopology = new Set();
      this.channels.get(TOPOLOGY_CHANNEL)?.gossipNeighbourSubset(update);
    });
  }

  /**
   * Routes and connection targets follow topology changes, coalesced over 100 ms: under a burst of
   * gossip each is recomputed once, not once per message.
   */
  private scheduleRoutes(): void {
    this.routes.invalidate();
    this.schedule('routes', ROUTES_RECALC_DELAY_MS, () => {
      this.routes.ensureRecalculated();
      this.connectionMaker.refresh();
    });
  }

  private scheduleGC(delay: number): void {
    this.schedule('gc', delay, () => this.collectGarbage());
  }

  /**
   * Removes peers that were unreachable at the previous collection too, at least GC_DELAY_MS ago.
   * Upstream removes them at once, but then a peer heard of just before the update that links it
   * (every router defers its own updates by 1 s) is dropped, and the peers behind it come back only as
   * placeholders until the next periodic gossip; DNS and IPAM would forget live peers meanwhile.
   */
  private collectGarbage(): void {
    const unreachable = this.peers.unreachable();
    const suspects = this.gcSuspects;
    this.peers.remove(unreachable.filter((p) => suspects.has(p.name)));
    this.gcSuspects = new Set(unreachable.filter((p) => !suspects.has(p.name)).map((p) => p.name));
    if (this.gcSuspects.size > 0) this.scheduleGC(GC_DELAY_MS);
  }

  private schedulePeriodicGossip(): void {
    const interval = this.options.gossipIntervalMs ?? DEFAULT_GOSSIP_INTERVAL_MS;
    this.schedule('periodic', interval, () => {
      for (const channel of this.channels.values()) channel.sendPeriodic();
      this.schedulePeriodicGossip();
    });
  }

  /** Runs `fn` once after `delay`, unless already scheduled under `key` (coalescing). */
  private schedule(key: string, delay: number, fn: () => void): void {
    if (!this.running || this.timers.has(key)) return;
    this.timers.set(
      key,
      this.clock.setTimeout(() => {
        this.timers.delete(key);
        if (this.running) fn();
      }, delay),
    );
  }

  private *liveConnectionStatus(): Generator<ConnectionStatus> {
    for (const conn of this.ourself.liveConnections() as MeshConnection[]) {
      const attrs: Record<string, string | number | boolean> = { ...(conn.overlay?.attrs() ?? {}) };
      const overlayName = String(attrs.name ?? 'none');
      let encryption: 'encrypted' | 'unencrypted' | undefined;
      if (this.password) {
        const untrusted = !this.trusts(conn.stream.remote.host) || !conn.trustedByRemote;
        encryption = untrusted ? 'encrypted' : 'unencrypted';
        if (untrusted) attrs.encrypted = true;
      }
      yield {
        address: conn.remoteTcpAddr,
        outbound: conn.outbound,
        state: conn.established ? 'established' : 'pending',
        info: connectionInfo(overlayName, conn.remote.toString(), encryption),
        attrs,
      };
    }
  }
}
