import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@pool/testkit/readme-example';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

// A plain `node` process running the README's first example against the built package and the
// real SDK with its console exporter.
it('the README example runs as written, exports the pool metrics to the console, and exits by itself', async () => {
  const run = await runReadmeExample(packageDir);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  for (const name of ['db.client.connection.count', 'db.client.connection.max', 'db.client.connection.wait_time', 'db.client.connection.use_time', 'db.client.connection.create_time']) {
    expect(run.stdout).toContain(`name: '${name}'`);
  }
  expect(run.stdout).toContain("'db.client.connection.pool.name': 'widgets'");
  expect(run.stdout).toContain("unit: 's'");
  expect(run.source).toContain('observePool(pool)');
});
