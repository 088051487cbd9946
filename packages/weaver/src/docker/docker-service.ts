import type { WeaverConfig } from '../weaver-config.js';
import type { Weaver, WeaverService } from '../weaver.js';
import { DockerContainerNotFoundError, inspectDockerContainer } from './docker-container.js';
import { type DockerIntegration, startDockerIntegration } from './docker-integration.js';

/**
 * The Docker integration as a weaver service: on with `--plugin`/`--plugin-v2`, `--proxy` or
 * `--docker-api <url>` (events only). Two settings have no upstream flag and come from the
 * environment: `WEAVE_PROXY_LISTEN` (space-separated proxy listen addresses, default
 * `unix:///var/run/weave/weave.sock`) and `WEAVE_CONTAINER_DIED_GRACE_MS` (default 30000).
 */
export function dockerService(
  config: WeaverConfig,
  env: NodeJS.ProcessEnv = process.env,
): WeaverService | undefined {
  const d = config.docker;
  const plugin = d.plugin || d.pluginV2;
  if (!plugin && !d.proxy && d.api === '') return undefined;
  let integration: DockerIntegration | undefined;
  return {
    name: 'docker',
    async start(weaver: Weaver) {
      const listen = env.WEAVE_PROXY_LISTEN?.split(/[\s,]+/).filter(Boolean);
      const grace = env.WEAVE_CONTAINER_DIED_GRACE_MS ? Number(env.WEAVE_CONTAINER_DIED_GRACE_MS) : undefined;
      integration = await startDockerIntegration({
        peer: weaver.peer,
        dockerHost: d.api || undefined,
        plugin: plugin
          ? {
              socket: d.pluginSocket,
              meshSocket: d.pluginMeshSocket,
              version: d.pluginV2 ? 'v2' : 'legacy',
              multicast: d.pluginV2Multicast,
            }
          : false,
        proxy: d.proxy ? { listen: listen && listen.length > 0 ? listen : undefined } : false,
        multicastRoute: !d.noMulticastRoute,
        containerDiedGraceMs: grace !== undefined && Number.isFinite(grace) && grace >= 0 ? grace : undefined,
        logger: weaver.logger,
      });
      const running = integration;
      weaver.setContainerLiveness(async (id) => {
        try {
          return (await inspectDockerContainer(running.docker, id)).running;
        } catch (err) {
          if (err instanceof DockerContainerNotFoundError) return false;
          throw err;
        }
      });
      if (running.proxyAddresses.length > 0) {
        weaver.addService({
          section: () => running.statusSections().find((s) => s.service === 'proxy'),
          report: { field: 'Proxy', value: () => running.report().Proxy },
        });
        weaver.setProxyAddresses(running.proxyAddresses);
      }
      if (running.report().Plugin !== undefined) {
        weaver.addService({
          section: () => running.statusSections().find((s) => s.service.startsWith('plugin')),
          report: { field: 'Plugin', value: () => running.report().Plugin },
        });
      }
    },
    async stop() {
      await integration?.stop();
      integration = undefined;
    },
  };
}
