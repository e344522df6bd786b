import * as grpc from '@grpc/grpc-js';
import { isPoolError } from '@pool/core';
import { findClosedPort } from '@pool/testkit/tcp';
import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { makePool, settle, startServer, tearDown, TestService, waitFor } from './helpers.js';

afterEach(tearDown);

describe('a server that is unreachable', () => {
  it('fails acquire with CREATE_FAILED quickly, and calls with UNAVAILABLE whose cause says why', async () => {
    const port = await findClosedPort();
    const pool = makePool({
      nodes: [{ id: 'gone', target: `127.0.0.1:${port}` }],
      createRetry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
    const started = Date.now();
    const error = await pool.acquire().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
    expect(String((error as { cause?: unknown }).cause)).toMatch(/TRANSIENT_FAILURE/);
    expect(Date.now() - started).toBeLessThan(5_000);

    const { error: callError } = await settle<EchoReply>((callback) => pool.client(TestService).Unary({}, callback));
    expect(callError?.code).toBe(grpc.status.UNAVAILABLE);
    expect(callError?.details).toMatch(/CREATE_FAILED/);
    expect(isPoolError((callError as Error & { cause?: unknown }).cause, 'CREATE_FAILED')).toBe(true);
    const stats = pool.stats();
    expect(stats).toMatchObject({ total: 0, leases: 0, waiting: 0 });
    expect(stats.createFailures).toBeGreaterThanOrEqual(2);
  });

  it('streams that cannot get a channel end the grpc-js way: error + status, and writes are dropped', async () => {
    const port = await findClosedPort();
    const pool = makePool({
      nodes: [{ id: 'gone', target: `127.0.0.1:${port}` }],
      createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    });
    const client = pool.client(TestService);
    const stream = client.ServerStream({ count: 3 });
    const [streamError, streamStatus] = await Promise.all([
      new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve)),
      new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve)),
    ]);
    expect(streamError.code).toBe(grpc.status.UNAVAILABLE);
    expect(streamStatus.code).toBe(grpc.status.UNAVAILABLE);

    const upload = await new Promise<{ error: grpc.ServiceError | null; status: grpc.StatusObject }>((resolve) => {
      let error: grpc.ServiceError | null = null;
      const writable = client.ClientStream((e) => (error = e));
      writable.on('status', (status: grpc.StatusObject) => resolve({ error, status }));
      writable.write({ message: 'a' });
      writable.write({ message: 'b' });
      writable.end();
    });
    expect(upload.error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(upload.status.code).toBe(grpc.status.UNAVAILABLE);

    const bidi = client.BidiStream();
    bidi.write({ message: 'x' });
    const bidiError = await new Promise<grpc.ServiceError>((resolve) => bidi.on('error', resolve));
    expect(bidiError.code).toBe(grpc.status.UNAVAILABLE);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0, total: 0 });
  });

  it('a create that never reaches READY is bounded by createTimeoutMs', async () => {
    // A TCP listener that accepts and never speaks HTTP/2: the channel stays CONNECTING.
    const { startSilentTcpServer } = await import('@pool/testkit/tcp');
    const silent = await startSilentTcpServer();
    try {
      const pool = makePool({
        nodes: [{ id: 'silent', target: `127.0.0.1:${silent.port}` }],
        createTimeoutMs: 200,
        createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
      });
      const started = Date.now();
      await expect(pool.acquire()).rejects.toMatchObject({ code: 'CREATE_FAILED' });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(pool.stats().total).toBe(0);
    } finally {
      await silent.stop();
    }
  });
});

describe('a server stopped and restarted under load', () => {
  it('every call settles, dead channels are retired, and calls succeed again after the restart', async () => {
    const server = await startServer();
    const pool = makePool({
      nodes: [{ id: 'a', target: server.target }],
      maxPerNode: 4,
      maxLeasesPerConnection: 20,
      acquireTimeoutMs: 2_000,
      createRetry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
      circuitBreaker: { failureThreshold: 3, cooldownMs: 100 },
    });
    const destroyReasons: string[] = [];
    pool.on('destroy', (event) => destroyReasons.push(event.reason));
    const client = pool.client(TestService);
    let ok = 0;
    const failures = new Map<number, number>();
    let isRunning = true;
    const worker = async () => {
      while (isRunning) {
        const { error } = await settle<EchoReply>((callback) =>
          client.Unary({ delayMs: 5 }, new grpc.Metadata(), { deadline: Date.now() + 3_000 }, callback),
        );
        if (error === null) ok += 1;
        else {
          failures.set(error.code, (failures.get(error.code) ?? 0) + 1);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    };
    const workers = Array.from({ length: 40 }, worker);
    await waitFor(() => ok >= 200, 5_000, 'load before the stop');
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const okWhileDown = ok;
    await server.restart();
    await waitFor(() => ok >= okWhileDown + 200, 10_000, 'calls succeeding after the restart');
    isRunning = false;
    await Promise.all(workers);

    expect(failures.size).toBeGreaterThan(0);
    for (const code of failures.keys()) {
      expect([grpc.status.UNAVAILABLE, grpc.status.CANCELLED, grpc.status.INTERNAL]).toContain(code);
    }
    expect(destroyReasons.filter((reason) => reason === 'broken' || reason === 'invalid').length).toBeGreaterThan(0);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
    await pool.drain();
    const stats = pool.stats();
    expect(stats.created).toBe(stats.destroyed);
  });

  it('a graceful stop (GOAWAY) lets running calls finish', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', target: server.target }] });
    const client = pool.client(TestService);
    const running = Array.from({ length: 5 }, () =>
      settle<EchoReply>((callback) => client.Unary({ delayMs: 150 }, callback)),
    );
    await waitFor(() => server.activeCalls === 5, 2_000, 'calls running');
    await server.stop({ graceful: true });
    const results = await Promise.all(running);
    expect(results.every((result) => result.error === null)).toBe(true);
    expect(pool.stats().leases).toBe(0);
  });
});

describe('closing the pool', () => {
  it('drain waits for running calls and closes every channel; later calls fail UNAVAILABLE', async () => {
    const server = await startServer();
    const pool = makePool({ nodes: [{ id: 'a', target: server.target }] });
    const client = pool.client(TestService);
    const running = settle<EchoReply>((callback) => client.Unary({ delayMs: 100 }, callback));
    await waitFor(() => server.activeCalls === 1, 2_000, 'call running');
    await pool.drain();
    expect((await running).error).toBeNull();
    const stats = pool.stats();
    expect(stats.total).toBe(0);
    expect(stats.created).toBe(stats.destroyed);
    const { error } = await settle<EchoReply>((callback) => client.Unary({}, callback));
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(isPoolError((error as Error & { cause?: unknown }).cause, 'POOL_CLOSED')).toBe(true);
  });
});
