import type { CliContext } from './context.js';

/**
 * The verb table. Each verb lives in its own module (`commands/<verb>.ts`) and is imported only
 * when it runs, so `weave status` loads nothing it does not need. New verbs (the Docker ones:
 * run, env, config, dns-args, launch-proxy) add a line here or call registerVerb.
 */

/** What a verb module exports. */
export interface Verb {
  /** Runs the verb with the arguments after its name; resolves with the exit status. */
  run(args: string[], ctx: CliContext): Promise<number>;
}

/** Loads a verb's module. */
export type VerbLoader = () => Promise<Verb>;

const verbs = new Map<string, VerbLoader>([
  ['launch', () => import('./commands/launch.js')],
  ['launch-router', () => import('./commands/launch-router.js')],
  ['stop', () => import('./commands/stop.js')],
  ['stop-router', () => import('./commands/stop.js')],
  ['reset', () => import('./commands/reset.js')],
  ['status', () => import('./commands/status.js')],
  ['report', () => import('./commands/report.js')],
  ['connect', () => import('./commands/connect.js')],
  ['forget', () => import('./commands/forget.js')],
  ['attach', () => import('./commands/attach.js')],
  ['detach', () => import('./commands/detach.js')],
  ['expose', () => import('./commands/expose.js')],
  ['hide', () => import('./commands/hide.js')],
  ['dns-add', () => import('./commands/dns-add.js')],
  ['dns-remove', () => import('./commands/dns-remove.js')],
  ['dns-lookup', () => import('./commands/dns-lookup.js')],
  ['ps', () => import('./commands/ps.js')],
  ['rmpeer', () => import('./commands/rmpeer.js')],
  ['prime', () => import('./commands/prime.js')],
  ['version', () => import('./commands/version.js')],
  ['run', () => import('./commands/run.js')],
  ['env', () => import('./commands/env.js')],
  ['config', () => import('./commands/config.js')],
  ['dns-args', () => import('./commands/dns-args.js')],
  ['launch-proxy', () => import('./commands/launch-proxy.js')],
]);

/** Adds (or replaces) a verb. */
export function registerVerb(name: string, loader: VerbLoader): void {
  verbs.set(name, loader);
}

/** The loader of a verb, if there is one. */
export function findVerb(name: string): VerbLoader | undefined {
  return verbs.get(name);
}

/** Names of all verbs, sorted. */
export function verbNames(): string[] {
  return [...verbs.keys()].sort();
}
