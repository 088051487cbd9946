import { NullOverlay } from '@weave-ts/core';
import { DatapathUnavailableError } from './peer-errors.js';
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
let sharedWire: unknown;

/** The in-process datapath (`MemoryDatapath` of `@weave-ts/core/testing`), over one wire per process. */
export const memoryDatapath: DatapathBackend = {
  kind: 'memory',
  async open(context: DatapathContext) {
    const testing = await import('@weave-ts/core/testing');
    sharedWire ??= new testing.MemoryWire();
    const overlay = new testing.MemoryDatapath({
      wire: sharedWire as InstanceType<typeof testing.MemoryWire>,
      localPeer: context.peerName,
      clock: context.clock,
    });
    return { overlay, mtu: overlay.mtu };
  },
};

/**
 * Opens the datapath `choice` names. `'auto'` tries fastdp, then sleeve, then none, taking the first
 * whose probe says the host supports it.
 */
export async function openDatapath(
  choice: DatapathKind | DatapathBackend,
  context: DatapathContext,
): Promise<SelectedDatapath> {
  if (typeof choice !== 'string') return { kind: choice.kind, ...(await choice.open(context)) };
  switch (choice) {
    case 'none':
      return { kind: 'none', ...(await noneDatapath.open(context)) };
    case 'memory':
      return { kind: 'memory', ...(await memoryDatapath.open(context)) };
    case 'sleeve':
    case 'fastdp':
    case 'auto':
      throw new DatapathUnavailableError(choice, 'not implemented yet');
  }
}
