import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runReadmeExample } from '@pool/testkit/readme-example';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

// A plain `node` process running the README's first example against the built package.
it('the README example runs as written, prints what the README says, and exits by itself', async () => {
  const run = await runReadmeExample(packageDir);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  // The output the README promises, read from it: the plain block after "prints".
  const promised = /\nprints\n\n```\n([\s\S]*?)```/.exec(readFileSync(`${packageDir}/README.md`, 'utf8'))?.[1];
  expect(promised).toContain('db_client_connection_count{pool_name="widgets",state="idle"} 1');
  expect(run.stdout).toBe(promised);
  expect(run.source).toContain("registerPoolMetrics(pool)");
});
