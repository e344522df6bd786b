// The published packages of the workspace and their packed tarballs.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const rootDir = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Every package under packages/* with its manifest; `isPrivate` ones are never published. */
export function workspacePackages() {
  const packagesDir = join(rootDir, 'packages');
  return readdirSync(packagesDir)
    .filter((dir) => existsSync(join(packagesDir, dir, 'package.json')))
    .map((dir) => {
      const manifest = readJson(join(packagesDir, dir, 'package.json'));
      return { dir, path: join(packagesDir, dir), name: manifest.name, manifest, isPrivate: manifest.private === true };
    });
}

/** Packs every published package with the pinned pnpm (workspace: ranges rewritten, beforePacking applied). */
export function packAll(packages, destination) {
  const filters = packages.flatMap((pkg) => ['--filter', `./packages/${pkg.dir}`]);
  const result = spawnSync(process.execPath, [join(rootDir, 'scripts/pnpm.mjs'), '-r', ...filters, 'pack', '--pack-destination', destination], {
    cwd: rootDir,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`pnpm pack failed:\n${result.stdout}\n${result.stderr}`);
  const tarballs = new Map();
  for (const pkg of packages) {
    const file = join(destination, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.manifest.version}.tgz`);
    if (!existsSync(file)) throw new Error(`pnpm pack wrote no ${file}`);
    tarballs.set(pkg.name, file);
  }
  return tarballs;
}

/**
 * The lowest version a range admits, for the forms manifests use: ^x.y.z, ~x.y.z, >=x.y.z,
 * x.y.z, a partial x or x.y (padded with zeros), an upper bound after it, or alternatives
 * joined by || (the lowest of the first).
 */
export function lowestOf(range) {
  const first = range.split('||')[0].trim();
  const match = /^(?:\^|~|>=)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\s|$)/.exec(first);
  if (match === null) throw new Error(`cannot tell the lowest version of range "${range}" (use ^x.y.z or >=x.y.z)`);
  return `${match[1]}.${match[2] ?? 0}.${match[3] ?? 0}`;
}

/** Orders two x.y.z versions: negative, zero or positive. */
export function compareVersions(a, b) {
  const [left, right] = [a, b].map((version) => version.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (left[i] !== right[i]) return left[i] - right[i];
  return 0;
}
