import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeNodeScript, expectExitCode, readmeExample, runnableSource, runNodeScript } from '@pool/testkit';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

// A plain `node` process running the README's first example against the built package and the
// real SDK with its console exporter.
it('the README example runs as written, exports the pool metrics to the console, and exits by itself', async () => {
  const example = readmeExample(`${packageDir}README.md`);
  expect(example.code).toContain('observePool(pool)');
  const result = await runNodeScript({ source: await runnableSource(example), cwd: packageDir });
  expectExitCode(result);
  expect(result.stderr, describeNodeScript(result)).toBe('');
  for (const name of ['db.client.connection.count', 'db.client.connection.max', 'db.client.connection.wait_time', 'db.client.connection.use_time', 'db.client.connection.create_time']) {
    expect(result.stdout).toContain(`name: '${name}'`);
  }
  expect(result.stdout).toContain("'db.client.connection.pool.name': 'widgets'");
  expect(result.stdout).toContain("unit: 's'");
});
