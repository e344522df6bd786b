#!/usr/bin/env node
// The packed-tarball check (`npm test` runs it after the workspace tests): every published
// package under packages/* is packed as `pnpm publish` would, installed with npm into a fresh
// project with the OLDEST version of each peer range it declares (the workspace tests run the
// newest), then loaded with import and require, type-checked as a user's project would (public
// types, README examples), linted with publint and attw, and smoke-tested against local servers.
// Prints every failure and one closing line; exits 1 on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { manifestProblems } from './package-check/manifest.mjs';
import { checkedBlocks, installedNames, relativeLinks } from './package-check/readme.mjs';
import { selfTestProblems } from './package-check/self-test.mjs';
import { compareVersions, lowestOf, packAll, readJson, rootDir, workspacePackages } from './package-check/workspace.mjs';

const startedAt = Date.now();
const results = [];
const record = (name, problems) => results.push({ name, problems: [problems].flat().filter(Boolean) });
const phases = [];
let phaseStartedAt = Date.now();
const endPhase = (name) => {
  const now = Date.now();
  phases.push(`${name} ${((now - phaseStartedAt) / 1000).toFixed(1)} s`);
  phaseStartedAt = now;
};

// attw's one rule we do not follow: CJSResolvesToESM. require(esm) is how CommonJS loads these
// packages (engines.node >= 20.19, TypeScript >= 5.8 under module nodenext); this check loads
// every entry with require() and type-checks a .cts that requires them instead.
const ATTW_IGNORED_RULES = ['cjs-resolves-to-esm'];

function run(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 1, signal: null, output: `${output}${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), signal, output });
    });
  });
}

const rootManifest = readJson(join(rootDir, 'package.json'));
const all = workspacePackages();
const published = all.filter((pkg) => !pkg.isPrivate);
const privateNames = new Set(all.filter((pkg) => pkg.isPrivate).map((pkg) => pkg.name));
const ourNames = new Set(published.map((pkg) => pkg.name));
const workDir = mkdtempSync(join(tmpdir(), 'pool-package-check-'));
const keepWorkDir = process.env.PACKAGE_CHECK_KEEP === '1';

try {
  record("the check's own README and range parsers", selfTestProblems());
  // ---- pack and inspect each tarball ----
  const tarballs = packAll(published, join(workDir, 'tarballs'));
  endPhase('pack');
  const readmes = new Map();
  for (const pkg of published) {
    const extractDir = join(workDir, 'extracted', pkg.dir);
    mkdirSync(extractDir, { recursive: true });
    spawnSync('tar', ['-xzf', tarballs.get(pkg.name), '-C', extractDir]);
    const packageDir = join(extractDir, 'package');
    const { problems } = manifestProblems(pkg, packageDir, { privateNames, nodeEngines: rootManifest.engines.node });
    record(`${pkg.name}: manifest and files`, problems);
    const readme = existsSync(join(packageDir, 'README.md')) ? readFileSync(join(packageDir, 'README.md'), 'utf8') : '';
    readmes.set(pkg.name, readme);
    record(`${pkg.name}: README links work on the registry page`, relativeLinks(readme));
    const installs = installedNames(readme);
    const mustInstall = [pkg.name, ...Object.keys(pkg.manifest.peerDependencies ?? {})];
    record(`${pkg.name}: README install line names the package and its peers`,
      mustInstall.filter((name) => !installs.has(name)).map((name) => `npm install line lacks ${name}`));
  }

  // ---- publint and attw on the tarballs, while npm installs ----
  const linting = Promise.all(published.map(async (pkg) => {
    try {
      await lint(pkg);
    } catch (error) {
      record(`${pkg.name}: publint and attw ran`, [error instanceof Error ? error.stack : String(error)]);
    }
  }));
  async function lint(pkg) {
    const tarball = readFileSync(tarballs.get(pkg.name));
    const { messages, pkg: packed } = await publint({ pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) }, strict: true, level: 'warning' });
    record(`${pkg.name}: publint`, messages.filter((m) => m.type !== 'suggestion').map((m) => `${m.type}: ${formatMessage(m, packed)}`));
    const attw = await run(join(rootDir, 'node_modules/.bin/attw'), [tarballs.get(pkg.name), '--format', 'ascii', '--ignore-rules', ...ATTW_IGNORED_RULES], { cwd: workDir });
    record(`${pkg.name}: attw`, attw.code === 0 ? [] : [attw.output.trim()]);
  }

  // ---- a fresh project: the tarballs, the oldest peers, what each README installs ----
  const projectDir = join(workDir, 'project');
  mkdirSync(projectDir);
  const dependencies = { '@types/node': rootManifest.devDependencies['@types/node'] };
  for (const pkg of published) dependencies[pkg.name] = `file:${tarballs.get(pkg.name)}`;
  // The oldest version every package that names it accepts: the highest of the lower bounds.
  // Packages a README's install line names that are not ours nor peers, where the workspace's
  // version cannot live beside the oldest peers: the SDK line that supports @opentelemetry/api 1.9
  // (sdk-metrics 3 wants api >= 1.10).
  const COMPANIONS_OF_OLDEST_PEERS = { '@opentelemetry/sdk-metrics': '^2.0.0' };
  const oldest = {};
  const keepHighest = (name, range) => {
    const version = lowestOf(range);
    if (oldest[name] === undefined || compareVersions(version, oldest[name]) > 0) oldest[name] = version;
  };
  for (const pkg of published) {
    for (const [name, range] of Object.entries(pkg.manifest.peerDependencies ?? {})) keepHighest(name, range);
    for (const [name, range] of Object.entries(pkg.manifest.dependencies ?? {})) if (name.startsWith('@types/')) keepHighest(name, range);
  }
  Object.assign(dependencies, oldest);
  for (const pkg of published) {
    for (const name of installedNames(readmes.get(pkg.name))) {
      if (dependencies[name] !== undefined) continue;
      dependencies[name] = COMPANIONS_OF_OLDEST_PEERS[name] ?? all.map((other) => other.manifest.devDependencies?.[name]).find(Boolean) ?? 'latest';
    }
  }
  writeFileSync(join(projectDir, 'package.json'), JSON.stringify({ name: 'pool-package-check', private: true, type: 'module', dependencies }, null, 2));
  phaseStartedAt = Date.now();
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--prefer-offline', '--loglevel=error'], { cwd: projectDir });
  record(`npm install of the tarballs with the oldest peers (${Object.entries(oldest).map(([n, v]) => `${n}@${v}`).join(', ')})`, install.code === 0 ? [] : [install.output.trim()]);

  endPhase('npm install');
  if (install.code === 0) {
    record('the installed peers and types are the oldest of their ranges', Object.entries(oldest).flatMap(([name, version]) => {
      const installed = readJson(join(projectDir, 'node_modules', name, 'package.json')).version;
      return installed === version ? [] : [`${name} is ${installed}, not ${version}`];
    }));
    // ---- import and require every entry point ----
    const entries = published.flatMap((pkg) => Object.keys(pkg.manifest.exports ?? { '.': null })
      .filter((subpath) => subpath !== './package.json' && !subpath.includes('*'))
      .map((subpath) => pkg.name + subpath.slice(1)));
    copyFileSync(join(rootDir, 'scripts/package-check/runtime.mjs'), join(projectDir, 'runtime.mjs'));
    const runtime = await run(process.execPath, ['runtime.mjs', ...entries], { cwd: projectDir, timeoutMs: 30_000 });
    const line = runtime.output.trim().split('\n').at(-1) ?? '';
    if (runtime.code !== 0 || !line.startsWith('[')) record('import/require of every entry point', [runtime.output.trim()]);
    else for (const result of JSON.parse(line)) record(result.name, result.ok ? [] : [result.detail]);

    endPhase('import/require');
    // ---- types: every entry (ESM and CJS), every README block, both resolutions ----
    const typesDir = join(projectDir, 'types');
    mkdirSync(typesDir);
    const esmEntry = join(typesDir, 'entries.ts');
    writeFileSync(esmEntry, `${entries.map((entry, i) => `import * as entry${i} from '${entry}';`).join('\n')}\n` +
      `export type All = [${entries.map((_, i) => `typeof entry${i}`).join(', ')}];\n`);
    const cjsEntry = join(typesDir, 'entries.cts');
    writeFileSync(cjsEntry, `${entries.map((entry, i) => `import entry${i} = require('${entry}');`).join('\n')}\n` +
      `export type All = [${entries.map((_, i) => `typeof entry${i}`).join(', ')}];\n`);
    const blockFiles = new Map();
    for (const pkg of published) {
      for (const block of checkedBlocks(readmes.get(pkg.name))) {
        const file = join(typesDir, `readme-${pkg.dir}-${block.line}${block.extension}`);
        const prelude = block.prelude === '' ? [] : block.prelude.split('\n');
        writeFileSync(file, [...prelude, block.code, block.extension === '.cjs' ? '' : 'export {};', ''].join('\n'));
        blockFiles.set(file, { pkg, block, preludeLines: prelude.length });
      }
    }
    // node10 checks the entries only: README blocks are ES modules (top-level await).
    const typeChecks = ['nodenext', 'bundler', 'node10'].map(async (setting) => {
      const files = setting === 'node10' ? [esmEntry] : [esmEntry, ...(setting === 'nodenext' ? [cjsEntry] : []), ...blockFiles.keys()];
      const requestFile = join(typesDir, `${setting}.json`);
      writeFileSync(requestFile, JSON.stringify({ files, ...(setting === 'nodenext' ? { anyCheckFile: esmEntry } : {}) }));
      const child = await run(process.execPath, [join(rootDir, 'scripts/package-check/types-cli.mjs'), projectDir, setting, requestFile], { cwd: projectDir, timeoutMs: 120_000 });
      const line = child.output.trim().split('\n').at(-1) ?? '';
      if (child.code !== 0 || !line.startsWith('{')) {
        record(`types (${setting}) ran`, [child.output.trim()]);
        return;
      }
      const { errors, anyTyped } = JSON.parse(line);
      const byFile = new Map(files.map((file) => [file, []]));
      const elsewhere = [];
      for (const error of errors) {
        const file = files.find((candidate) => error.startsWith(`${candidate.slice(projectDir.length + 1)}:`));
        if (file === undefined) elsewhere.push(error);
        else byFile.get(file).push(error);
      }
      record(`types (${setting}): every public entry imported`, byFile.get(esmEntry));
      if (setting === 'nodenext') record('types (nodenext): every public entry required from a .cts', byFile.get(cjsEntry));
      record(`types (${setting}): declaration files of the install`, elsewhere);
      for (const [file, { pkg, block, preludeLines }] of setting === 'node10' ? [] : blockFiles) {
        const located = byFile.get(file).map((error) => error.replace(/^[^:]+:(\d+):(\d+)/, (_, line, column) =>
          `packages/${pkg.dir}/README.md:${block.line + Number(line) - 1 - preludeLines}:${column}`));
        record(`types (${setting}): ${pkg.name} README block at line ${block.line}`, located);
      }
      if (setting === 'nodenext') record('public types are not any', anyTyped.map((name) => `${name} is any`));
    });

    // ---- smoke scripts: each package's test/packed-smoke.mjs, against local servers ----
    for (const pkg of published) {
      const smoke = join(pkg.path, 'test/packed-smoke.mjs');
      if (!existsSync(smoke)) continue;
      copyFileSync(smoke, join(projectDir, `smoke-${pkg.dir}.mjs`));
      const result = await run(process.execPath, [`smoke-${pkg.dir}.mjs`], {
        cwd: projectDir,
        timeoutMs: 90_000,
        env: { ...process.env, POOL_TESTKIT_DIST: join(rootDir, 'packages/testkit/dist') },
      });
      const versions = Object.keys(pkg.manifest.peerDependencies ?? {}).map((name) => `${name}@${oldest[name]}`).join(', ');
      record(`${pkg.name}: smoke test with ${versions || 'no peers'}`, result.code === 0 ? [] : [`exit ${result.code}${result.signal ? ` (${result.signal})` : ''}\n${result.output.trim()}`]);
    }
    endPhase('smoke tests');
    await Promise.all(typeChecks);
    endPhase('types (beyond the smoke tests)');
  }
  await linting;
  endPhase('publint/attw (beyond the rest)');
} catch (error) {
  record('package check ran to the end', [error instanceof Error ? error.stack : String(error)]);
} finally {
  if (keepWorkDir) console.log(`package check: kept ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}

const failed = results.filter((result) => result.problems.length > 0);
for (const result of results) if (result.problems.length === 0) console.log(`✓ ${result.name}`);
for (const result of failed) {
  console.log(`✗ ${result.name}`);
  for (const problem of result.problems) console.log(`    ${problem.replaceAll('\n', '\n    ')}`);
}
const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
if (phases.length > 0) console.log(`package check phases: ${phases.join(', ')}`);
console.log(`package check: ${results.length - failed.length} passed, ${failed.length} failed (${published.length} packages, ${seconds} s)`);
process.exitCode = failed.length === 0 ? 0 : 1;
