/**
 * Fuzz target for sleeve datagrams: a real SleeveOverlay on a simulated underlay with one unencrypted
 * and one encrypted confirmed connection (the test harness of datapath-sleeve).
 */
import { WeaveError } from '@weave-ts/core';
import { arpFrame, ipv4Frame } from '../../packages/datapath-sleeve/test/frames.js';
import { A, A_ADDR, B, B_ADDR, establish, makePair } from '../../packages/datapath-sleeve/test/harness.js';
import type { FuzzTarget } from './targets.js';

type Pair = ReturnType<typeof makePair>;
let plain: Pair | undefined;
let sealed: Pair | undefined;
const captured: Uint8Array[] = [];

function capture(pair: Pair, tag: number): void {
  pair.underlay.tap((d) => {
    if (d.to.host === B_ADDR.host && captured.length < 200) captured.push(Uint8Array.of(tag, ...d.data));
  });
}

const sleeve: FuzzTarget = {
  name: 'sleeve',
  description:
    'sleeve datagrams into a SleeveOverlay with a confirmed connection (first byte: unencrypted or encrypted connection, from its address or a foreign one), and control messages to its forwarder',
  maxLen: 2048,
  async setup() {
    captured.length = 0;
    plain = makePair();
    sealed = makePair({ encrypted: true, seed: 2 });
    capture(plain, 0);
    capture(sealed, 1);
    establish(plain);
    establish(sealed);
    for (const pair of [plain, sealed]) {
      pair.overlayA.forward({ srcPeer: A, dstPeer: B }, [arpFrame(), ipv4Frame({ ipLength: 200 })]);
      pair.clock.advance(20_000);
    }
  },
  seeds: () => [...captured, Uint8Array.of(4, 1, 0), Uint8Array.of(5, 2, 0, 0, 0, 5, 0xdc)],
  run(input) {
    if (input.length === 0) return;
    const sel = input[0]!;
    const pair = sel % 2 === 0 ? plain! : sealed!;
    // The test harness records logs and frames; keep them from growing over millions of inputs.
    if (pair.logs.length > 1000) pair.logs.length = 0;
    if (pair.received.b.length > 1000) pair.received.b.length = 0;
    if (pair.events.length > 1000) pair.events.length = 0;
    if (pair.control.length > 1000) pair.control.length = 0;
    const body = input.subarray(1);
    if (sel % 8 >= 4) {
      pair.fb.controlMessage(body[0] ?? 0, body.subarray(1));
      return;
    }
    const from = sel % 4 >= 2 ? { host: '10.250.0.66', port: 6783 } : A_ADDR;
    pair.underlay.inject(from, B_ADDR, body);
    pair.clock.advance(1);
  },
  expected: (e) => e instanceof WeaveError,
  async teardown() {
    await plain?.overlayA.stop();
    await plain?.overlayB.stop();
    await sealed?.overlayA.stop();
    await sealed?.overlayB.stop();
  },
};

export default sleeve;
