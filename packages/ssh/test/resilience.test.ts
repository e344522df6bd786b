import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPoolError, isSshError, type SshPool, type SshPoolOptions } from '@pool/ssh';
import { startSshServer, type SshTestServer } from '@pool/testkit/ssh';
import { recordEvents, rejection, sleep, waitFor, passwordPool } from './support.js';

let server: SshTestServer;
beforeEach(async () => { server = await startSshServer(); });
afterEach(async () => { await server.close(); });

function makePool(extra: Partial<SshPoolOptions> = {}): SshPool {
  return passwordPool(server, { createTimeoutMs: 2_000, ...extra });
}

describe('when the server goes away', () => {
  it('replaces a connection the server dropped while idle', async () => {
    const pool = makePool();
    const events = recordEvents(pool);
    try {
      await pool.exec('echo one');
      await server.stop();
      await server.start();
      await waitFor(() => events.some((event) => event.name === 'destroy'), 'the dropped connection to be destroyed');
      expect(events.find((event) => event.name === 'destroy')?.payload).toMatchObject({ reason: 'broken' });
      expect(await pool.exec('echo two')).toMatchObject({ stdout: 'two\n' });
      expect(pool.stats()).toMatchObject({ created: 2, destroyed: 1, total: 1 });
    } finally {
      await pool.close();
    }
  });

  it('survives a server restart mid-load: every exec settles, later ones succeed, nothing leaks', async () => {
    const pool = makePool({
      maxPerNode: 3,
      circuitBreaker: false,
      createRetry: { attempts: 8, baseDelayMs: 50, maxDelayMs: 200 },
    });
    const outcomes: ('ok' | string)[] = [];
    let restarted = false;
    const worker = async (id: number) => {
      for (let i = 0; i < 15; i++) {
        try {
          const result = await pool.exec(i % 3 === 0 ? 'sleep 0.05' : `echo ${id}-${i}`, { timeoutMs: 3_000 });
          outcomes.push(result.code === 0 ? 'ok' : `exit ${result.code}`);
        } catch (error) {
          outcomes.push(isSshError(error) || isPoolError(error) ? error.code : `unexpected ${String(error)}`);
        }
        if (id === 0 && i === 4 && !restarted) {
          restarted = true;
          await server.stop();
          await sleep(200);
          await server.start();
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 10 }, (_, id) => worker(id)));
      expect(restarted).toBe(true);
      expect(outcomes).toHaveLength(150);
      const failures = outcomes.filter((outcome) => outcome !== 'ok');
      // The restart hit commands in flight, and each failed with a connection-level error.
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) expect(['CONNECTION_LOST', 'CHANNEL_FAILED', 'CREATE_FAILED']).toContain(failure);
      expect(failures.length).toBeLessThan(60);
      // Load after the restart is served.
      expect(await pool.exec('echo after')).toMatchObject({ stdout: 'after\n' });
      expect(pool.stats().leases).toBe(0);
    } finally {
      await pool.drain({ timeoutMs: 5_000 });
    }
    const stats = pool.stats();
    expect(stats.created).toBe(stats.destroyed);
    expect(stats.total).toBe(0);
  });

  it('fails validation when keep-alives go unanswered', async () => {
    const pool = makePool({ keepaliveIntervalMs: 250, keepaliveCountMax: 8, validateOnAcquire: true, createTimeoutMs: 400 });
    const events = recordEvents(pool);
    try {
      await pool.exec('echo warm');
      // Answered keep-alives keep an idle connection valid well past two intervals.
      await sleep(900);
      expect(await pool.exec('echo still')).toMatchObject({ code: 0 });
      expect(pool.stats()).toMatchObject({ created: 1, validationFailures: 0 });
      server.freeze();
      await sleep(800);
      const error = await rejection(pool.exec('echo x', { acquireTimeoutMs: 1_500 }));
      expect(isPoolError(error)).toBe(true);
      expect(pool.stats().validationFailures).toBeGreaterThanOrEqual(1);
      expect(events.some((event) => event.name === 'destroy' && (event.payload as { reason: string }).reason === 'invalid')).toBe(true);
    } finally {
      server.thaw();
      await pool.close();
    }
  });

  it('retires an idle connection whose keep-alives time out, without any acquire', async () => {
    const pool = makePool({ keepaliveIntervalMs: 100, keepaliveCountMax: 2 });
    const events = recordEvents(pool);
    try {
      await pool.exec('echo warm');
      server.freeze();
      await waitFor(() => events.some((event) => event.name === 'destroy'), 'the silent connection to be destroyed', 3_000);
      expect(events.find((event) => event.name === 'destroy')?.payload).toMatchObject({ reason: 'broken' });
      expect(pool.stats().total).toBe(0);
    } finally {
      server.thaw();
      await pool.close();
    }
  });

  it('fails a connect that hangs in the handshake with CREATE_FAILED after createTimeoutMs', async () => {
    server.freeze();
    const pool = makePool({ createTimeoutMs: 300, createRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      const started = Date.now();
      const error = await rejection(pool.exec('echo x'));
      expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(pool.stats()).toMatchObject({ total: 0, leases: 0 });
    } finally {
      server.thaw();
      await pool.close();
    }
  });
});
