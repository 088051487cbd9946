import { createSocket } from 'node:dgram';
import { access, constants } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { type NamedOverlay, type NetworkOverlay, OverlaySwitch } from '@weave-ts/core';
import {
  bindFastdpOverlay,
  FASTDP_DEFAULT_MTU,
  type FastdpOverlay,
  probeFastdp,
  shortIdsOfRouter,
} from '@weave-ts/datapath-fastdp';
import { bindSleeveOverlay } from '@weave-ts/datapath-sleeve';
import { createBridge, deleteLink, setLinkMaster, setLinkMtu, setLinkUp, TapLocalPort } from '@weave-ts/host';
import { DatapathUnavailableError, PermissionDeniedError } from './peer-errors.js';
import type { DatapathContext, OpenDatapath } from './peer-options.js';
import { DEFAULT_SLEEVE_MTU } from './validate-options.js';

/** Why a kernel datapath cannot run here, or undefined when root and `/dev/net/tun` are there. */
export async function kernelUnavailableReason(): Promise<string | undefined> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (CAP_NET_ADMIN)';
  try {
    await access('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/net/tun is not available';
  }
  return undefined;
}

/**
 * Whether fastdp works here (tools, bpffs, VXLAN, BPF), and why not. A password does not matter: the
 * fastdp overlay refuses encrypted connections one by one, and the overlay switch carries them over
 * sleeve, saying why in the connection's attributes.
 */
export async function fastdpUnavailableReason(): Promise<string | undefined> {
  const probe = await probeFastdp();
  return probe.supported ? undefined : (probe.reason ?? 'unsupported');
}

/** Removes the bridge (`reset()` of a peer with a kernel datapath). */
export async function removeBridge(name: string): Promise<void> {
  await deleteLink(name, { ifExists: true });
}

/**
 * The kernel datapath: the bridge (created, or reused when it exists; its MAC is the peer name), a TAP
 * on it as the router's local port, and the overlays — sleeve (UDP on the control port, with the
 * native fast path), preceded by fastdp when `withFastdp`. The router stops the overlays and closes
 * the TAP; `close()` then removes the bridge if this run created it (unless `bridge.keep`).
 */
export async function openKernelDatapath(
  context: DatapathContext,
  withFastdp: boolean,
): Promise<OpenDatapath> {
  const reason = await kernelUnavailableReason();
  if (reason) throw new DatapathUnavailableError(withFastdp ? 'fastdp' : 'sleeve', reason);
  const { bridge } = context;
  const mtu = bridge.mtu ?? (withFastdp ? FASTDP_DEFAULT_MTU : DEFAULT_SLEEVE_MTU);
  let created = false;
  let tap: TapLocalPort | undefined;
  const overlays: NamedOverlay[] = [];
  const undo = async () => {
    for (const { overlay } of overlays) await overlay.stop().catch(() => {});
    await tap?.close().catch(() => {});
    if (created && !bridge.keep) await deleteLink(bridge.name, { ifExists: true }).catch(() => {});
  };
  try {
    try {
      ({ created } = await createBridge(bridge.name, { mtu, mac: context.peerName }));
    } catch (cause) {
      throw new PermissionDeniedError(`creating bridge ${bridge.name}: ${(cause as Error).message}`, {
        cause,
      });
    }
    tap = TapLocalPort.open({ name: bridge.tap, mtu, logger: context.logger });
    await setLinkMtu(bridge.tap, mtu);
    await setLinkMaster(bridge.tap, bridge.name);
    await setLinkUp(bridge.tap);
    await setLinkUp(bridge.name);
    const local = { host: context.host, port: context.port };
    if (withFastdp) {
      const fastdp: FastdpOverlay = await bindFastdpOverlay({
        localPeer: context.peerName,
        shortIds: shortIdsOfRouter(context.router),
        local,
        portDevice: bridge.tap,
        mtu,
        clock: context.clock,
        logger: context.logger,
      });
      overlays.push({ name: 'fastdp', overlay: fastdp as NetworkOverlay });
    }
    const sleeve = await bindSleeveOverlay({
      localPeer: context.peerName,
      local,
      clock: context.clock,
      fastPathTap: tap.device,
      logger: (m: string) => context.logger.info(m),
    });
    overlays.push({ name: 'sleeve', overlay: sleeve });
  } catch (error) {
    await undo();
    throw error;
  }
  const port = tap;
  return {
    // Always a switch, as upstream: peers see the `Overlays` feature and a per-connection choice.
    overlay: new OverlaySwitch(overlays, { logger: context.logger }),
    localPort: port,
    bridge: bridge.name,
    mtu,
    close: async () => {
      if (created && !bridge.keep) await deleteLink(bridge.name, { ifExists: true });
    },
  };
}

async function canBindUdp(host: string, port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/**
 * A control port free for TCP and for UDP on it and the next one (sleeve shares the control port,
 * fastdp tunnels on port + 1), for kernel datapaths asked to run on port 0.
 */
export async function pickKernelPort(host: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (port < 65535 && (await canBindUdp(host, port)) && (await canBindUdp(host, port + 1))) return port;
    if (attempt >= 20) throw new DatapathUnavailableError('sleeve', `no free port pair on ${host}`);
  }
}
