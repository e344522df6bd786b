import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Asks the OS for a free TCP port on `host` (for servers that cannot listen on port 0 and tell:
 * PostgreSQL, PgBouncer, redis-server, sshd). Another process may take it before the server binds;
 * callers that can retry do.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Stops a server child still running: `signal`, then SIGKILL if it has not exited after
 * `killAfterMs`; resolves once `exited` (its 'exit', subscribed when it was spawned) has.
 */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  options: { signal?: NodeJS.Signals; killAfterMs?: number } = {},
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(options.signal ?? 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 3_000);
  await exited;
  clearTimeout(timer);
}
