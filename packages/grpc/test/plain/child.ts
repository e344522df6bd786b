import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package's directory: a script run from there imports the package by its own name. */
export const packageDir = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout split into lines, without the empty last one. */
  lines: string[];
}

export interface ChildOptions {
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
  /** Arguments after the script. */
  args?: string[];
  /** Called for every stdout line as it arrives, with a way to write to the child's stdin. */
  onLine?: (line: string, write: (text: string) => void) => void | Promise<void>;
  /** Killed (SIGKILL) after this long; default 15_000 ms (below vitest's test timeout, so the output shows). */
  timeoutMs?: number;
}

/**
 * Runs ES module source as a plain `node` process, nothing else holding its event loop, from the
 * package directory, and collects its exit code and output. The user's view of a script.
 */
export function runModule(source: string, options: ChildOptions = {}): Promise<ChildResult> {
  return run(['--input-type=module', '--eval', source, '--', ...(options.args ?? [])], options);
}

/** Runs a script file (path relative to the package directory) as a plain `node` process. */
export function runScript(file: string, options: ChildOptions = {}): Promise<ChildResult> {
  return run([file, ...(options.args ?? [])], options);
}

function run(argv: string[], options: ChildOptions): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd: packageDir,
      env: { ...process.env, NODE_OPTIONS: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const write = (text: string) => {
      child.stdin.write(text);
    };
    child.stdin.on('error', () => {});
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        Promise.resolve(options.onLine?.(line, write)).catch((error: unknown) => {
          child.kill('SIGKILL');
          reject(error);
        });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, lines: stdout.split('\n').filter((line) => line !== '') });
    });
  });
}

/**
 * The first ```js block of the package README: the example a user pastes into a .mjs file.
 * Each `[from, to]` replacement must match (an example that changed fails the test, not skips it).
 */
export function readmeFirstExample(replacements: [string | RegExp, string][] = []): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const match = /```js\n([\s\S]*?)```/.exec(readme);
  if (match?.[1] === undefined) throw new Error('README.md has no ```js block');
  let source = match[1];
  for (const [from, to] of replacements) {
    const next = source.replace(from, to);
    if (next === source) throw new Error(`README example no longer contains ${String(from)}`);
    source = next;
  }
  return source;
}
