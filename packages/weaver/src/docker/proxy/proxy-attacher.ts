import type { Logger } from '@weave-ts/core';
import { silentLogger } from '@weave-ts/core';
import type Docker from 'dockerode';
import type { ContainerEvent, ContainerEventFollower } from '../container-events.js';
import { type DockerAttachment, attachDockerContainer, parseAddressSpecs } from '../docker-attach.js';
import { DockerContainerNotRunningError, inspectDockerContainer } from '../docker-container.js';
import type { DockerPeer } from '../docker-peer.js';
import { weaveCidrOf } from './create-rewrite.js';
import { isWrapped } from './wait-for-interface.js';

/**
 * Attaches containers the proxy created (recognised by the wait wrapper as entrypoint), with the
 * addresses their WEAVE_CIDR asks for (default subnet without one): right after `start` through the
 * proxy, and on every `start` event (a `docker restart`, a restart policy, or `docker start` on the
 * engine's own socket). The allocation is keyed by the container id, so within the death grace a
 * restarted container gets its address back. Attaches of one container never overlap.
 */
export class ProxyAttacher {
  private readonly busy = new Map<string, Promise<unknown>>();
  private readonly logger: Logger;
  private readonly onStart = (e: ContainerEvent) => {
    void this.attachIfManaged(e.id).catch((err: Error) =>
      this.logger.warn(`[proxy] attaching container ${e.id} on start: ${err.message}`),
    );
  };

  constructor(
    private readonly options: {
      peer: DockerPeer;
      docker: Docker;
      events?: ContainerEventFollower;
      withoutDns?: boolean;
      multicastRoute?: boolean;
      bridge?: string;
      bridgeNetns?: string;
      logger?: Logger;
    },
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Follows start events. */
  start(): void {
    this.options.events?.on('start', this.onStart);
  }

  /** Stops following start events. */
  stop(): void {
    this.options.events?.off('start', this.onStart);
  }

  /** Attaches the container if the proxy created it and it wants to be attached; undefined otherwise. */
  async attachIfManaged(ref: string): Promise<DockerAttachment | undefined> {
    const first = await inspectDockerContainer(this.options.docker, ref);
    if (!isWrapped(first.entrypoint) || !first.running) return undefined;
    return this.serialize(first.id, async () => {
      // Attached (and maybe finished) already through the other path: nothing left to do.
      const info = await inspectDockerContainer(this.options.docker, first.id);
      if (!info.running) return undefined;
      const cidr = weaveCidrOf(Object.entries(info.env).map(([k, v]) => `${k}=${v}`));
      const specs = cidr === undefined ? [] : parseAddressSpecs(cidr);
      if (specs === undefined) return undefined;
      let attached: DockerAttachment;
      try {
        attached = await attachDockerContainer({
          peer: this.options.peer,
          docker: this.options.docker,
          ref: info.id,
          addresses: specs,
          withoutDns: this.options.withoutDns,
          multicastRoute: this.options.multicastRoute,
          bridge: this.options.bridge,
          bridgeNetns: this.options.bridgeNetns,
        });
      } catch (err) {
        if (err instanceof DockerContainerNotRunningError) return undefined;
        throw err;
      }
      this.logger.info(`[proxy] attached container ${info.id} with ${attached.cidrs.join(' ')}`);
      return attached;
    });
  }

  private serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.busy.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => {});
    this.busy.set(key, settled);
    void settled.then(() => {
      if (this.busy.get(key) === settled) this.busy.delete(key);
    });
    return next;
  }
}
