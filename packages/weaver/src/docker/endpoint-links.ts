import { createVethPair, deleteLink, getLink, setLinkMaster, setLinkUp } from '@weave-ts/host';

/**
 * The kernel side of a plugin endpoint: a veth pair whose host end sits on the weave bridge and whose
 * other end Docker moves into the container (renamed `ethwe<N>`).
 */
export interface EndpointLinks {
  /** Creates the pair with both ends at `mtu` (default the bridge's), host end on `bridge` and up; returns the guest end's MAC. */
  create(hostIfName: string, guestIfName: string, bridge: string, mtu?: number): Promise<string | undefined>;
  /** Deletes the pair by its host end; a missing link is not an error. */
  delete(hostIfName: string): Promise<void>;
}

/** Veth pairs through iproute2, optionally in a named network namespace (where the engine runs). */
export function kernelEndpointLinks(netns?: string): EndpointLinks {
  const where = { netns };
  return {
    async create(hostIfName, guestIfName, bridge, mtu) {
      const bridgeMtu = mtu ?? (await getLink(bridge, where)).mtu;
      await deleteLink(hostIfName, { ...where, ifExists: true });
      await createVethPair(hostIfName, guestIfName, { ...where, mtu: bridgeMtu });
      try {
        await setLinkMaster(hostIfName, bridge, where);
        await setLinkUp(hostIfName, where);
        return (await getLink(guestIfName, where)).mac;
      } catch (err) {
        await deleteLink(hostIfName, { ...where, ifExists: true });
        throw err;
      }
    },
    async delete(hostIfName) {
      await deleteLink(hostIfName, { ...where, ifExists: true });
    },
  };
}
