import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { refusedPort } from './compat-helpers.js';
import { connectionOf, startPostgresForFile } from './helpers.js';

// Plain-process tests: each script runs as its own `node` process, nothing else holding its event
// loop, so what keeps the process alive (or lets it exit) is what a user's script would see.
const postgres = startPostgresForFile();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

async function runScript(name: string, env: Record<string, string> = {}): Promise<Run> {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script],
      { env: { ...process.env, POOL_TEST_PG: JSON.stringify(connectionOf(postgres.server)), ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error && typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : error ? null : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

describe('the facade in a plain node process', () => {
  it("a throwing connect/query callback is an uncaught exception in the caller's code, not an unhandled rejection", async () => {
    const run = await runScript('compat-throwing-callbacks.mjs', { POOL_TEST_REFUSED_PORT: String(await refusedPort()) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      done: ['connect', 'query', 'refused'],
      seen: ['uncaught boom in connect callback', 'uncaught boom in failed connect callback', 'uncaught boom in query callback'],
      two: 2,
    });
  });

  it('throwing listeners never leak a backend: end() closes all and the process exits by itself', async () => {
    const run = await runScript('compat-throwing-listeners.mjs');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { backends: number; releaseThrew: boolean; total: number; uncaught: string[] };
    expect(result.backends).toBe(0);
    expect(result.total).toBe(0);
    expect(result.releaseThrew).toBe(true);
    expect(result.uncaught).toEqual(expect.arrayContaining(['remove listener threw', 'connect listener threw', 'acquire listener threw']));
  });

  it('idle clients keep the process alive until the idle timeout closes them (pg-pool default)', async () => {
    const run = await runScript('compat-exit-on-idle.mjs');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('completed first\ncompleted second\nremoved\n');
  });

  it('allowExitOnIdle: the process exits once nothing is pending, while a pending query still holds it', async () => {
    const run = await runScript('compat-exit-on-idle.mjs', { ALLOW_EXIT_ON_IDLE: '1' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('completed first\ncompleted second\n');
  });
});
