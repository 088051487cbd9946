import type { Endpoint, OverlayConnectionParams, OverlayFrame, PeerName } from '@weave-ts/core';
import { parsePeerName } from '@weave-ts/core';
import {
  type SleeveForwarder,
  type SleeveOffload,
  SleeveOverlay,
  SimulatedUnderlay,
  type UnderlayPath,
} from '../src/index.js';
import { ManualClock, seededRandom } from './manual-clock.js';

/** Peer names as in the captures: A dials B. */
export const A = parsePeerName('0a:00:00:00:00:01');
export const B = parsePeerName('0a:00:00:00:00:02');
export const A_ADDR: Endpoint = { host: '10.250.0.1', port: 6783 };
export const B_ADDR: Endpoint = { host: '10.250.0.2', port: 6783 };
/** The connection uid seen in the captured heartbeats. */
export const CONN_UID = 0x9506b8534fd55308n;
export const SESSION_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);

/** A control message as it crossed the (simulated) TCP connection. */
export interface ControlRecord {
  readonly from: PeerName;
  readonly tag: number;
  readonly msg: Uint8Array;
}

export interface PairOptions {
  /** Interface MTU of both hosts (default 1500). */
  readonly interfaceMtu?: number;
  readonly encrypted?: boolean;
  readonly defaultPath?: UnderlayPath;
  readonly seed?: number;
  /** A's offload (fast path), if any. */
  readonly offloadA?: SleeveOffload;
}

/** Two sleeve overlays on a simulated underlay with one connection A → B, wired for control messages. */
export function makePair(options: PairOptions = {}) {
  const clock = new ManualClock();
  const underlay = new SimulatedUnderlay({
    clock,
    random: seededRandom(options.seed ?? 1),
    ...(options.defaultPath ? { defaultPath: options.defaultPath } : {}),
  });
  const interfaceMtu = options.interfaceMtu ?? 1500;
  const logs: string[] = [];
  const control: ControlRecord[] = [];
  const received = { a: [] as OverlayFrame[], b: [] as OverlayFrame[] };
  const overlayA = new SleeveOverlay({
    localPeer: A,
    socket: underlay.bind(A_ADDR, { interfaceMtu }),
    clock,
    logger: (m) => logs.push(`A ${m}`),
    ...(options.offloadA ? { offload: options.offloadA } : {}),
  });
  const overlayB = new SleeveOverlay({
    localPeer: B,
    socket: underlay.bind(B_ADDR, { interfaceMtu }),
    clock,
    logger: (m) => logs.push(`B ${m}`),
  });
  overlayA.onFramesReceived((frames) => received.a.push(...frames));
  overlayB.onFramesReceived((frames) => received.b.push(...frames));

  const forwarders: { a?: SleeveForwarder; b?: SleeveForwarder } = {};
  const sessionKey = options.encrypted ? { sessionKey: SESSION_KEY } : {};
  const params = (from: PeerName, outbound: boolean): OverlayConnectionParams => ({
    remotePeer: { name: from === A ? B : A, nickname: from === A ? 'hostB' : 'hostA', uid: 1n },
    local: from === A ? { host: A_ADDR.host, port: 40001 } : B_ADDR,
    remote: from === A ? B_ADDR : { host: A_ADDR.host, port: 40001 },
    outbound,
    connUID: CONN_UID,
    ...sessionKey,
    features: {},
    sendControlMessage: (tag, msg) => {
      control.push({ from, tag, msg });
      // TCP: reliable and ordered, delivered on the next timer turn.
      clock.setTimeout(() => (from === A ? forwarders.b : forwarders.a)?.controlMessage(tag, msg), 0);
    },
  });
  forwarders.a = overlayA.prepareConnection(params(A, true)) as SleeveForwarder;
  forwarders.b = overlayB.prepareConnection(params(B, false)) as SleeveForwarder;
  const fa = forwarders.a;
  const fb = forwarders.b;
  const events: string[] = [];
  fa.on('established', () => events.push('A established'));
  fb.on('established', () => events.push('B established'));
  fa.on('error', (e) => events.push(`A error: ${e.message}`));
  fb.on('error', (e) => events.push(`B error: ${e.message}`));
  return { clock, underlay, overlayA, overlayB, fa, fb, logs, control, received, events };
}

/** Confirms both forwarders and runs the clock until PMTU discovery has had time to finish. */
export function establish(pair: ReturnType<typeof makePair>, ms = 100): void {
  pair.fa.confirm();
  pair.fb.confirm();
  pair.clock.advance(ms);
}
