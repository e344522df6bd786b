import { describe, expect, it } from 'vitest';
import { isPoolError } from '@pool/core';
import { createTcpPool, type TcpPoolOptions } from '@pool/tcp';
import { echoRoundTrip, startTcpEchoServer } from '@pool/testkit/tcp';
import { cleanUpAfterEach, waitFor } from './helpers.js';

const afterTest = cleanUpAfterEach();

/** An echo server and a pool of `callers` sockets on it, both cleaned up after the test. */
async function setUp(callers: number, options: Partial<TcpPoolOptions>) {
  const server = afterTest.stop(await startTcpEchoServer());
  const pool = afterTest.close(createTcpPool({
    nodes: [{ id: 'echo', host: server.host, port: server.port }],
    maxPerNode: callers,
    ...options,
  }));
  return { server, pool };
}

/** Runs `callers` loops of `call(id, i)` until `stop()`, which waits for the loops to end. */
function startLoad(callers: number, call: (id: number, i: number) => Promise<void>) {
  let isRunning = true;
  const loops = Array.from({ length: callers }, async (_, id) => {
    // Bounded in count and time: the test stops the callers long before this runs out.
    for (let i = 0; isRunning && i < 100_000; i++) await call(id, i);
  });
  return {
    async stop() {
      isRunning = false;
      await Promise.all(loops);
    },
  };
}

describe('a peer restarting on the same port mid-load', () => {
  it('fails no more calls than were in flight, and the pool heals', async () => {
    const CALLERS = 6;
    const { server, pool } = await setUp(CALLERS, {
      createRetry: { attempts: 5, baseDelayMs: 10, maxDelayMs: 100 },
      acquireTimeoutMs: 5_000,
    });
    let inFlight = 0;
    let succeeded = 0;
    const failures: unknown[] = [];
    const load = startLoad(CALLERS, async (id, i) => {
      try {
        const reply = await pool.use(async (socket) => {
          inFlight++;
          try {
            return await echoRoundTrip(socket, `${id}:${i}`);
          } finally {
            inFlight--;
          }
        });
        expect(reply).toBe(`${id}:${i}`);
        succeeded++;
      } catch (error) {
        failures.push(error);
      }
    });
    try {
      await waitFor('load to run', () => succeeded >= 300, 10_000);
      const inFlightAtRestart = inFlight;
      const acceptedBefore = server.acceptedConnections;
      await server.restart();
      const succeededAtRestart = succeeded;
      await waitFor('the pool to heal', () => succeeded >= succeededAtRestart + 300, 10_000);

      expect(inFlightAtRestart).toBeGreaterThan(0);
      expect(failures.length).toBeLessThanOrEqual(inFlightAtRestart);
      for (const failure of failures) {
        // Only the exchanges cut by the restart fail, with the socket's own error: never a pool
        // error (no CREATE_FAILED, no timeout, no open circuit).
        expect(isPoolError(failure)).toBe(false);
      }
      expect(server.acceptedConnections).toBeGreaterThan(acceptedBefore);
      expect(pool.stats().nodes['echo']?.circuit).toBe('closed');
    } finally {
      await load.stop();
    }
    const stats = pool.stats();
    expect(stats.total).toBeLessThanOrEqual(CALLERS);
    await pool.drain();
    expect(pool.stats().created).toBe(pool.stats().destroyed);
    await waitFor('the server to see every socket closed', () => server.openConnections === 0);
  });

  it('down for a while: callers fail fast with socket or pool errors, never hang, and the pool heals', async () => {
    const CALLERS = 4;
    const { server, pool } = await setUp(CALLERS, {
      createRetry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
      circuitBreaker: { failureThreshold: 3, cooldownMs: 100 },
      acquireTimeoutMs: 2_000,
    });
    let succeeded = 0;
    let slowest = 0;
    const failures: unknown[] = [];
    const load = startLoad(CALLERS, async (id, i) => {
      const started = Date.now();
      try {
        await pool.use((socket) => echoRoundTrip(socket, `${id}:${i}`, AbortSignal.timeout(1_000)));
        succeeded++;
      } catch (error) {
        failures.push(error);
        // A refused node fails at once; back off a little as a real caller would.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      slowest = Math.max(slowest, Date.now() - started);
    });
    try {
      await waitFor('load to run', () => succeeded >= 100, 10_000);
      await server.restart({ downtimeMs: 300 });
      const succeededAtRestart = succeeded;
      await waitFor('the pool to heal', () => succeeded >= succeededAtRestart + 200, 10_000);
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) {
        const isSocketError = !isPoolError(failure) && typeof (failure as { code?: unknown }).code === 'string';
        const isPoolRefusal = isPoolError(failure, 'CREATE_FAILED') || isPoolError(failure, 'NODE_UNAVAILABLE');
        expect(isSocketError || isPoolRefusal).toBe(true);
      }
      // Nobody waited anywhere near the acquire timeout: a refused peer fails fast.
      expect(slowest).toBeLessThan(1_500);
    } finally {
      await load.stop();
    }
    await pool.drain();
    expect(pool.stats().created).toBe(pool.stats().destroyed);
    await waitFor('the server to see every socket closed', () => server.openConnections === 0);
  });
});
