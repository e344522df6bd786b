import * as grpc from '@grpc/grpc-js';
import { openProcessHolds } from '@pool/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { settle, setUp, tearDown, TestService } from './helpers.js';

afterEach(tearDown);

// Each call through the pool holds the process while it is pending (DESIGN "Process lifetime");
// every hold must be let go however the call ends, or a script would never exit.
describe('process holds of calls', () => {
  it('are held while calls are pending and all let go when they end, whatever the ending', async () => {
    const { pool, client } = await setUp({ maxPerNode: 1, maxLeasesPerConnection: 1 });
    const before = openProcessHolds();

    const pending = pool.unary(TestService, 'Unary', { message: 'slow', delayMs: 100 });
    expect(openProcessHolds()).toBeGreaterThan(before);
    await pending;
    await settle<EchoReply>((callback) => client.Unary({ message: 'cb' }, callback));
    const replies: number[] = [];
    for await (const reply of client.ServerStream({ message: 's', count: 3, intervalMs: 10 }) as AsyncIterable<EchoReply>) replies.push(reply.index);
    expect(replies).toEqual([0, 1, 2]);
    expect(openProcessHolds()).toBe(before);

    // A call waiting for the only lease: cancelled, and timed out by its deadline.
    const lease = await pool.acquire();
    const waiting = client.Unary({ message: 'w' }, () => {}) as grpc.ClientUnaryCall;
    waiting.cancel();
    const timedOut = await settle<EchoReply>((callback) => client.Unary({ message: 'd' }, new grpc.Metadata(), { deadline: Date.now() + 50 }, callback));
    expect(timedOut.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await lease.release();
    await expect(pool.unary(TestService, 'Unary', { message: 'fail', failCode: grpc.status.NOT_FOUND })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(pool.unary(TestService, 'Unary', { message: 'x' }, { acquire: { timeoutMs: Number.NaN } })).rejects.toThrow(/acquire\.timeoutMs/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(openProcessHolds()).toBe(before);
  });
});
