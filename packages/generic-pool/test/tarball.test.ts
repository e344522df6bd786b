/**
 * The packed tarballs, as a user installs them: `pnpm pack` of @pool/core and this package
 * (workspace:^ becomes a version range), unpacked into a node_modules of their own, and the
 * README example run against them by a plain `node` process. Needs both packages built.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = fileURLToPath(new URL('../../../', import.meta.url));
const workDir = `${packageDir}.tmp/tarball-${process.pid}`;

async function packInto(dir: string, name: string, target: string): Promise<string> {
  if (!existsSync(`${dir}dist/index.js`)) throw new Error(`build ${name} first: the tarball ships its dist`);
  const packs = `${workDir}/packs/${name.replace('/', '-')}`;
  await mkdir(packs, { recursive: true });
  await run(process.execPath, [`${repoDir}scripts/pnpm.mjs`, 'pack', '--pack-destination', packs], { cwd: dir, timeout: 60_000 });
  const [tarball] = (await readdir(packs)).filter((file) => file.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${name}`);
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', `${packs}/${tarball}`, '-C', target, '--strip-components=1']);
  return target;
}

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

test('the packed package installs beside packed @pool/core and runs the README example', async () => {
  const modules = `${workDir}/app/node_modules/@pool`;
  await packInto(`${repoDir}packages/core/`, '@pool/core', `${modules}/core`);
  const installed = await packInto(packageDir, '@pool/generic-pool', `${modules}/generic-pool`);
  const manifest = JSON.parse(await readFile(`${installed}/package.json`, 'utf8')) as { dependencies: Record<string, string>; files?: string[] };
  expect(manifest.dependencies['@pool/core']).toMatch(/^\^\d+\.\d+\.\d+$/);
  expect(existsSync(`${installed}/dist/index.d.ts`)).toBe(true);
  expect(existsSync(`${installed}/test`)).toBe(false);

  const readme = await readFile(`${packageDir}README.md`, 'utf8');
  const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  await writeFile(`${workDir}/app/example.mjs`, example!);
  const { stdout, stderr } = await run(process.execPath, ['example.mjs'], { cwd: `${workDir}/app`, timeout: 30_000 });
  expect(stderr).toBe('');
  expect(stdout).toBe('connection 1 ran select 1\nconnection 2 ran select 2\ncreated 2, acquired 2\n');
}, 120_000);
