#!/usr/bin/env node
// Builds the N-API addon (build/Release/weave_host.node) with node-gyp, using Node headers already on this
// machine and never downloading any:
//   1. npm_config_nodedir (npm/pnpm `--nodedir`, or the env variable) when set;
//   2. the headers next to the running node (<prefix>/include/node: nvm, official tarballs and images, Debian's
//      nodejs/libnode-dev under /usr), passed as --nodedir;
//   3. headers node-gyp already cached in its devdir (~/.cache/node-gyp/<version>), plain `node-gyp rebuild`.
// Without any of them it prints how to get headers and (as the package's install script) exits 0, so installing
// a package that depends on @weave-ts/host still succeeds; the first TAP call then throws HostAddonMissingError
// with the same remedy. `--strict` (the build:addon script) exits 1 instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const strict = process.argv.includes('--strict');
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const version = process.versions.node;
const hasHeaders = (dir) => existsSync(join(dir, 'include', 'node', 'node_api.h'));

function chooseArgs() {
  const given = process.env.npm_config_nodedir;
  if (given) return hasHeaders(given) ? [`--nodedir=${given}`] : undefined;
  const prefix = resolve(dirname(process.execPath), '..');
  if (hasHeaders(prefix)) return [`--nodedir=${prefix}`];
  if (hasHeaders('/usr')) return ['--nodedir=/usr'];
  const devdir =
    process.env.npm_config_devdir ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'node-gyp');
  if (hasHeaders(join(devdir, version))) return [];
  return undefined;
}

function fail(message) {
  const remedy =
    `@weave-ts/host: native addon not built: ${message}\n` +
    '  Install Node.js headers (nvm, the official Node.js tarballs and images, and Debian/Ubuntu nodejs or\n' +
    '  libnode-dev ship them) or point npm_config_nodedir at a Node headers tree, plus a C\n' +
    '  compiler, make and python3; then run `npm rebuild @weave-ts/host`, or with pnpm `pnpm approve-builds` (once) and `pnpm rebuild @weave-ts/host`.\n' +
    '  Importing the package works without the addon; TAP devices, gratuitous ARP and the sleeve fast path need it.';
  console.error(remedy);
  process.exit(strict ? 1 : 0);
}

const args = chooseArgs();
if (args === undefined)
  fail(
    `no Node.js ${version} headers found (looked next to ${process.execPath}, in /usr and in node-gyp's cache)`,
  );

// npm and pnpm run lifecycle scripts with their bundled node-gyp: npm_config_node_gyp is its path, and a
// node-gyp shim is on PATH. Outside a lifecycle script, node-gyp must be installed (npm i -g node-gyp).
const gypScript = process.env.npm_config_node_gyp;
const [command, commandArgs] =
  gypScript && existsSync(gypScript) ? [process.execPath, [gypScript]] : ['node-gyp', []];
const result = spawnSync(command, [...commandArgs, 'rebuild', ...args], {
  cwd: packageDir,
  stdio: 'inherit',
});
if (result.error) fail(`could not run node-gyp (${result.error.message})`);
if (result.status !== 0) fail(`node-gyp rebuild ${args.join(' ')} exited with ${result.status}`);
