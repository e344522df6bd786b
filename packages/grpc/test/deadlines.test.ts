import * as grpc from '@grpc/grpc-js';
import { isPoolError } from '@pool/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { settle, setUp, tearDown, TestService, waitFor } from './helpers.js';

afterEach(tearDown);

/** A pool of one channel carrying one call, so a second call has to wait for a lease. */
async function setUpSingleSlot() {
  const setup = await setUp({ maxPerNode: 1, maxLeasesPerConnection: 1 });
  const blocker = settle<EchoReply>((callback) => setup.client.Unary({ message: 'blocker', delayMs: 300 }, callback));
  await waitFor(() => setup.pool.stats().leases === 1, 2_000, 'the blocker lease');
  return { ...setup, blocker };
}

describe('deadlines', () => {
  it('a deadline that passes on the server ends the call DEADLINE_EXCEEDED and releases', async () => {
    const { pool, client, server } = await setUp();
    const { error } = await settle<EchoReply>((callback) =>
      client.Unary({ delayMs: 2_000 }, new grpc.Metadata(), { deadline: Date.now() + 100 }, callback),
    );
    expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(pool.stats().leases).toBe(0);
    await waitFor(() => server.activeCalls === 0, 2_000, 'server call cancelled');
  });

  it('a deadline that passes while waiting for a lease ends the call DEADLINE_EXCEEDED without a lease', async () => {
    const { pool, client, blocker } = await setUpSingleSlot();
    const started = Date.now();
    const { error } = await settle<EchoReply>((callback) =>
      client.Unary({ message: 'late' }, new grpc.Metadata(), { deadline: Date.now() + 80 }, callback),
    );
    expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(250);
    expect(isPoolError((error as Error & { cause?: unknown }).cause, 'ACQUIRE_TIMEOUT')).toBe(true);
    expect((await blocker).error).toBeNull();
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
  });

  it('a deadline already past fails at once', async () => {
    const { pool, client } = await setUp();
    const { error } = await settle<EchoReply>((callback) =>
      client.Unary({}, new grpc.Metadata(), { deadline: Date.now() - 1 }, callback),
    );
    expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(pool.stats().acquired).toBe(0);
  });

  it('a stream whose deadline passes while waiting ends with DEADLINE_EXCEEDED', async () => {
    const { pool, client } = await setUpSingleSlot();
    const stream = client.ServerStream({ count: 3 }, new grpc.Metadata(), { deadline: Date.now() + 50 });
    const error = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    expect(error.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await waitFor(() => pool.stats().leases === 0, 2_000, 'leases back to 0');
  });
});

describe('cancellation', () => {
  it('cancel() on a running unary call ends it CANCELLED and releases', async () => {
    const { pool, client, server } = await setUp();
    const result = settle<EchoReply>((callback) => {
      const call = client.Unary({ delayMs: 5_000 }, callback);
      void waitFor(() => server.activeCalls === 1, 2_000).then(() => call.cancel());
    });
    const { error } = await result;
    expect(error?.code).toBe(grpc.status.CANCELLED);
    expect(pool.stats().leases).toBe(0);
    await waitFor(() => server.activeCalls === 0, 2_000, 'server call cancelled');
  });

  it('cancel() while waiting for a lease aborts the acquire: no lease is leaked', async () => {
    const { pool, client, blocker, server } = await setUpSingleSlot();
    const events: number[] = [];
    const result = settle<EchoReply>((callback) => {
      const call = client.Unary({ message: 'never sent' }, callback);
      call.on('status', (status: grpc.StatusObject) => events.push(status.code));
      setTimeout(() => call.cancel(), 30);
    });
    const { error } = await result;
    expect(error?.code).toBe(grpc.status.CANCELLED);
    expect(pool.stats().waiting).toBe(0);
    expect((await blocker).error).toBeNull();
    await waitFor(() => events.length === 1, 1_000, 'status event');
    expect(events).toEqual([grpc.status.CANCELLED]);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0, aborted: 1 });
    expect(server.calls).toBe(1);
  });

  it('cancel() right after the call is made (before any await) is clean', async () => {
    const { pool, client } = await setUp();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        settle<EchoReply>((callback) => {
          client.Unary({}, callback).cancel();
        }),
      ),
    );
    expect(results.every((result) => result.error?.code === grpc.status.CANCELLED)).toBe(true);
    await waitFor(() => pool.stats().leases === 0, 1_000, 'leases back to 0');
  });

  it('destroying a stream that still waits for a lease cancels the wait', async () => {
    const { pool, client, blocker } = await setUpSingleSlot();
    const stream = client.ServerStream({ count: 3 });
    stream.destroy();
    expect((await blocker).error).toBeNull();
    await waitFor(() => pool.stats().waiting === 0 && pool.stats().leases === 0, 1_000, 'no waiter, no lease');
    expect(pool.stats().acquired).toBe(1);
  });

  it('pool.unary honours an AbortSignal, also while waiting', async () => {
    const { pool } = await setUpSingleSlot();
    const controller = new AbortController();
    const pending = pool.unary(TestService, 'Unary', { message: 'x' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    await waitFor(() => pool.stats().leases === 0, 2_000, 'leases back to 0');
  });

  it('a client-level acquire signal maps to CANCELLED with the pool error as cause', async () => {
    const { pool } = await setUpSingleSlot();
    const controller = new AbortController();
    const client = pool.client(TestService, { acquire: { signal: controller.signal } });
    const result = settle<EchoReply>((callback) => client.Unary({}, callback));
    controller.abort(new Error('shutting down'));
    const { error } = await result;
    expect(error?.code).toBe(grpc.status.CANCELLED);
    expect(isPoolError((error as Error & { cause?: unknown }).cause, 'ABORTED')).toBe(true);
  });
});
