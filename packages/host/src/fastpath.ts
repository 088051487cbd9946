/*
 * The native half of the sleeve's fast path (native/fastpath.c): a flow cache between a TAP and the
 * sleeve's UDP socket that moves established unicast frames with no JavaScript per frame.
 *
 *   JS forwards a frame in software ─▶ offers its flow ─▶ C carries the flow's frames for `ttlMs`
 *   routes change / a MAC moves ─▶ flush() ─▶ every frame goes through JS again
 *
 * The sleeve owns the semantics (which connections, when enabled, which flows); this class only
 * binds the addon. Encrypted connections keep their sequence counters and replay windows in C, so JS
 * seals and opens through the connection (`seal`, `open`) to share them with the fast path.
 */
import { FastPathClosedError } from './errors.js';
import { hostAddon } from './native.js';
import type { Tap } from './tap.js';
import type { NativeUdpSocket } from './udp-socket.js';

/** Opaque addon handle of a fast path. */
export type FastPathHandle = { readonly __brand: 'FastPathHandle' };

interface FastPathAddon {
  fastpathCreate(ourName: Uint8Array, ttlMs: number): FastPathHandle;
  fastpathClose(h: FastPathHandle): void;
  fastpathConnAdd(h: FastPathHandle, peer: Uint8Array, key: Uint8Array | null, outbound: boolean): number;
  fastpathConnRemove(h: FastPathHandle, id: number): void;
  fastpathConnSet(
    h: FastPathHandle,
    id: number,
    enabled: boolean,
    host: string | null,
    port: number,
    mtu: number,
    maxPayload: number,
    stackFrag: boolean,
  ): void;
  fastpathOfferSend(h: FastPathHandle, srcMac: number, dstMac: number, id: number, dstName: Uint8Array): void;
  fastpathOfferDeliver(h: FastPathHandle, srcName: Uint8Array, srcMac: number, dstMac: number): void;
  fastpathFlush(h: FastPathHandle): void;
  fastpathStats(h: FastPathHandle): number[];
  fastpathSeal(h: FastPathHandle, id: number, df: boolean, records: Uint8Array): Uint8Array;
  fastpathOpen(h: FastPathHandle, id: number, body: Uint8Array, out: Uint8Array): number;
}

function addon(): FastPathAddon {
  return hostAddon() as unknown as FastPathAddon;
}

/**
 * Default lifetime of an offered flow: JS sees one frame per flow per 10 s, which refreshes its MAC
 * ages (10 min) with a wide margin while keeping that frame's slower trip out of the latency tail.
 */
export const FAST_PATH_FLOW_TTL_MS = 10_000;

/** What the fast path has carried since it was created. */
export interface FastPathStats {
  /** Frames sent by the addon without JavaScript. */
  framesSent: number;
  /** Datagrams those frames went in. */
  datagramsSent: number;
  /** Frames received by the addon and injected into the TAP. */
  framesReceived: number;
  /** Datagrams those frames came in. */
  datagramsReceived: number;
  /** Authentic encrypted datagrams dropped as replays. */
  duplicates: number;
  /** Datagrams the kernel refused to send. */
  sendErrors: number;
  /** DF datagrams the kernel refused as too big (the connection then waits for JS). */
  tooBig: number;
  /** Frames dropped because the TAP queue was full. */
  tapDrops: number;
}

const STAT_NAMES: readonly (keyof FastPathStats)[] = [
  'framesSent',
  'datagramsSent',
  'framesReceived',
  'datagramsReceived',
  'duplicates',
  'sendErrors',
  'tooBig',
  'tapDrops',
];

/** How a connection's frames may go (the sleeve forwarder's state). */
export interface FastPathConnectionState {
  /** Established, with a known remote address: only then does C carry its frames. */
  readonly enabled: boolean;
  /** The remote's UDP endpoint once known (`undefined` while it is not). */
  readonly remote:
    | {
        /** The remote's IP address. */
        readonly host: string;
        /** The remote's UDP port. */
        readonly port: number;
      }
    | undefined;
  /** The overlay MTU: bigger frames are left to JS (fragmentation, ICMP). */
  readonly mtu: number;
  /** The largest DF datagram payload. */
  readonly maxPayload: number;
  /** The remote reassembles fragments, so IPv4 frames without DF may go non-DF. */
  readonly stackFrag: boolean;
}

/** What opening an encrypted body gave: the plain records, a replay (`null`), or `false` (not authentic). */
export type FastPathOpenResult = Uint8Array | null | false;

/** One sleeve connection registered with a {@link SleeveFastPath}. */
export class FastPathConnection {
  #removed = false;

  /** @internal */
  constructor(
    private readonly fastPath: SleeveFastPath,
    /** The addon's id for this connection. */
    readonly id: number,
  ) {}

  /** Updates what C needs to carry this connection's frames. */
  set(state: FastPathConnectionState): void {
    const h = this.fastPath.handleFor(this);
    if (h === undefined) return;
    const { remote } = state;
    addon().fastpathConnSet(
      h,
      this.id,
      state.enabled,
      remote?.host ?? null,
      remote?.port ?? 0,
      state.mtu,
      state.maxPayload,
      state.stackFrag,
    );
  }

  /** Lets C send frames from `srcMac` to `dstMac` through this connection, to peer `dstName`. */
  offerSend(srcMac: number, dstMac: number, dstName: Uint8Array): void {
    const h = this.fastPath.handleFor(this);
    if (h !== undefined) addon().fastpathOfferSend(h, srcMac, dstMac, this.id, dstName);
  }

  /** Seals plain records as one datagram with this connection's next sequence number on that path. */
  seal(df: boolean, records: Uint8Array): Uint8Array {
    return addon().fastpathSeal(this.fastPath.handleOrThrow(this), this.id, df, records);
  }

  /** Opens a received body (the datagram after the sender name), recording its sequence number. */
  open(body: Uint8Array): FastPathOpenResult {
    if (body.length < 24) return false;
    const out = new Uint8Array(body.length - 24);
    const n = addon().fastpathOpen(this.fastPath.handleOrThrow(this), this.id, body, out);
    return n >= 0 ? out : n === -2 ? null : false;
  }

  /** Forgets the connection (its flows die with it). Safe to call more than once. */
  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    const h = this.fastPath.handleFor(this);
    if (h !== undefined) addon().fastpathConnRemove(h, this.id);
  }

  /** Whether {@link FastPathConnection.remove} was called (or the fast path closed). */
  get removed(): boolean {
    return this.#removed;
  }
}

/** Options of {@link SleeveFastPath.create}. */
export interface SleeveFastPathOptions {
  /** Our 6-byte peer name (the sender of every datagram). */
  readonly ourName: Uint8Array;
  /** How long an offered flow lives; default FAST_PATH_FLOW_TTL_MS. */
  readonly flowTtlMs?: number;
}

/**
 * A fast path between one TAP and one native UDP socket. Create it, `attach` the two, then register
 * connections and offer flows. After `close()` every frame goes through JS again and calls on it or
 * its connections do nothing (`seal`/`open` throw FastPathClosedError: the encrypted state is gone with it).
 */
export class SleeveFastPath {
  #handle: FastPathHandle | undefined;

  private constructor(handle: FastPathHandle) {
    this.#handle = handle;
  }

  /** @throws HostAddonMissingError when the addon is not built; RangeError for bad options. */
  static create(options: SleeveFastPathOptions): SleeveFastPath {
    const ttl = options.flowTtlMs ?? FAST_PATH_FLOW_TTL_MS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 3_600_000)
      throw new RangeError(`flowTtlMs must be an integer in 1..3600000, got ${ttl}`);
    if (options.ourName.length !== 6) throw new RangeError('ourName must be 6 bytes');
    return new SleeveFastPath(addon().fastpathCreate(options.ourName, ttl));
  }

  /** Sends captured frames of `tap` and receives datagrams of `socket` in C, where flows allow. */
  attach(tap: Tap, socket: NativeUdpSocket): void {
    const h = this.handleOrThrow(undefined);
    tap.attachFastPath(h);
    socket.attachFastPath(h);
  }

  /** Registers a connection to `peerName`, encrypted with `sessionKey` when given. Disabled until `set`. */
  addConnection(
    peerName: Uint8Array,
    sessionKey: Uint8Array | undefined,
    outbound: boolean,
  ): FastPathConnection {
    const id = addon().fastpathConnAdd(this.handleOrThrow(undefined), peerName, sessionKey ?? null, outbound);
    return new FastPathConnection(this, id);
  }

  /** Lets C deliver frames from `srcMac` at peer `srcName` to the local `dstMac`. */
  offerDeliver(srcName: Uint8Array, srcMac: number, dstMac: number): void {
    if (this.#handle !== undefined) addon().fastpathOfferDeliver(this.#handle, srcName, srcMac, dstMac);
  }

  /** Drops every offered flow. */
  flush(): void {
    if (this.#handle !== undefined) addon().fastpathFlush(this.#handle);
  }

  /** Counters of what the addon carried. */
  stats(): FastPathStats {
    const values = this.#handle === undefined ? [] : addon().fastpathStats(this.#handle);
    return Object.fromEntries(
      STAT_NAMES.map((name, i) => [name, values[i] ?? 0]),
    ) as unknown as FastPathStats;
  }

  /** Whether {@link SleeveFastPath.close} was called. */
  get closed(): boolean {
    return this.#handle === undefined;
  }

  /** Detaches from the TAP and socket and frees the native state. Safe to call more than once. */
  close(): void {
    if (this.#handle === undefined) return;
    addon().fastpathClose(this.#handle);
    this.#handle = undefined;
  }

  /** @internal The handle, or undefined once closed or for a removed connection. */
  handleFor(conn: FastPathConnection): FastPathHandle | undefined {
    return conn.removed ? undefined : this.#handle;
  }

  /** @internal */
  handleOrThrow(conn: FastPathConnection | undefined): FastPathHandle {
    const h = conn === undefined ? this.#handle : this.handleFor(conn);
    if (h === undefined) throw new FastPathClosedError();
    return h;
  }
}
