import { describe, expect, it } from 'vitest';
import { isPoolError } from '@pool/core';
import { createTcpPool } from '@pool/tcp';
import { echoRoundTrip, findClosedPort, startTcpEchoServer } from '@pool/testkit/tcp';
import { cleanUpAfterEach, recordEvents, rejectionOf } from './helpers.js';

const afterTest = cleanUpAfterEach();

describe('a refused port', () => {
  it('fails CREATE_FAILED with ECONNREFUSED as cause, then opens the circuit', async () => {
    const port = await findClosedPort();
    const pool = afterTest.close(createTcpPool({
      nodes: [{ id: 'down', host: '127.0.0.1', port }],
      createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 },
    }));
    const opened = recordEvents(pool, 'circuitOpen');
    for (let i = 0; i < 2; i++) {
      const error = await rejectionOf(pool.acquire());
      expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
      expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    }
    expect(opened.map((event) => event.node)).toEqual(['down']);
    expect(pool.stats().nodes['down']?.circuit).toBe('open');
    expect(pool.stats().createFailures).toBe(2);
    const started = Date.now();
    const error = await rejectionOf(pool.acquire());
    expect(isPoolError(error, 'NODE_UNAVAILABLE')).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
    expect(pool.stats().total).toBe(0);
  });

  it('retries with backoff inside one acquire, and fails over to a healthy node', async () => {
    const server = afterTest.stop(await startTcpEchoServer());
    const port = await findClosedPort();
    const pool = afterTest.close(createTcpPool({
      nodes: [
        { id: 'down', host: '127.0.0.1', port },
        { id: 'up', host: server.host, port: server.port },
      ],
      balancer: 'round-robin',
      createRetry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    }));
    const createErrors = recordEvents(pool, 'createError');
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await pool.use((socket) => echoRoundTrip(socket, `call ${i}`)));
    expect(replies).toEqual(['call 0', 'call 1', 'call 2', 'call 3']);
    expect(createErrors.length).toBeGreaterThan(0);
    expect(createErrors.every((event) => event.node === 'down')).toBe(true);
    const named = await rejectionOf(pool.acquire({ node: 'down' }));
    expect(isPoolError(named) && ['CREATE_FAILED', 'NODE_UNAVAILABLE'].includes(named.code)).toBe(true);
  });
});
