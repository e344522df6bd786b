import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { makePool, settle, startServer, tearDown, TestService, waitFor } from './helpers.js';

afterEach(tearDown);

const SERVICE = 'pool.test.TestService';

describe('validation', () => {
  it('healthCheck: a service that is not SERVING fails the create', async () => {
    const server = await startServer();
    server.setHealth(SERVICE, 'NOT_SERVING');
    const pool = makePool({
      nodes: [{ id: 'a', target: server.target }],
      healthCheck: { service: SERVICE },
      createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    const error = await pool.acquire().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; cause?: unknown },
    );
    expect(error?.code).toBe('CREATE_FAILED');
    expect(String(error?.cause)).toMatch(/SERVING/);

    server.setHealth(SERVICE, 'SERVING');
    const lease = await pool.acquire();
    await lease.release();
  });

  it('healthCheck for an unknown service name fails (NOT_FOUND is not healthy)', async () => {
    const server = await startServer();
    const pool = makePool({
      nodes: [{ id: 'a', target: server.target }],
      healthCheck: { service: 'no.such.Service' },
      createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'CREATE_FAILED' });
  });

  it('a channel whose service turns NOT_SERVING is retired at the next validation', async () => {
    const server = await startServer();
    const pool = makePool({
      nodes: [{ id: 'a', target: server.target }],
      healthCheck: { service: SERVICE },
      validateOnAcquire: true,
      createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
      circuitBreaker: false,
    });
    const reasons: string[] = [];
    pool.on('destroy', (event) => reasons.push(event.reason));
    const client = pool.client(TestService);
    expect((await settle<EchoReply>((callback) => client.Unary({}, callback))).error).toBeNull();
    server.setHealth(SERVICE, 'NOT_SERVING');
    const { error } = await settle<EchoReply>((callback) => client.Unary({}, callback));
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(reasons).toContain('invalid');
    expect(pool.stats().validationFailures).toBeGreaterThanOrEqual(1);
    server.setHealth(SERVICE, 'SERVING');
    expect((await settle<EchoReply>((callback) => client.Unary({}, callback))).error).toBeNull();
  });

  it('an IDLE channel (its server restarted) reconnects during validation and is kept', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', target: server.target }], validateOnAcquire: true });
    const client = pool.client(TestService);
    expect((await settle<EchoReply>((callback) => client.Unary({}, callback))).error).toBeNull();
    const lease = await pool.acquire();
    const channel = lease.connection;
    await lease.release();
    await server.restart();
    await waitFor(() => channel.getConnectivityState(false) === grpc.connectivityState.IDLE, 2_000, 'channel IDLE');
    const { error, response } = await settle<EchoReply>((callback) => client.Unary({ message: 'again' }, callback));
    expect(error).toBeNull();
    expect(response?.message).toBe('again');
    expect(channel.getConnectivityState(false)).toBe(grpc.connectivityState.READY);
    expect(pool.stats()).toMatchObject({ created: 1, destroyed: 0, validationFailures: 0 });
  });

  it('pool.health() reports a healthy node and a dead one', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', target: server.target }], minIdlePerNode: 1 });
    const lease = await pool.acquire();
    await lease.release();
    expect((await pool.health()).nodes['a']?.healthy).toBe(true);
    await server.stop();
    // The channel learns of the closed connection a moment after the server is gone.
    let report = await pool.health();
    for (let i = 0; i < 50 && report.healthy; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      report = await pool.health();
    }
    expect(report.healthy).toBe(false);
    expect(report.nodes['a']?.healthy).toBe(false);
  });
});
