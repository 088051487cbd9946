import { NullOverlay } from '@weave-ts/core';
import type { MemoryWire } from '@weave-ts/core/testing';
import { fastdpUnavailableReason, kernelUnavailableReason, openKernelDatapath } from './kernel-datapath.js';
import type { DatapathBackend, DatapathContext, DatapathKind, OpenDatapath } from './peer-options.js';

/** A datapath opened for one run, with the kind that was picked (for `'auto'`, the one that worked). */
export interface SelectedDatapath extends OpenDatapath {
  readonly kind: string;
}

/** The control-plane-only datapath: no overlay traffic (`NullOverlay`). */
export const noneDatapath: DatapathBackend = {
  kind: 'none',
  async open() {
    return { overlay: new NullOverlay() };
  },
};

// One in-process medium for every peer of this process that uses datapath 'memory'.
let sharedWire: MemoryWire | undefined;

/**
 * The in-process datapath (`MemoryDatapath` of `@weave-ts/core/testing`) over `wire`, for tests that
 * cut or degrade the medium (`wire.partition(a, b)`, `wire.setLoss(rate)`); default one wire per process.
 */
export function createMemoryDatapath(wire?: MemoryWire): DatapathBackend {
  return {
    kind: 'memory',
    async open(context: DatapathContext) {
      const testing = await import('@weave-ts/core/testing');
      sharedWire ??= new testing.MemoryWire();
      const overlay = new testing.MemoryDatapath({
        wire: wire ?? sharedWire,
        localPeer: context.peerName,
        clock: context.clock,
      });
      return { overlay, mtu: overlay.mtu };
    },
  };
}

/** `datapath: 'memory'`: the in-process datapath over the process's shared wire. */
export const memoryDatapath: DatapathBackend = createMemoryDatapath();

/** Sleeve (UDP encapsulation) with a TAP on the bridge: needs root and `/dev/net/tun`. */
export const sleeveDatapath: DatapathBackend = {
  kind: 'sleeve',
  open: (context) => openKernelDatapath(context, false),
};

/** Fastdp (kernel VXLAN + BPF), with sleeve as the per-connection fallback: needs root and BPF support. */
export const fastdpDatapath: DatapathBackend = {
  kind: 'fastdp',
  open: (context) => openKernelDatapath(context, true),
};

/**
 * What `'auto'` picks here: fastdp when the probe says the host supports it, else sleeve when root and
 * `/dev/net/tun` are there, else none. This is the one place the choice is made. A password does not
 * change it: fastdp refuses encrypted connections one by one and they run over sleeve, with
 * `fastdp=encryption needs IPsec ESP, not available: using sleeve` in `weave status connections`.
 */
export async function chooseAutoDatapath(_context: DatapathContext): Promise<DatapathBackend> {
  if ((await kernelUnavailableReason()) !== undefined) return noneDatapath;
  if ((await fastdpUnavailableReason()) === undefined) return fastdpDatapath;
  return sleeveDatapath;
}

const BY_KIND: Readonly<Record<Exclude<DatapathKind, 'auto'>, DatapathBackend>> = {
  none: noneDatapath,
  memory: memoryDatapath,
  sleeve: sleeveDatapath,
  fastdp: fastdpDatapath,
};

/** Opens the datapath `choice` names (see {@link chooseAutoDatapath} for `'auto'`). */
export async function openDatapath(
  choice: DatapathKind | DatapathBackend,
  context: DatapathContext,
): Promise<SelectedDatapath> {
  const backend =
    typeof choice !== 'string'
      ? choice
      : choice === 'auto'
        ? await chooseAutoDatapath(context)
        : BY_KIND[choice];
  if (backend.kind === 'fastdp' && context.encrypted) {
    // Fastdp cannot encrypt: connections fall back to sleeve per connection, as upstream does.
    context.logger.warn('fastdp: a password is set; encrypted connections use sleeve');
  }
  return { kind: backend.kind, ...(await backend.open(context)) };
}
