#!/usr/bin/env node
// Writes the publishing fields every published package shares (idempotent): repository with
// directory, homepage, bugs, license, engines equal to the root's, exports that require() can
// load (an `import`-only condition becomes `default`), typesVersions for subpath exports (so
// TypeScript's moduleResolution node10 finds their types), files ["dist"], and the root LICENSE.
// Keywords and descriptions stay yours: the packed-tarball check only demands that they exist.
// `node scripts/sync-package-metadata.mjs` after adding a package; then `node scripts/check-packages.mjs`.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, rootDir, workspacePackages } from './package-check/workspace.mjs';

const REPOSITORY = 'https://github.com/pool-family/pool';
const rootManifest = readJson(join(rootDir, 'package.json'));

for (const pkg of workspacePackages().filter((candidate) => !candidate.isPrivate)) {
  const manifest = { ...pkg.manifest };
  const exportsMap = manifest.exports ?? {};
  const typesVersions = {};
  for (const [subpath, target] of Object.entries(exportsMap)) {
    if (target === null || typeof target !== 'object') continue;
    if (target.import !== undefined && target.default === undefined && target.require === undefined) {
      exportsMap[subpath] = Object.fromEntries(Object.entries(target).map(([condition, file]) => [condition === 'import' ? 'default' : condition, file]));
    }
    const types = exportsMap[subpath].types;
    if (subpath !== '.' && !subpath.includes('*') && typeof types === 'string') typesVersions[subpath.slice(2)] = [types];
  }
  const fields = {
    homepage: `${REPOSITORY}/tree/main/packages/${pkg.dir}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
    repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: `packages/${pkg.dir}` },
    license: manifest.license ?? 'MIT',
    engines: { ...manifest.engines, node: rootManifest.engines.node },
    files: ['dist'],
    ...(manifest.exports === undefined ? {} : { exports: exportsMap }),
    ...(Object.keys(typesVersions).length === 0 ? {} : { typesVersions: { '*': typesVersions } }),
  };
  // Fields the manifest has keep their place; missing ones go after the description.
  const missing = Object.keys(fields).filter((key) => !(key in manifest));
  const ordered = {};
  for (const [key, value] of Object.entries(manifest)) {
    ordered[key] = key in fields ? fields[key] : value;
    if (key === 'description') for (const name of missing) ordered[name] = fields[name];
  }
  for (const name of missing) ordered[name] = fields[name];
  writeFileSync(join(pkg.path, 'package.json'), `${JSON.stringify(ordered, null, 2)}\n`);
  copyFileSync(join(rootDir, 'LICENSE'), join(pkg.path, 'LICENSE'));
  console.log(`${pkg.name}: publishing fields written${manifest.keywords === undefined ? ' (add keywords)' : ''}`);
}
