import type { PoolEventName } from '@pool/core';
import { promisify } from 'node:util';
import type { SFTPWrapper } from 'ssh2';
import { createSshPool, type SshPool, type SshPoolOptions } from '@pool/ssh';
import type { SshTestServer } from '@pool/testkit/ssh';

/** Message, stack, code and the whole cause chain of an error, as one string to search. */
export function errorText(error: unknown, depth = 0): string {
  if (depth > 5) return '';
  if (!(error instanceof Error)) {
    try { return JSON.stringify(error) ?? String(error); } catch { return String(error); }
  }
  const own = JSON.stringify(Object.fromEntries(Object.entries(error)), (_key, value: unknown) =>
    (value instanceof Error ? errorText(value, depth + 1) : value));
  return [error.name, error.message, error.stack ?? '', own, errorText(error.cause, depth + 1)].join('\n');
}

export { rejection } from '@pool/testkit/expect';

const EVENT_NAMES: PoolEventName[] = [
  'create', 'destroy', 'acquire', 'release', 'timeout', 'abort', 'leak', 'createError',
  'circuitOpen', 'circuitClose', 'nodeAdded', 'nodeRemoved', 'error',
];

/** Records every event of `pool` as `{ name, payload }`. */
export function recordEvents(pool: SshPool): { name: PoolEventName; payload: unknown }[] {
  const events: { name: PoolEventName; payload: unknown }[] = [];
  for (const name of EVENT_NAMES) pool.on(name, (payload: unknown) => events.push({ name, payload }));
  return events;
}

export function eventsText(events: { name: PoolEventName; payload: unknown }[]): string {
  return events.map(({ name, payload }) => `${name} ${errorText(payload)} ${
    typeof payload === 'object' && payload !== null
      ? Object.values(payload).map((value) => (value instanceof Error ? errorText(value) : '')).join(' ')
      : ''}`).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes (then throws `what`). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Promise versions of the few SFTPWrapper calls the tests use. */
export function sftpFiles(sftp: SFTPWrapper) {
  return {
    writeFile: promisify(sftp.writeFile.bind(sftp)) as (path: string, data: Buffer | string) => Promise<void>,
    readFile: promisify(sftp.readFile.bind(sftp)) as (path: string) => Promise<Buffer>,
    readdir: promisify(sftp.readdir.bind(sftp)) as (path: string) => Promise<{ filename: string }[]>,
    unlink: promisify(sftp.unlink.bind(sftp)) as (path: string) => Promise<void>,
  };
}

/** A password-authenticated pool on the in-process ssh2 server, its host key pinned. */
export function passwordPool(server: SshTestServer, extra: Partial<SshPoolOptions> = {}): SshPool {
  return createSshPool({
    nodes: [{ id: 'a', host: server.host, port: server.port, hostKeys: [server.hostKey.fingerprint] }],
    username: server.username,
    password: server.password,
    knownHostsFile: false,
    createTimeoutMs: 5_000,
    acquireTimeoutMs: 5_000,
    ...extra,
  });
}
