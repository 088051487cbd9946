import { writeFile } from 'node:fs/promises';
import { runCommand } from './command.js';
import type { InNetns } from './links.js';

/**
 * Sets kernel parameters, given by their /proc/sys path (`net/ipv4/conf/ethwe/arp_accept`; the slash
 * form keeps interface names with dots intact). In this process's namespace they are written
 * directly; inside another namespace through `sysctl` (procps) under `ip netns exec`.
 */
export async function setSysctls(
  values: Readonly<Record<string, string>>,
  options: InNetns = {},
): Promise<void> {
  const entries = Object.entries(values);
  for (const [key] of entries) {
    if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/.test(key) || key.split('/').includes('..')) {
      throw new RangeError(`not a sysctl path: ${JSON.stringify(key)}`);
    }
  }
  if (options.netns === undefined) {
    for (const [key, value] of entries) await writeFile(`/proc/sys/${key}`, value);
    return;
  }
  if (entries.length === 0) return;
  await runCommand('sysctl', ['-q', '-w', ...entries.map(([k, v]) => `${k}=${v}`)], { netns: options.netns });
}
