import { type Endpoint, type NetworkOverlay, OverlaySwitch, type PeerName } from '@weave-ts/core';
import { advanceSettled, SeededRandom, VirtualClock } from '@weave-ts/core/testing';
import { runDatapathCompliance } from '@weave-ts/core/testing/compliance';
import { SimulatedUnderlay, SleeveOverlay } from '../src/index.js';

// Core's datapath contract suite, run over the sleeve on the simulated underlay: alone, and as the
// only overlay of core's OverlaySwitch (which adds the [index][sub-tag] control framing).

const A = '0a:00:00:00:00:01' as PeerName;
const B = '0a:00:00:00:00:02' as PeerName;
const A_ADDR: Endpoint = { host: '10.0.0.1', port: 6783 };
const B_ADDR: Endpoint = { host: '10.0.0.2', port: 6783 };

function harness(wrap: (sleeve: SleeveOverlay) => NetworkOverlay) {
  const clock = new VirtualClock();
  const underlay = new SimulatedUnderlay({ clock, random: new SeededRandom(3) });
  const sleeve = (peer: PeerName, at: Endpoint) =>
    wrap(new SleeveOverlay({ localPeer: peer, socket: underlay.bind(at), clock }));
  return {
    a: { name: A, datapath: sleeve(A, A_ADDR), endpoint: A_ADDR },
    b: { name: B, datapath: sleeve(B, B_ADDR), endpoint: B_ADDR },
    advance: (ms: number) => advanceSettled(clock, ms),
  };
}

runDatapathCompliance('sleeve', () => harness((sleeve) => sleeve));

runDatapathCompliance('overlay switch over sleeve', () =>
  harness((sleeve) => new OverlaySwitch([{ name: 'sleeve', overlay: sleeve }])),
);
