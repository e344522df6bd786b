/**
 * Plain `node` processes with nothing else holding the event loop: the README's first example
 * (read from README.md, so the two cannot drift) and a script whose factory always fails. They
 * import `@pool/generic-pool` by name, which resolves to this package's build (run the build first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
// Inside the package, so the script's `@pool/generic-pool` resolves through the exports map.
const scriptDir = `${packageDir}.tmp/plain-process-${process.pid}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(script: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { cwd: scriptDir, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

async function writeScript(name: string, source: string): Promise<string> {
  const path = `${scriptDir}/${name}`;
  await writeFile(path, source);
  return path;
}

beforeAll(async () => {
  if (!existsSync(`${packageDir}dist/index.js`)) throw new Error('build @pool/generic-pool first (npm run build): the scripts import its dist');
  await mkdir(scriptDir, { recursive: true });
});

afterAll(async () => {
  await rm(scriptDir, { recursive: true, force: true });
});

test("the README's first example runs as a plain script and prints what the README says", async () => {
  const readme = await readFile(`${packageDir}README.md`, 'utf8');
  const example = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toContain("from '@pool/generic-pool'");
  const run = await runNode(await writeScript('readme-example.mjs', example!));
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe('connection 1 ran select 1\nconnection 2 ran select 2\ncreated 2, acquired 2\n');
  expect(run.code).toBe(0);
});

test('a script whose factory always fails prints the error and exits 0 (never 13: the pending acquire holds the process)', async () => {
  const script = `
import { createPool } from '@pool/generic-pool';

let tries = 0;
const pool = createPool(
  { create: async () => { tries++; throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); }, destroy: async () => {} },
  { max: 2, maxTries: 3, core: { createRetry: { baseDelayMs: 100, maxDelayMs: 200 } } },
);
pool.on('factoryCreateError', (error) => console.log('factoryCreateError: ' + error.message));
try {
  await pool.acquire();
  console.log('acquired?!');
} catch (error) {
  console.log('acquire rejected: ' + error.name + ': ' + error.message);
}
await pool.drain();
await pool.clear();
console.log('tries ' + tries + ', pending ' + pool.pending);
`;
  const run = await runNode(await writeScript('failing-factory.mjs', script));
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe(
    [
      'factoryCreateError: connect ECONNREFUSED 127.0.0.1:5432',
      'factoryCreateError: connect ECONNREFUSED 127.0.0.1:5432',
      'factoryCreateError: connect ECONNREFUSED 127.0.0.1:5432',
      'acquire rejected: ResourceCreationError: Failed to create resource: connect ECONNREFUSED 127.0.0.1:5432',
      'tries 3, pending 0',
      '',
    ].join('\n'),
  );
  expect(run.code).toBe(0);
});

test('a script that only awaits drain() exits by itself with min resources warm', async () => {
  const script = `
import { createPool } from '@pool/generic-pool';
const pool = createPool({ create: async () => ({}), destroy: async () => {} }, { min: 3, max: 5, evictionRunIntervalMillis: 1000 });
await pool.ready();
console.log('available ' + pool.available);
await pool.drain();
await pool.clear();
console.log('size ' + pool.size);
`;
  const run = await runNode(await writeScript('drain-exit.mjs', script));
  expect(run.stdout).toBe('available 3\nsize 0\n');
  expect(run.code).toBe(0);
});
