#!/usr/bin/env node
// Runs the pinned pnpm without corepack or a global install: `npx pnpm@<version>` reads the
// version from package.json's packageManager, so the two can never disagree.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const pinned = manifest.packageManager; // "pnpm@x.y.z"
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
// Ctrl-C reaches the whole process group: let the child (the demo) shut down and report its
// own exit status instead of dying here first.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => undefined);
const result = spawnSync(npx, ['--yes', pinned, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, COREPACK_ENABLE_STRICT: '0' },
});
process.exit(result.status ?? 1);
