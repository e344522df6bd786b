import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReadmeExampleRun {
  /** The example as run: the first ```js block of the README. */
  source: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** The first fenced ```js (or ```mjs) block of a README. */
export function firstJsBlock(readme: string): string {
  const match = /```(?:js|mjs|javascript)\n([\s\S]*?)```/.exec(readme);
  if (match === null) throw new Error('the README has no ```js block');
  return match[1] ?? '';
}

/**
 * Runs the first ```js block of `packageDir`/README.md as a plain child `node` process, with
 * nothing else holding its event loop: written next to the package (so its imports resolve as
 * a user's would, against the built dist and the package's dependencies), run, then deleted.
 * Killed after `timeoutMs` (default 15 s) so a hang fails the test instead of stalling it.
 */
export async function runReadmeExample(packageDir: string, options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ReadmeExampleRun> {
  const source = firstJsBlock(readFileSync(join(packageDir, 'README.md'), 'utf8'));
  const file = join(packageDir, `.readme-example-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(file, source);
  const started = Date.now();
  try {
    const child = spawn(process.execPath, [file], { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
      child.on('exit', (exitCode, exitSignal) => {
        clearTimeout(killer);
        resolve([exitCode, exitSignal]);
      });
    });
    return { source, code, signal, stdout, stderr, durationMs: Date.now() - started };
  } finally {
    rmSync(file, { force: true });
  }
}
