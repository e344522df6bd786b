import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));

/** Tests run against the workspace packages' sources, so no build is needed between edits. */
export const workspaceAliases = [
  { find: /^@pool\/testkit\/(.+)$/, replacement: `${packagesDir}testkit/src/$1.ts` },
  { find: /^@pool\/pg\/compat$/, replacement: `${packagesDir}pg/src/compat.ts` },
  { find: /^@pool\/(core|testkit|tcp|http2|grpc|ssh|pg|otel|prometheus)$/, replacement: `${packagesDir}$1/src/index.ts` },
];

export function packageTestConfig(options: { testTimeout?: number; hookTimeout?: number } = {}) {
  return defineConfig({
    resolve: { alias: workspaceAliases },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: options.testTimeout ?? 20_000,
      hookTimeout: options.hookTimeout ?? 60_000,
      pool: 'forks',
    },
  });
}
