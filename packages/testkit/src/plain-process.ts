import { fileURLToPath } from 'node:url';
import { describeNodeScript, runNodeScript, type NodeScriptResult } from './node-script.js';
import { readmeExample, substitute } from './readme.js';

export interface ChildResult extends NodeScriptResult {
  /** stdout split into lines, without empty ones. */
  lines: string[];
}

/** Below vitest's 20 s test timeout, so a hung script shows its output instead of a bare timeout. */
const CHILD_TIMEOUT_MS = 15_000;

function withLines(result: NodeScriptResult): ChildResult {
  return { ...result, lines: result.stdout.split('\n').filter((line) => line !== '') };
}

/**
 * A transport package's plain-process helpers, for the package at `packageDir` (a script run from
 * there imports the package, its built dist, by name): its `test/plain/scripts/scenario.mjs`
 * scenarios and its README's first example, each as a plain `node` process.
 */
export function plainProcessKit(packageDir: URL) {
  const cwd = fileURLToPath(packageDir);
  return {
    /** Runs `test/plain/scripts/scenario.mjs <name>` as a plain `node` process. */
    async runScenario(name: string, env: Record<string, string> = {}): Promise<ChildResult> {
      return withLines(await runNodeScript({ file: 'test/plain/scripts/scenario.mjs', cwd, args: [name], env, timeoutMs: CHILD_TIMEOUT_MS }));
    },
    /** Runs the README's first example, its addresses swapped for the test's (each must occur), as a .mjs. */
    async runReadmeExample(
      replacements: ReadonlyArray<readonly [string | RegExp, string]>,
      env: Record<string, string> = {},
    ): Promise<ChildResult> {
      const example = readmeExample(fileURLToPath(new URL('README.md', packageDir)), ['js']);
      const source = substitute(example.code, replacements);
      return withLines(await runNodeScript({ source, cwd, env, timeoutMs: CHILD_TIMEOUT_MS }));
    },
    /** A clean run: exit code 0 (never 13, "unsettled top-level await") and nothing on stderr. */
    cleanExit(result: ChildResult): { code: number | null; stderr: string } {
      return { code: result.code, stderr: result.stderr };
    },
    /** Throws, with the script's output, unless the run was clean (see `cleanExit`). */
    expectClean(result: ChildResult): void {
      if (result.code !== 0 || result.stderr !== '') {
        throw new Error(`expected a clean exit (code 0, empty stderr), got ${describeNodeScript(result)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
      }
    },
  };
}
