import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createPool } from '@pool/core';
import { flushPromises, trackingFactory } from '@pool/testkit';

const distEntry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** A child process holding real sockets in a pool; it must exit on its own once drain() resolves. */
const childScript = `
import net from 'node:net';
const { createPool } = await import(${JSON.stringify(distEntry)});
const server = net.createServer((socket) => socket.on('error', () => {}));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const pool = createPool({
  minIdlePerNode: 2,
  maxPerNode: 4,
  healthCheckIntervalMs: 50,
  leakDetectionMs: 10_000,
  factory: {
    create: () => new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', reject);
    }),
    destroy: (socket) => new Promise((resolve) => { socket.once('close', resolve); socket.destroy(); }),
    validate: (socket) => !socket.destroyed,
  },
});
const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
const waiter = pool.acquire({ timeoutMs: 60_000 });
await leases[0].release();
await (await waiter).release();
setTimeout(() => { leases[1].release(); leases[2].release(); }, 20);
await pool.drain();
const stats = pool.stats();
server.close();
console.log(JSON.stringify({ created: stats.created, destroyed: stats.destroyed, total: stats.total }));
`;

describe('drain and close', () => {
  it('leaves nothing that keeps the process alive once drain() resolves', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', childScript], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (exitCode) => { clearTimeout(killer); resolve(exitCode); });
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const stats = JSON.parse(stdout.trim()) as { created: number; destroyed: number; total: number };
    expect(stats.created).toBeGreaterThanOrEqual(3);
    expect(stats.destroyed).toBe(stats.created);
    expect(stats.total).toBe(0);
  });

  it('drain waits for leases; with a timeout it then closes them by force', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory });
    const lease = await pool.acquire();
    let isDrained = false;
    const draining = pool.drain().then(() => { isDrained = true; });
    await flushPromises();
    expect(isDrained).toBe(false);
    await lease.release();
    await draining;
    expect(factory.live.size).toBe(0);

    const other = createPool({ factory: trackingFactory() });
    const held = await other.acquire();
    await other.drain({ timeoutMs: 5 });
    expect(other.stats()).toMatchObject({ total: 0 });
    expect(other.stats().created).toBe(other.stats().destroyed);
    await held.release(); // harmless after a forced close
  });

  it('close() destroys everything at once, aborting creates in flight', async () => {
    const factory = trackingFactory({ createDelayMs: 10_000 });
    const pool = createPool({ factory });
    const lease = pool.acquire().catch((error: unknown) => error);
    await flushPromises();
    expect(pool.stats().creating).toBe(1);
    await pool.close();
    expect(await lease).toMatchObject({ code: 'POOL_CLOSED' });
    expect(pool.stats()).toMatchObject({ total: 0, createFailures: 0 });
    expect(await pool.drain()).toBeUndefined(); // idempotent
  });
});
