// Shared fixtures of the tests that run the sleeve over real (kernel) UDP sockets.
import type { Endpoint, OverlayConnectionParams, OverlayFrame } from '@weave-ts/core';
import type { SleeveForwarder, SleeveOverlay } from '../src/index.js';
import { A, B, CONN_UID } from './harness.js';

/** Polls `condition` every 5 ms of real time; rejects once `ms` have passed without it holding. */
export async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Connects overlay `a` (peer A, dialling) to `b` (peer B) and confirms both forwarders; control
 * messages cross on a microtask. `bSeesA` is the address B is told A dials from (it learns the real
 * one from heartbeats). Frames each overlay receives are collected in `received`.
 */
export function connectOverlays(a: SleeveOverlay, b: SleeveOverlay, bSeesA: Endpoint) {
  const received = { a: [] as OverlayFrame[], b: [] as OverlayFrame[] };
  a.onFramesReceived((f) => received.a.push(...f));
  b.onFramesReceived((f) => received.b.push(...f));
  const forwarders: { a?: SleeveForwarder; b?: SleeveForwarder } = {};
  const params = (self: SleeveOverlay, outbound: boolean): OverlayConnectionParams => ({
    remotePeer: { name: self === a ? B : A, nickname: 'peer', uid: 1n },
    local: self.local,
    remote: self === a ? b.local : bSeesA,
    outbound,
    connUID: CONN_UID,
    features: {},
    sendControlMessage: (tag, msg) =>
      queueMicrotask(() => (self === a ? forwarders.b : forwarders.a)?.controlMessage(tag, msg)),
  });
  const fa = a.prepareConnection(params(a, true)) as SleeveForwarder;
  const fb = b.prepareConnection(params(b, false)) as SleeveForwarder;
  forwarders.a = fa;
  forwarders.b = fb;
  fa.confirm();
  fb.confirm();
  return { fa, fb, received };
}
