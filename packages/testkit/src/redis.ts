import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, stopChild } from './processes.js';

/** Debian's `redis-server` package (scripts/system-deps.mjs installs it for `npm test`). */
const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `redis://127.0.0.1:port`. */
  readonly url: string;
  /** The server's output so far. */
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a real redis-server on 127.0.0.1 on a free port, in memory only (`--save ''
 * --appendonly no`), for tests of @pool/fleet. Throws (never skips) when it cannot start.
 */
export async function startRedisServer(options: { startTimeoutMs?: number } = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`redis-server is not installed (${REDIS_SERVER}); \`npm test\` installs it (Debian: apt-get install redis-server)`);
  }
  let lastLog = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const lines: string[] = [];
    const child: ChildProcess = spawn(REDIS_SERVER, [
      '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no',
      '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'notice',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk));
    child.once('error', (error) => lines.push(String(error)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    while (!lines.join('').includes('Ready to accept connections')) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!lines.join('').includes('Ready to accept connections')) {
      child.kill('SIGKILL');
      lastLog = lines.join('');
      continue; // the port may have been taken between the probe and the bind
    }
    let stopped = false;
    return {
      host: '127.0.0.1',
      port,
      url: `redis://127.0.0.1:${port}`,
      log: () => lines.join(''),
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopChild(child, exited);
      },
    };
  }
  throw new Error(`redis-server did not start. Its log:\n${lastLog}`);
}

