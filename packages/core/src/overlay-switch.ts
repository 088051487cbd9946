import { EventEmitter } from 'eventemitter3';
import { ProtocolTag } from './protocol-tags.js';
import type {
  DatapathConnection,
  DeliverFlowOffer,
  FlowOffer,
  ForwardOptions,
  ForwardPacketKey,
  ForwardResult,
  FrameConsumer,
  NetworkOverlay,
  SendFlowOffer,
} from './datapath.js';
import { WeaveError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import type { OverlayConnectionEvents, OverlayConnectionParams } from './overlay.js';
import type { PeerName } from './peer-name.js';

/**
 * Several datapaths behind one (upstream `router/overlay_switch.go`): typically `fastdp` then
 * `sleeve`, tried in parallel on every connection, the best working one carrying the traffic.
 *
 * ```
 * handshake feature  Overlays: "fastdp sleeve"   (our names, in preference order)
 * per connection     common = our names that the remote lists, in OUR order; index = position
 *                    no Overlays feature ─▶ the compat overlay (sleeve) alone, control messages unframed
 * control message    router tag 7 body = index ‖ subTag ‖ msg   (index picks the sub-forwarder)
 * best               lowest-index established forwarder, else lowest-index working one; on-hold
 *                    (unhealthy) and failed ones skipped; none left ─▶ `no working forwarders to …`
 * established        as soon as ANY sub-forwarder is
 * forward            best, then higher indices, until one takes the batch
 * best changes       every overlay's per-destination caches are dropped (invalidateRoutes), so
 *                    flows a fast path took over follow the new choice at once
 * attrs              the best forwarder's, plus `<overlay>=<why>` for each preferred overlay not in
 *                    use (refused, failed or unhealthy), e.g. `fastdp=encryption needs IPsec ESP…`
 * offerFlows         send offers ─▶ the best forwarder of the `via` connection; deliver ─▶ every overlay
 * ```
 *
 * Upstream picks the connectee's order in a branch mesh never reaches; both ends use their local order,
 * so two peers with different preference orders only agree on indices when their common lists
 * coincide, exactly as with Weave Net.
 */

/** The overlay the switch uses for peers that send no `Overlays` feature (very old routers). */
export const COMPAT_OVERLAY = 'sleeve';

/** The remote advertises none of our overlays. */
export class NoCommonOverlaysError extends WeaveError {
  /** The error's stable name: `'NoCommonOverlaysError'`. */
  override name = 'NoCommonOverlaysError';
  constructor() {
    super('no overlays in common with peer');
  }
}

/** Every sub-forwarder of a connection failed or is on hold. */
export class NoWorkingForwardersError extends WeaveError {
  /** The error's stable name: `'NoWorkingForwardersError'`. */
  override name = 'NoWorkingForwardersError';
  constructor(peer: string) {
    super(`no working forwarders to ${peer}`);
  }
}

/** Two overlays were given the same name. */
export class DuplicateOverlayError extends WeaveError {
  /** The error's stable name: `'DuplicateOverlayError'`. */
  override name = 'DuplicateOverlayError';
  constructor(name: string) {
    super(`OverlaySwitch: repeated overlay name ${name}`);
  }
}

/** An overlay name would not survive the space-separated `Overlays` feature. */
export class InvalidOverlayNameError extends WeaveError {
  /** The error's stable name: `'InvalidOverlayNameError'`. */
  override name = 'InvalidOverlayNameError';
  constructor(name: string) {
    super(`OverlaySwitch: overlay name must be non-empty and without spaces: ${JSON.stringify(name)}`);
  }
}

/** One overlay of the switch with the name it is advertised under. */
export interface NamedOverlay {
  /** The name peers negotiate with (`fastdp`, `sleeve`), as in the `Overlays` handshake feature. */
  readonly name: string;
  /** The overlay itself. */
  readonly overlay: NetworkOverlay;
}

/** Options of an {@link OverlaySwitch}. */
export interface OverlaySwitchOptions {
  /** Name of the overlay for peers without an `Overlays` feature (default `sleeve` if present). */
  readonly compat?: string;
  /** Where overlay choices and failures are logged (default: silent). */
  readonly logger?: Logger;
}

/** Control-plane events of an {@link OverlaySwitch}. */
export interface OverlaySwitchEvents {
  /** The connection to `peer` now sends through `overlay` (logged as `using <overlay>`). */
  using: [peer: PeerName, overlay: string];
}

/** Several overlays in local preference order, as one {@link NetworkOverlay}. */
export class OverlaySwitch extends EventEmitter<OverlaySwitchEvents> implements NetworkOverlay {
  private readonly overlays: readonly NamedOverlay[];
  private readonly compat: NamedOverlay | undefined;
  private readonly logger: Logger;
  private readonly connections = new Map<PeerName, SwitchConnection>();
  private readonly host: SwitchHost;
  private consumer: FrameConsumer | undefined;
  private stopped = false;

  /** `overlays` in preference order (e.g. fastdp, then sleeve). @throws DuplicateOverlayError, InvalidOverlayNameError */
  constructor(overlays: readonly NamedOverlay[], options: OverlaySwitchOptions = {}) {
    super();
    const seen = new Set<string>();
    for (const { name } of overlays) {
      if (name === '' || name.includes(' ')) throw new InvalidOverlayNameError(name);
      if (seen.has(name)) throw new DuplicateOverlayError(name);
      seen.add(name);
    }
    this.overlays = [...overlays];
    this.compat = overlays.find((o) => o.name === (options.compat ?? COMPAT_OVERLAY));
    this.logger = options.logger ?? silentLogger;
    const deliver: FrameConsumer = (frames) => {
      if (!this.stopped) this.consumer?.(frames);
    };
    for (const { overlay } of overlays) overlay.onFramesReceived(deliver);
    this.host = {
      register: (peer, conn) => {
        if (!this.stopped) this.connections.set(peer, conn);
      },
      unregister: (peer, conn) => {
        if (this.connections.get(peer) === conn) this.connections.delete(peer);
      },
      using: (peer, label, overlay, changed) => {
        this.logger.info(`overlay_switch ->[${label}] using ${overlay}`);
        if (changed && !this.stopped) for (const o of this.overlays) o.overlay.invalidateRoutes();
        this.emit('using', peer, overlay);
      },
      subFailed: (label, overlay, error) => {
        this.logger.info(`overlay_switch ->[${label}] ${overlay} ${error.message}`);
      },
    };
  }

  /** The overlay names in preference order. */
  get names(): string[] {
    return this.overlays.map((o) => o.name);
  }

  /** Sets `Overlays` to our names, space-separated, in preference order. */
  addFeaturesTo(features: Record<string, string>): void {
    features.Overlays = this.names.join(' ');
  }

  /**
   * Starts a forwarder of every overlay both ends support.
   * @throws NoCommonOverlaysError, NoWorkingForwardersError
   */
  prepareConnection(params: OverlayConnectionParams): DatapathConnection {
    const remote = `${params.remotePeer.name}(${params.remotePeer.nickname})`;
    const advertised = params.features.Overlays;
    const framed = advertised !== undefined || !this.compat;
    let chosen: readonly NamedOverlay[];
    if (!framed) {
      chosen = [this.compat!];
    } else {
      const theirs = new Set((advertised ?? '').split(' '));
      chosen = this.overlays.filter((o) => theirs.has(o.name)).slice(0, 256);
      if (chosen.length === 0) throw new NoCommonOverlaysError();
    }
    const subs: Sub[] = chosen.map(({ name, overlay }, index) => {
      // Framed: protocol tag 7, body `[index][subTag][msg]`. Compat: the sub-tag is the protocol tag.
      const sendControlMessage = framed
        ? (tag: number, msg: Uint8Array) => {
            const body = new Uint8Array(msg.length + 2);
            body[0] = index;
            body[1] = tag;
            body.set(msg, 2);
            params.sendControlMessage(ProtocolTag.OverlayControlMsg, body);
          }
        : params.sendControlMessage;
      try {
        return { name, fwd: overlay.prepareConnection({ ...params, sendControlMessage }), ...FRESH };
      } catch (error) {
        const reason = (error as Error).message;
        this.logger.info(`Unable to use ${name} for connection to ${remote}: ${reason}`);
        return { name, fwd: undefined, ...FRESH, reason };
      }
    });
    return new SwitchConnection(this.host, params.remotePeer.name, remote, subs, framed);
  }

  /** Sends through the switch connection to `options.via` (default `key.dstPeer`). */
  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], options?: ForwardOptions): ForwardResult {
    if (this.stopped) return 'stopped';
    const conn = this.connections.get(options?.via ?? key.dstPeer);
    if (!conn) return 'no-connection';
    return conn.forward(key, frames, options) ? 'forwarded' : 'no-forwarder';
  }

  /**
   * Send offers go to the forwarder carrying the traffic to their next hop (only it may take a flow
   * over); deliver offers to every overlay that takes offers, since frames may arrive over any of them.
   */
  offerFlows(offers: readonly FlowOffer[]): void {
    if (this.stopped) return;
    const sends = new Map<PeerName, SendFlowOffer[]>();
    const delivers: DeliverFlowOffer[] = [];
    for (const offer of offers) {
      if (offer.kind === 'deliver') {
        delivers.push(offer);
        continue;
      }
      const list = sends.get(offer.via);
      if (list) list.push(offer);
      else sends.set(offer.via, [offer]);
    }
    for (const [via, list] of sends) this.connections.get(via)?.offerFlows(list);
    if (delivers.length === 0) return;
    for (const { overlay } of this.overlays) overlay.offerFlows?.(delivers);
  }

  /** The confirmed connection to `peer`, if any. */
  connectionTo(peer: PeerName): DatapathConnection | undefined {
    return this.connections.get(peer);
  }

  onFramesReceived(consumer: FrameConsumer): void {
    this.consumer = consumer;
  }

  invalidateRoutes(): void {
    for (const { overlay } of this.overlays) overlay.invalidateRoutes();
  }

  invalidateShortIDs(): void {
    for (const { overlay } of this.overlays) overlay.invalidateShortIDs();
  }

  /** Each overlay's diagnostics under its name. */
  diagnostics(): Record<string, unknown> {
    return Object.fromEntries(this.overlays.map(({ name, overlay }) => [name, overlay.diagnostics()]));
  }

  /** Stops every overlay (and so every forwarder). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.connections.clear();
    await Promise.all(this.overlays.map(({ overlay }) => overlay.stop()));
  }
}

/** What a switch connection reports back to its switch. */
interface SwitchHost {
  register(peer: PeerName, conn: SwitchConnection): void;
  unregister(peer: PeerName, conn: SwitchConnection): void;
  /** The connection now sends through `overlay`; `changed` unless it is the first choice. */
  using(peer: PeerName, label: string, overlay: string, changed: boolean): void;
  subFailed(label: string, overlay: string, error: Error): void;
}

interface Sub {
  readonly name: string;
  /** Undefined once it failed or was stopped. */
  fwd: DatapathConnection | undefined;
  established: boolean;
  onHold: boolean;
  /** Why it is not usable (refused, failed or unhealthy), shown in the attrs while another is used. */
  reason?: string;
}

const FRESH = { established: false, onHold: false } as const;

/** The switch's per-connection forwarder, seen by the router as one overlay connection. */
class SwitchConnection extends EventEmitter<OverlayConnectionEvents> implements DatapathConnection {
  private best = -1;
  private isEstablished = false;
  private confirmed = false;
  private stopped = false;

  constructor(
    private readonly owner: SwitchHost,
    private readonly peer: PeerName,
    private readonly label: string,
    private readonly subs: Sub[],
    private readonly framed: boolean,
  ) {
    super();
    subs.forEach((sub, index) => {
      const fwd = sub.fwd;
      if (!fwd) return;
      fwd.on('established', () => this.subEstablished(index));
      fwd.on('error', (error) => this.subError(index, error));
      fwd.onHealthChange?.((healthy, reason) => this.subHealth(index, healthy, reason));
    });
    // Refuse the connection outright when no overlay could even start a forwarder.
    if (!this.chooseBest()) throw new NoWorkingForwardersError(label);
  }

  get established(): boolean {
    return this.isEstablished;
  }

  confirm(): void {
    if (this.confirmed || this.stopped) return;
    this.confirmed = true;
    this.owner.register(this.peer, this);
    for (const sub of this.subs) sub.fwd?.confirm();
  }

  /** Tries the best forwarder, then those after it, until one takes the batch. */
  forward(key: ForwardPacketKey, frames: readonly Uint8Array[], options?: ForwardOptions): boolean {
    if (this.stopped || this.best < 0) return false;
    for (let i = this.best; i < this.subs.length; i++) {
      if (this.usable(i)?.forward(key, frames, options)) return true;
    }
    return false;
  }

  /** Offers the flows to the best forwarder only, the one `forward` tries first (none once stopped). */
  offerFlows(offers: readonly SendFlowOffer[]): void {
    this.usable(this.best)?.offerFlows?.(offers);
  }

  /** Framed: protocol tag 7 with `msg` = index ‖ subTag ‖ body. Compat: the tag is the sub-tag. */
  controlMessage(tag: number, msg: Uint8Array): void {
    if (this.stopped) return;
    if (!this.framed) {
      this.subs[0]?.fwd?.controlMessage(tag, msg);
      return;
    }
    if (tag !== ProtocolTag.OverlayControlMsg || msg.length < 2) return;
    this.subs[msg[0]!]?.fwd?.controlMessage(msg[1]!, msg.subarray(2));
  }

  /**
   * The attributes of the forwarder in use (`name`, `mtu` …), or none, plus why each overlay
   * preferred to it is not in use (`fastdp=<reason>`).
   */
  attrs(): Readonly<Record<string, string | number | boolean>> {
    const attrs = { ...(this.subs[this.best]?.fwd?.attrs() ?? {}) };
    for (let i = 0; i < this.best; i++) {
      const sub = this.subs[i]!;
      if (sub.reason !== undefined) attrs[sub.name] = sub.reason;
    }
    return attrs;
  }

  stop(): void {
    this.release();
    this.removeAllListeners();
  }

  private subEstablished(index: number): void {
    if (this.stopped) return;
    this.subs[index]!.established = true;
    if (!this.chooseBest()) return;
    if (!this.isEstablished) {
      this.isEstablished = true;
      this.emit('established');
    }
  }

  private subError(index: number, error: Error): void {
    const sub = this.subs[index]!;
    if (this.stopped || !sub.fwd) return;
    this.owner.subFailed(this.label, sub.name, error);
    sub.reason = error.message;
    const fwd = sub.fwd;
    sub.fwd = undefined;
    fwd.removeAllListeners();
    fwd.stop();
    this.reselect();
  }

  private subHealth(index: number, healthy: boolean, reason?: Error): void {
    const sub = this.subs[index]!;
    if (this.stopped || !sub.fwd || sub.onHold === !healthy) return;
    sub.onHold = !healthy;
    if (healthy) delete sub.reason;
    else sub.reason = reason?.message ?? 'unhealthy';
    this.reselect();
  }

  private reselect(): void {
    if (this.chooseBest()) return;
    this.release();
    this.emit('error', new NoWorkingForwardersError(this.label));
    this.removeAllListeners();
  }

  /** Stops every sub-forwarder and leaves the switch's table; events already due may still go out. */
  private release(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.owner.unregister(this.peer, this);
    for (const sub of this.subs) {
      const fwd = sub.fwd;
      sub.fwd = undefined;
      fwd?.removeAllListeners();
      fwd?.stop();
    }
  }

  /** The forwarder at `index` unless it failed or is on hold. */
  private usable(index: number): DatapathConnection | undefined {
    const sub = this.subs[index];
    return sub && !sub.onHold ? sub.fwd : undefined;
  }

  /** Picks the best forwarder; false when none is left. */
  private chooseBest(): boolean {
    let working = -1;
    let established = -1;
    this.subs.forEach((sub, i) => {
      if (!this.usable(i)) return;
      if (working < 0) working = i;
      if (established < 0 && sub.established) established = i;
    });
    const best = established >= 0 ? established : working;
    if (best < 0) return false;
    if (best !== this.best) {
      const changed = this.best >= 0;
      this.best = best;
      this.owner.using(this.peer, this.label, this.subs[best]!.name, changed);
    }
    return true;
  }
}
