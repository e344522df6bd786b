import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeNodeScript, expectExitCode, readmeExample, runnableSource, runNodeScript } from '@pool/testkit';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = `${packageDir}README.md`;

// A plain `node` process running the README's first example against the built package.
it('the README example runs as written, prints what the README says, and exits by itself', async () => {
  const example = readmeExample(readme);
  expect(example.code).toContain('registerPoolMetrics(pool)');
  const result = await runNodeScript({ source: await runnableSource(example), cwd: packageDir });
  expectExitCode(result);
  expect(result.stderr, describeNodeScript(result)).toBe('');
  // The output the README promises, read from it: the plain block after "prints".
  const promised = /\nprints\n\n```\n([\s\S]*?)```/.exec(readFileSync(readme, 'utf8'))?.[1];
  expect(promised).toContain('db_client_connection_count{pool_name="widgets",state="idle"} 1');
  expect(result.stdout).toBe(promised);
});
