import * as grpc from '@grpc/grpc-js';
import { isPoolError } from '@pool/core';
import { findClosedPort } from '@pool/testkit/tcp';
import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { makePool, settle, setUp, startServer, tearDown, TestService, waitFor } from './helpers.js';

afterEach(tearDown);

// Failed connects open the node's circuit; a wait-for-ready call waits through it, so keep it short.
const quickRetry = { createRetry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 }, circuitBreaker: { failureThreshold: 5, cooldownMs: 300 } };

function waitForReady(client: { waitForReady(deadline: grpc.Deadline, callback: (error?: Error) => void): void }, deadline: grpc.Deadline) {
  return new Promise<Error | undefined>((resolve) => client.waitForReady(deadline, resolve));
}

function waitForReadyMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.setOptions({ waitForReady: true });
  return metadata;
}

describe('client.waitForReady(deadline, callback)', () => {
  it('calls back without an error once the pool has a READY channel, and holds no lease after', async () => {
    const { pool, client } = await setUp();
    expect(await waitForReady(client, Date.now() + 5_000)).toBeUndefined();
    expect(pool.stats()).toMatchObject({ total: 1, leases: 0, waiting: 0 });
  });

  it('waits out a server that is not up yet, as grpc-js waits through TRANSIENT_FAILURE', async () => {
    const port = await findClosedPort();
    const pool = makePool({ nodes: [{ id: 'late', target: `127.0.0.1:${port}` }], ...quickRetry });
    const client = pool.client(TestService);
    const ready = waitForReady(client, Date.now() + 8_000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await startServer({ port });
    expect(await ready).toBeUndefined();
    const { response } = await settle<EchoReply>((callback) => client.Unary({ message: 'now' }, callback));
    expect(response?.message).toBe('now');
  });

  it('calls back with an error when the deadline passes first, with no lease or waiter left', async () => {
    const port = await findClosedPort();
    const pool = makePool({ nodes: [{ id: 'gone', target: `127.0.0.1:${port}` }], ...quickRetry });
    const started = Date.now();
    const error = await waitForReady(pool.client(TestService), Date.now() + 400);
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toMatch(/^Failed to get a ready pooled channel before the deadline: Deadline exceeded/);
    expect(isPoolError(error?.cause, 'CREATE_FAILED') || isPoolError(error?.cause, 'NODE_UNAVAILABLE')
      || isPoolError(error?.cause, 'ACQUIRE_TIMEOUT')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
  });
});

describe('the waitForReady call option (metadata.setOptions({ waitForReady: true }))', () => {
  it('without it a call fails fast with UNAVAILABLE when no node can serve; with it the call waits for the server', async () => {
    const port = await findClosedPort();
    const pool = makePool({ nodes: [{ id: 'late', target: `127.0.0.1:${port}` }], ...quickRetry });
    const client = pool.client(TestService);
    const failFast = await settle<EchoReply>((callback) => client.Unary({ message: 'x' }, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, callback));
    expect(failFast.error?.code).toBe(grpc.status.UNAVAILABLE);

    const waiting = settle<EchoReply>((callback) =>
      client.Unary({ message: 'waited' }, waitForReadyMetadata(), { deadline: Date.now() + 8_000 }, callback));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await startServer({ port });
    const { error, response } = await waiting;
    expect(error).toBeNull();
    expect(response?.message).toBe('waited');
    // pool.unary passes the metadata through, so it waits too.
    expect(await pool.unary(TestService, 'Unary', { message: 'unary' }, { metadata: waitForReadyMetadata() }))
      .toMatchObject({ message: 'unary' });
  });

  it('ends DEADLINE_EXCEEDED when the deadline passes while no node can serve', async () => {
    const port = await findClosedPort();
    const pool = makePool({ nodes: [{ id: 'gone', target: `127.0.0.1:${port}` }], ...quickRetry });
    const started = Date.now();
    const { error } = await settle<EchoReply>((callback) =>
      pool.client(TestService).Unary({ message: 'x' }, waitForReadyMetadata(), { deadline: Date.now() + 500 }, callback));
    expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
  });

  it('a server stream with it waits too, and cancel() while it waits stops the retries', async () => {
    const port = await findClosedPort();
    const pool = makePool({ nodes: [{ id: 'gone', target: `127.0.0.1:${port}` }], ...quickRetry });
    const stream = pool.client(TestService).ServerStream({ message: 's', count: 2 }, waitForReadyMetadata(), { deadline: Date.now() + 10_000 });
    const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
    stream.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const failuresBefore = pool.stats().createFailures;
    stream.cancel();
    expect((await status).code).toBe(grpc.status.CANCELLED);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    // No acquire was made after the cancel (at most one connect already under way).
    expect(pool.stats().createFailures - failuresBefore).toBeLessThanOrEqual(1);
    expect(pool.stats()).toMatchObject({ leases: 0, waiting: 0 });
  });
});

describe('client.getChannel()', () => {
  it('throws on a pooled client, naming what to use; a lease client returns the lease\'s channel', async () => {
    const { pool, client } = await setUp();
    expect(() => client.getChannel()).toThrow(/no single channel.*pool\.use\(fn\) or pool\.acquire\(\)/);
    await pool.use((channel, lease) => {
      const direct = pool.clientFor(lease, TestService);
      expect(direct.getChannel()).toBe(channel);
      expect(direct.getChannel()).toBe(lease.connection);
    });
  });
});

describe('client.close()', () => {
  it('closes the handle, not the pool: calls after it throw, calls made before finish', async () => {
    const { pool, client } = await setUp();
    const running = settle<EchoReply>((callback) => client.Unary({ message: 'before', delayMs: 200 }, callback));
    await waitFor(() => pool.stats().leases === 1, 5_000, 'the call to run');
    client.close();
    client.close(); // idempotent
    expect(() => client.Unary({ message: 'after' }, () => {})).toThrow(/pooled gRPC client was closed/);
    expect(() => client.ServerStream({ message: 'after', count: 1 })).toThrow(/was closed/);
    expect(await waitForReady(client, Date.now() + 1_000)).toBeInstanceOf(Error);
    expect((await running).response?.message).toBe('before');
    // The pool is open, and pool.client(Ctor) gives a new, open handle (the closed one left the cache).
    const fresh = pool.client(TestService);
    expect(fresh).not.toBe(client);
    expect((await settle<EchoReply>((callback) => fresh.Unary({ message: 'fresh' }, callback))).response?.message).toBe('fresh');
    expect(await pool.unary(TestService, 'Unary', { message: 'unary' })).toMatchObject({ message: 'unary' });
    expect(pool.stats()).toMatchObject({ leases: 0, destroyed: 0 });
  });

  it('closing a client built with options leaves the cached one open', async () => {
    const { pool, client } = await setUp();
    const partitioned = pool.client(TestService, { acquire: { priority: 1 } });
    partitioned.close();
    expect(() => partitioned.Unary({}, () => {})).toThrow(/was closed/);
    expect(pool.client(TestService)).toBe(client);
    expect((await settle<EchoReply>((callback) => client.Unary({ message: 'ok' }, callback))).response?.message).toBe('ok');
  });
});
