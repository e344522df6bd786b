import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** What `runNodeScript` runs: inline `source` (written to a temporary module inside `cwd`) or an existing `file`. */
export interface NodeScriptOptions {
  /** Module text to run. It is written to a temporary `.mjs` (or `extension`) file inside `cwd`, so bare imports resolve as from `cwd`. */
  source?: string;
  /** A script file to run instead of `source`; resolved against `cwd`. */
  file?: string;
  /** Working directory of the child, and where `source` is written; default `process.cwd()`. Run from inside a package so `@pool/*` resolves to the workspace's built `dist`. */
  cwd?: string;
  /**
   * Environment added to the parent's (NODE_OPTIONS removed, so no test-runner loader or flag
   * reaches the child). A value of `undefined` removes that variable.
   */
  env?: Record<string, string | undefined>;
  /** The child is killed (SIGKILL) after this long and the result says `timedOut`; default 20_000 ms. */
  timeoutMs?: number;
  /** Arguments after the script path (`process.argv.slice(2)` in the child). */
  args?: string[];
  /** Flags for node itself, before the script path (e.g. `['--expose-gc']`). */
  nodeArgs?: string[];
  /** File extension for `source`; default `.mjs` (an ES module). */
  extension?: '.mjs' | '.cjs' | '.js';
}

/** How the child ended. */
export interface NodeScriptResult {
  /** Exit code, or null when a signal ended it. 13 = unsettled top-level await. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, ms. */
  durationMs: number;
  /** True when `timeoutMs` passed and the child was killed. */
  timedOut: boolean;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Runs a script in a child `node` process, nothing but the script holding its event loop (no
 * test runner), and resolves with its exit code and output. Never rejects for the script's own
 * failure; a spawn failure rejects.
 */
export async function runNodeScript(options: NodeScriptOptions): Promise<NodeScriptResult> {
  if ((options.source === undefined) === (options.file === undefined)) throw new Error('runNodeScript: give exactly one of source or file');
  const cwd = resolve(options.cwd ?? process.cwd());
  let tempDir: string | undefined;
  let scriptPath: string;
  if (options.source !== undefined) {
    // A dot folder inside cwd (not os.tmpdir, not node_modules): bare imports resolve from cwd
    // and a package can import itself by name.
    tempDir = await mkdtemp(join(cwd, '.tmp-node-script-'));
    scriptPath = join(tempDir, `script${options.extension ?? '.mjs'}`);
    await writeFile(scriptPath, options.source);
  } else {
    scriptPath = resolve(cwd, options.file!);
  }
  try {
    return await spawnNode(scriptPath, cwd, options);
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function spawnNode(scriptPath: string, cwd: string, options: NodeScriptOptions): Promise<NodeScriptResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), scriptPath, ...(options.args ?? [])], {
      cwd,
      env: childEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, durationMs: performance.now() - started, timedOut });
    });
  });
}

/** A one-paragraph account of a result, for assertion messages. */
export function describeNodeScript(result: NodeScriptResult): string {
  const end = result.timedOut ? 'killed after timeout' : result.signal ? `signal ${result.signal}` : `exit ${result.code}`;
  return `${end} after ${Math.round(result.durationMs)} ms\n--- stdout ---\n${result.stdout}--- stderr ---\n${result.stderr}`;
}

/**
 * Throws (with the script's output) unless it exited with `code` (default 0) on its own,
 * neither killed nor timed out.
 */
export function expectExitCode(result: NodeScriptResult, code = 0): void {
  if (result.timedOut || result.signal !== null || result.code !== code) {
    throw new Error(`expected the script to exit ${code}, got ${describeNodeScript(result)}`);
  }
}
