import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { codeBlocks, expectExitCode, firstExample, readmeExample, runNodeScript, runnableSource, substitute } from '@pool/testkit';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('runNodeScript', () => {
  it('reports exit code, stdout and stderr of a module script, and removes its temporary file', async () => {
    const result = await runNodeScript({
      cwd: packageDir,
      source: "console.log('out', process.argv.slice(2).join(','), process.env.EXTRA);\nconsole.error('err');\nprocess.exitCode = 3;\n",
      args: ['a', 'b'],
      env: { EXTRA: 'yes' },
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({ code: 3, signal: null, stdout: 'out a,b yes\n', stderr: 'err\n', timedOut: false });
    expect(result.durationMs).toBeGreaterThan(0);
    expect((await readdir(packageDir)).filter((name) => name.startsWith('.tmp-node-script-'))).toEqual([]);
    expect(() => expectExitCode(result, 0)).toThrow(/expected the script to exit 0, got exit 3[\s\S]*out a,b yes/);
    expect(() => expectExitCode(result, 3)).not.toThrow();
  });

  it('exits 13 on an unsettled top-level await: nothing of the test runner holds the child loop', async () => {
    const result = await runNodeScript({ cwd: packageDir, source: 'await new Promise(() => {});\nconsole.log("never");\n', timeoutMs: 10_000 });
    expect(result.code).toBe(13);
    expect(result.stdout).toBe('');
  });

  it('resolves the workspace packages from cwd (the built dist)', async () => {
    const result = await runNodeScript({
      cwd: packageDir,
      source: "import { createPool } from '@pool/core';\nconsole.log(typeof createPool);\n",
      timeoutMs: 10_000,
    });
    expectExitCode(result);
    expect(result.stdout).toBe('function\n');
  });

  it('kills a script that outlives timeoutMs and says so', async () => {
    const result = await runNodeScript({ cwd: packageDir, source: 'setInterval(() => {}, 1000);\n', timeoutMs: 300 });
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL', code: null });
    expect(() => expectExitCode(result)).toThrow(/killed after timeout/);
  });

  it('refuses neither or both of source and file', async () => {
    await expect(runNodeScript({})).rejects.toThrow(/exactly one of source or file/);
    await expect(runNodeScript({ source: '', file: 'x.mjs' })).rejects.toThrow(/exactly one/);
  });
});

describe('README examples', () => {
  const markdown = [
    '# pkg',
    '',
    '```sh',
    'npm i pkg',
    '```',
    '',
    '```js',
    "const port = 5432;",
    "connect('localhost', port);",
    '```',
    '',
    '~~~ts',
    'let x: number = 1;',
    '~~~',
  ].join('\n');

  it('finds every fenced block with its language and line, and the first js/ts one', () => {
    expect(codeBlocks(markdown).map((block) => [block.lang, block.line])).toEqual([['sh', 3], ['js', 7], ['ts', 12]]);
    expect(firstExample(markdown)).toEqual({ lang: 'js', line: 7, code: "const port = 5432;\nconnect('localhost', port);\n" });
    expect(firstExample(markdown, ['ts']).code).toBe('let x: number = 1;\n');
    expect(() => firstExample('# none\n', ['js'])).toThrow(/no fenced js code block/);
  });

  it('reads a README file', () => {
    expect(() => readmeExample(`${packageDir}/missing-README.md`)).toThrow(/missing-README/);
  });

  it('substitutes values and refuses a substitution that matches nothing', () => {
    const { code } = firstExample(markdown);
    expect(substitute(code, { '5432': '6000', localhost: '127.0.0.1' })).toBe("const port = 6000;\nconnect('127.0.0.1', port);\n");
    expect(substitute(code, [[/port = \d+/, 'port = 1']])).toContain('port = 1;');
    expect(() => substitute(code, { '6379': '1' })).toThrow(/6379 does not occur/);
    expect(() => substitute(code, [[/nothing/g, '1']])).toThrow(/does not occur/);
  });
});

describe('runnableSource', () => {
  it('strips the types of a ts block so node runs it, and leaves a js block alone', async () => {
    const ts = { lang: 'ts', line: 1, code: "import type { Pool } from '@pool/core';\nconst n: number = 2;\nconst pool: Pool<unknown> | undefined = undefined;\nconsole.log(n * 21, pool);\n" };
    const source = await runnableSource(ts);
    expect(source).not.toContain(': number');
    const result = await runNodeScript({ cwd: packageDir, source, timeoutMs: 10_000 });
    expectExitCode(result);
    expect(result.stdout).toBe('42 undefined\n');
    const js = { lang: 'js', line: 1, code: 'console.log(1);\n' };
    expect(await runnableSource(js)).toBe(js.code);
  });
});
