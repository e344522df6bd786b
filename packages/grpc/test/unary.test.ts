import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { settle, setUp, tearDown, TestService } from './helpers.js';

afterEach(tearDown);

describe('unary calls through pool.client', () => {
  it('answers, releases the lease after the callback, and reuses one channel', async () => {
    const { server, pool, client } = await setUp();
    for (let i = 0; i < 10; i++) {
      const { error, response } = await settle<EchoReply>((callback) => client.Unary({ message: `hi ${i}` }, callback));
      expect(error).toBeNull();
      expect(response?.message).toBe(`hi ${i}`);
    }
    const stats = pool.stats();
    expect(stats.leases).toBe(0);
    expect(stats.created).toBe(1);
    expect(stats.acquired).toBe(10);
    expect(stats.released).toBe(10);
    expect(server.peers.size).toBe(1);
  });

  it('accepts metadata and options like a generated client and emits metadata and status', async () => {
    const { client } = await setUp();
    const metadata = new grpc.Metadata();
    metadata.set('x-test', '1');
    const events: string[] = [];
    const result = await new Promise<EchoReply | undefined>((resolve, reject) => {
      const call = client.Unary({ message: 'm' }, metadata, { deadline: Date.now() + 5_000 }, (error, response) => {
        if (error) reject(error);
        else resolve(response);
      });
      call.on('metadata', () => events.push('metadata'));
      call.on('status', (status: grpc.StatusObject) => events.push(`status ${status.code}`));
    });
    expect(result?.message).toBe('m');
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['metadata', 'status 0']);
  });

  it('exposes methods under their original (camelCase) names too', async () => {
    const { client } = await setUp();
    const lowerCase = (client as unknown as Record<string, typeof client.Unary>)['unary'];
    expect(typeof lowerCase).toBe('function');
    const { response } = await settle<EchoReply>((callback) => lowerCase!({ message: 'camel' }, callback));
    expect(response?.message).toBe('camel');
  });

  it('passes server errors through unchanged and still releases', async () => {
    const { pool, client } = await setUp();
    const { error } = await settle<EchoReply>((callback) =>
      client.Unary({ message: 'x', failCode: grpc.status.FAILED_PRECONDITION }, callback),
    );
    expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error?.details).toContain('failed on request');
    expect(pool.stats().leases).toBe(0);
  });

  it('pool.unary is the promise form', async () => {
    const { pool } = await setUp();
    const reply = await pool.unary(TestService, 'Unary', { message: 'promise' });
    expect(reply.message).toBe('promise');
    await expect(pool.unary(TestService, 'Unary', { failCode: grpc.status.NOT_FOUND })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    await expect(pool.unary(TestService, 'ServerStream' as 'Unary', {})).rejects.toThrow(/not a unary method/);
    expect(pool.stats().leases).toBe(0);
  });

  it('acquire() + clientFor gives full control of one channel', async () => {
    const { pool } = await setUp();
    const lease = await pool.acquire();
    try {
      const direct = pool.clientFor(lease, TestService);
      expect(pool.clientFor(lease, TestService)).toBe(direct);
      const { response } = await settle<EchoReply>((callback) => direct.Unary({ message: 'direct' }, callback));
      expect(response?.message).toBe('direct');
      expect(pool.stats().leases).toBe(1);
    } finally {
      await lease.release();
    }
    expect(pool.stats().leases).toBe(0);
  });

  it('pool.client caches the proxy per constructor, and a client with acquire options counts against its partition', async () => {
    const { pool } = await setUp({ partitions: { slow: { max: 1 } } });
    expect(pool.client(TestService)).toBe(pool.client(TestService));
    const slow = pool.client(TestService, { acquire: { partition: 'slow' } });
    const calls = Array.from({ length: 3 }, () =>
      settle<EchoReply>((callback) => slow.Unary({ message: 'p', delayMs: 100 }, callback)),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pool.stats().partitions['slow']).toMatchObject({ active: 1, waiting: 2 });
    const results = await Promise.all(calls);
    expect(results.every((result) => result.error === null)).toBe(true);
    expect(pool.stats().leases).toBe(0);
  });

  it('rejects a constructor without a service definition', async () => {
    const { pool } = await setUp();
    expect(() => pool.client(grpc.Client as never)).toThrow(/static `service`/);
  });
});
