import { dockerService } from './docker/docker-service.js';
import type { WeaverConfig } from './weaver-config.js';
import type { WeaverService } from './weaver.js';

/**
 * The services the `weaver` bin runs inside the daemon, chosen from the command line. The Docker
 * integration (plugin, proxy, container events in `src/docker/`) registers itself here: add its
 * factory to the list below (one line), returning undefined when its flags are off.
 */
export function builtinServices(_config: WeaverConfig): WeaverService[] {
  const factories: ((config: WeaverConfig) => WeaverService | undefined)[] = [dockerService];
  return factories.map((f) => f(_config)).filter((s): s is WeaverService => s !== undefined);
}
