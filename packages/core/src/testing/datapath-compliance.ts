import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DATAPATH_BATCH_SIZE,
  type DatapathConnection,
  type NetworkOverlay,
  type OverlayFrame,
} from '../datapath.js';
import type { OverlayConnectionParams } from '../overlay.js';
import type { PeerName } from '../peer-name.js';
import type { Endpoint } from '../transport.js';
import { ethernetFrame } from './frame-builder.js';

/**
 * The contract suite every datapath backend runs against itself (like js-libp2p's interface
 * compliance tests): `runDatapathCompliance('sleeve', setup)` inside a test file.
 *
 * ```
 * setup() ─▶ two NetworkOverlays (peers a, b) + advance(ms) that lets (virtual) time pass
 * suite   ─▶ prepareConnection on both, control messages cross-wired (in order, asynchronously),
 *            confirm, advance until established, then forward batches and check what arrives
 * ```
 */

/** One side of the pair a backend's setup provides. */
export interface DatapathCompliancePeer {
  /** The peer's name. */
  readonly name: PeerName;
  /** The datapath under test. */
  readonly datapath: NetworkOverlay;
  /** The address its control connection uses (the sleeve also sends UDP to the outbound side's one). */
  readonly endpoint: Endpoint;
}

/** What a backend's setup returns: two fresh datapaths that can reach each other. */
export interface DatapathComplianceHarness {
  /** The first peer (it dials). */
  readonly a: DatapathCompliancePeer;
  /** The second peer (it accepts). */
  readonly b: DatapathCompliancePeer;
  /** Lets `ms` of (virtual) time pass, running due timers and pending deliveries. */
  advance(ms: number): Promise<void>;
  /** Releases whatever the setup created (the datapaths may already be stopped). */
  teardown?(): Promise<void>;
}

/** Tuning of {@link runDatapathCompliance}. */
export interface DatapathComplianceOptions {
  /** Time both sides get to establish (default 5 s). */
  readonly establishMs?: number;
  /** Time a forwarded batch gets to arrive (default 1 s). */
  readonly deliverMs?: number;
  /** Largest frame the suite sends (default 1390 bytes: a 1376-byte MTU, the smallest weave default). */
  readonly largestFrame?: number;
}

const CONN_UID = 0x5eed_0000_1234n;
/** A local-experimental ethertype: no backend treats these frames as IP. */
const TEST_ETHERTYPE = 0x88b5;

interface Pair {
  ca: DatapathConnection;
  cb: DatapathConnection;
  received: { a: OverlayFrame[]; b: OverlayFrame[] };
  events: { a: string[]; b: string[] };
}

/** A test frame whose payload starts with `seq` (4 bytes) and has `size` bytes in all. */
function testFrame(seq: number, size: number): Uint8Array {
  const payload = new Uint8Array(Math.max(4, size - 14));
  new DataView(payload.buffer).setUint32(0, seq);
  for (let i = 4; i < payload.length; i++) payload[i] = (seq + i) & 0xff;
  return ethernetFrame({
    dst: 0x02_0000_00bb_01,
    src: 0x02_0000_00aa_01,
    etherType: TEST_ETHERTYPE,
    payload,
  });
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const seqOf = (frame: Uint8Array) => new DataView(frame.buffer, frame.byteOffset).getUint32(14);

/** Registers the datapath contract suite under `describe(name)`. */
export function runDatapathCompliance(
  name: string,
  setup: () => DatapathComplianceHarness | Promise<DatapathComplianceHarness>,
  options: DatapathComplianceOptions = {},
): void {
  const establishMs = options.establishMs ?? 5_000;
  const deliverMs = options.deliverMs ?? 1_000;
  const largest = options.largestFrame ?? 1_390;

  describe(`${name}: datapath compliance`, () => {
    let h: DatapathComplianceHarness;

    beforeEach(async () => {
      h = await setup();
    });
    afterEach(async () => {
      await h.a.datapath.stop();
      await h.b.datapath.stop();
      await h.teardown?.();
    });

    /** Prepares both ends with cross-wired control messages and records events and frames. */
    function prepare(): Pair {
      const received = { a: [] as OverlayFrame[], b: [] as OverlayFrame[] };
      const events = { a: [] as string[], b: [] as string[] };
      h.a.datapath.onFramesReceived((frames) => received.a.push(...frames));
      h.b.datapath.onFramesReceived((frames) => received.b.push(...frames));
      const conns: { a?: DatapathConnection; b?: DatapathConnection } = {};
      const params = (
        self: DatapathCompliancePeer,
        other: DatapathCompliancePeer,
        outbound: boolean,
        to: 'a' | 'b',
      ): OverlayConnectionParams => {
        const features: Record<string, string> = {};
        other.datapath.addFeaturesTo(features);
        return {
          remotePeer: { name: other.name, nickname: `nick-${to}`, uid: 1n },
          local: self.endpoint,
          remote: other.endpoint,
          outbound,
          connUID: CONN_UID,
          features,
          // Like the control connection: ordered, asynchronous, copied.
          sendControlMessage: (tag, msg) => {
            const copy = msg.slice();
            queueMicrotask(() => conns[to]?.controlMessage(tag, copy));
          },
        };
      };
      conns.a = h.a.datapath.prepareConnection(params(h.a, h.b, true, 'b'));
      conns.b = h.b.datapath.prepareConnection(params(h.b, h.a, false, 'a'));
      for (const side of ['a', 'b'] as const) {
        const conn = conns[side]!;
        conn.on('established', () => events[side].push('established'));
        conn.on('error', (e) => events[side].push(`error: ${e.message}`));
      }
      return { ca: conns.a, cb: conns.b, received, events };
    }

    async function established(): Promise<Pair> {
      const pair = prepare();
      pair.ca.confirm();
      pair.cb.confirm();
      await h.advance(establishMs);
      expect(pair.ca.established).toBe(true);
      expect(pair.cb.established).toBe(true);
      return pair;
    }

    it('establishes both ends once both confirmed, and says so once', async () => {
      const pair = await established();
      expect(pair.events.a).toEqual(['established']);
      expect(pair.events.b).toEqual(['established']);
    });

    it('does not establish, nor emit, while the remote has not confirmed', async () => {
      const pair = prepare();
      pair.ca.confirm();
      await h.advance(establishMs);
      expect(pair.ca.established).toBe(false);
      expect(pair.events.a).toEqual([]);
      expect(pair.events.b).toEqual([]);
    });

    it('reports its name and mtu in attrs', async () => {
      const pair = await established();
      for (const attrs of [pair.ca.attrs(), pair.cb.attrs()]) {
        expect(typeof attrs.name).toBe('string');
        expect(String(attrs.name)).not.toBe('');
        expect(typeof attrs.mtu).toBe('number');
        expect(Number(attrs.mtu)).toBeGreaterThan(0);
      }
    });

    it('delivers a batch whole and in order, with its key, both ways', async () => {
      const pair = await established();
      const frames = Array.from({ length: 10 }, (_, i) => testFrame(i, 60 + i));
      expect(h.a.datapath.forward({ srcPeer: h.a.name, dstPeer: h.b.name }, frames)).toBe('forwarded');
      expect(h.b.datapath.forward({ srcPeer: h.b.name, dstPeer: h.a.name }, frames.slice(0, 3))).toBe(
        'forwarded',
      );
      await h.advance(deliverMs);
      expect(pair.received.b.map((f) => seqOf(f.frame))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      pair.received.b.forEach((f, i) => {
        expect(f.src).toBe(h.a.name);
        expect(f.dst).toBe(h.b.name);
        expect(f.frame).toEqual(frames[i]);
      });
      expect(pair.received.a.map((f) => [f.src, f.dst, seqOf(f.frame)])).toEqual(
        [0, 1, 2].map((i) => [h.b.name, h.a.name, i]),
      );
    });

    it('carries batches beyond DATAPATH_BATCH_SIZE and frames of many sizes, in order', async () => {
      const pair = await established();
      const count = 2 * DATAPATH_BATCH_SIZE + 1;
      const frames = Array.from({ length: count }, (_, i) => testFrame(i, 42 + ((i * 97) % (largest - 41))));
      expect(h.a.datapath.forward({ srcPeer: h.a.name, dstPeer: h.b.name }, frames)).toBe('forwarded');
      expect(h.a.datapath.forward({ srcPeer: h.a.name, dstPeer: h.b.name }, [])).not.toBe('stopped');
      await h.advance(deliverMs);
      expect(pair.received.b.map((f) => seqOf(f.frame))).toEqual(frames.map((_, i) => i));
      const mismatched = pair.received.b.filter((f, i) => !sameBytes(f.frame, frames[i]!));
      expect(mismatched).toEqual([]);
    });

    it("keeps no reference to the caller's buffers", async () => {
      const pair = await established();
      const frames = [testFrame(7, 100), testFrame(8, 100)];
      const copies = frames.map((f) => f.slice());
      h.a.datapath.forward({ srcPeer: h.a.name, dstPeer: h.b.name }, frames);
      for (const f of frames) f.fill(0xee);
      await h.advance(deliverMs);
      expect(pair.received.b.map((f) => f.frame)).toEqual(copies);
    });

    it('sends through `via`, keeping the key of frames it relays', async () => {
      const pair = await established();
      const key = { srcPeer: '0a:00:00:00:00:77' as PeerName, dstPeer: '0a:00:00:00:00:88' as PeerName };
      expect(h.a.datapath.forward(key, [testFrame(1, 80)], { via: h.b.name })).toBe('forwarded');
      await h.advance(deliverMs);
      expect(pair.received.b.map((f) => [f.src, f.dst])).toEqual([[key.srcPeer, key.dstPeer]]);
    });

    it('refuses to forward to a peer it has no connection to', async () => {
      await established();
      const stranger = '0a:00:00:00:00:99' as PeerName;
      expect(h.a.datapath.forward({ srcPeer: h.a.name, dstPeer: stranger }, [testFrame(1, 80)])).toBe(
        'no-connection',
      );
    });

    it('a stopped connection forwards nothing, receives nothing and emits nothing', async () => {
      const pair = await established();
      pair.ca.stop();
      pair.ca.stop();
      expect(h.a.datapath.forward({ srcPeer: h.a.name, dstPeer: h.b.name }, [testFrame(1, 80)])).not.toBe(
        'forwarded',
      );
      expect(pair.ca.forward({ srcPeer: h.a.name, dstPeer: h.b.name }, [testFrame(1, 80)])).toBe(false);
      h.b.datapath.forward({ srcPeer: h.b.name, dstPeer: h.a.name }, [testFrame(2, 80)]);
      await h.advance(establishMs);
      expect(pair.received.a).toEqual([]);
      expect(pair.received.b).toEqual([]);
      expect(pair.events.a).toEqual(['established']);
    });

    it('after stop() the datapath reports stopped and delivers nothing', async () => {
      const pair = await established();
      await h.a.datapath.stop();
      await h.a.datapath.stop();
      expect(h.a.datapath.forward({ srcPeer: h.a.name, dstPeer: h.b.name }, [testFrame(1, 80)])).toBe(
        'stopped',
      );
      h.b.datapath.forward({ srcPeer: h.b.name, dstPeer: h.a.name }, [testFrame(2, 80)]);
      await h.advance(establishMs);
      expect(pair.received.a).toEqual([]);
      expect(pair.events.a).toEqual(['established']);
    });
  });
}
