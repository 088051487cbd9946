import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import sibling packages from their sources, so `pnpm test` needs no build first.
const src = (pkg: string, file = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@weave-ts\/core\/protocol$/, replacement: src('core', 'protocol/index.ts') },
      { find: /^@weave-ts\/core\/testing$/, replacement: src('core', 'testing/index.ts') },
      {
        find: /^@weave-ts\/core\/testing\/compliance$/,
        replacement: src('core', 'testing/compliance/index.ts'),
      },
      {
        find: /^@weave-ts\/(core|ipam|dns|host|datapath-sleeve|datapath-fastdp|peer|weaver|cli)$/,
        replacement: src('$1'),
      },
    ],
  },
  test: {
    reporters: ['default', './vitest.summary.ts'],
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
