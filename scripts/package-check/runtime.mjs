// Run inside the temp project (`node runtime.mjs <entry>...`): every entry point loads with
// import() and with require(), both give the one module instance (no dual-package hazard), and
// PoolError is recognised across a second copy of @pool/core. Prints one JSON line of results.
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(join(process.cwd(), 'package.json'));
const results = [];
const record = (name, check) => {
  try {
    const detail = check();
    results.push({ name, ok: true, detail });
  } catch (error) {
    results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
  }
};

for (const entry of process.argv.slice(2)) {
  const imported = await import(entry).catch((error) => error);
  record(`import ${entry}`, () => {
    if (imported instanceof Error) throw imported;
    const names = Object.keys(imported);
    if (names.length === 0) throw new Error('exports nothing');
    return `${names.length} exports`;
  });
  record(`require ${entry}`, () => {
    const required = require(entry);
    if (required === imported) return 'same instance as import()';
    // A module with a default export comes back from require(esm) as a copy of its namespace
    // marked __esModule (Node's interop with transpiled CommonJS); its values must still be the
    // very ones import() gives: one module instance, not a second copy.
    const differing = Object.keys(imported).filter((name) => required[name] !== imported[name]);
    if (!('default' in imported) || differing.length > 0 || required.__esModule !== true) {
      throw new Error(`require() gave another module instance than import()${differing.length > 0 ? ` (${differing.join(', ')} differ)` : ''}`);
    }
    return 'same exports as import() (namespace with __esModule, as for any default export)';
  });
}

if (process.argv.includes('@pool/core')) {
  const core = await import('@pool/core');
  record('one @pool/core in the install', () => {
    const corePath = require.resolve('@pool/core');
    for (const entry of process.argv.slice(2)) {
      const fromEntry = createRequire(require.resolve(entry)).resolve('@pool/core');
      if (fromEntry !== corePath) throw new Error(`${entry} resolves @pool/core to ${fromEntry}, not ${corePath}`);
    }
    return corePath;
  });
  // A second copy, as a nested node_modules/@pool/core under an older transport would be.
  const copyDir = join(process.cwd(), 'core-copy');
  cpSync(join(require.resolve('@pool/core'), '..', '..'), copyDir, { recursive: true });
  const other = await import(pathToFileURL(join(copyDir, 'dist/index.js')).href);
  rmSync(copyDir, { recursive: true, force: true });
  record('isPoolError across two copies of @pool/core', () => {
    if (other.PoolError === core.PoolError) throw new Error('the copy is not a second instance');
    const foreign = new other.PoolError('ACQUIRE_TIMEOUT', 'from the other copy');
    if (!core.isPoolError(foreign, 'ACQUIRE_TIMEOUT')) throw new Error('isPoolError misses the other copy');
    if (!(foreign instanceof core.PoolError)) throw new Error('instanceof PoolError misses the other copy');
    return 'isPoolError and instanceof';
  });
}

process.stdout.write(`${JSON.stringify(results)}\n`);
