import { fileURLToPath } from 'node:url';
import { readmeExample, runNodeScript, substitute, type NodeScriptResult } from '@pool/testkit';

/** The package's directory: a script run from there imports the package (its built dist) by name. */
const packageDir = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildResult extends NodeScriptResult {
  /** stdout split into lines, without empty ones. */
  lines: string[];
}

/** Below vitest's 20 s test timeout, so a hung script shows its output instead of a bare timeout. */
const CHILD_TIMEOUT_MS = 15_000;

function withLines(result: NodeScriptResult): ChildResult {
  return { ...result, lines: result.stdout.split('\n').filter((line) => line !== '') };
}

/** Runs `test/plain/scripts/scenario.mjs <name>` as a plain `node` process. */
export async function runScenario(name: string, env: Record<string, string> = {}): Promise<ChildResult> {
  return withLines(await runNodeScript({ file: 'test/plain/scripts/scenario.mjs', cwd: packageDir, args: [name], env, timeoutMs: CHILD_TIMEOUT_MS }));
}

/** Runs the README's first example, its addresses swapped for the test's (each must occur), as a .mjs. */
export async function runReadmeExample(
  replacements: ReadonlyArray<readonly [string | RegExp, string]>,
  env: Record<string, string> = {},
): Promise<ChildResult> {
  const example = readmeExample(fileURLToPath(new URL('README.md', `file://${packageDir}`)), ['js']);
  const source = substitute(example.code, replacements);
  return withLines(await runNodeScript({ source, cwd: packageDir, env, timeoutMs: CHILD_TIMEOUT_MS }));
}

/** A clean run: exit code 0 (never 13, "unsettled top-level await") and nothing on stderr. */
export function cleanExit(result: ChildResult): { code: number | null; stderr: string } {
  return { code: result.code, stderr: result.stderr };
}
