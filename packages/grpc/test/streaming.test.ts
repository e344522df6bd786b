import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { EchoReply } from '@pool/testkit/grpc';
import { setUp, tearDown, waitFor } from './helpers.js';

afterEach(tearDown);

function collect(stream: NodeJS.ReadableStream & { on(event: 'status', listener: (s: grpc.StatusObject) => void): unknown }) {
  return new Promise<{ messages: EchoReply[]; error: grpc.ServiceError | undefined; status: grpc.StatusObject }>((resolve) => {
    const messages: EchoReply[] = [];
    let error: grpc.ServiceError | undefined;
    stream.on('data', (message: EchoReply) => messages.push(message));
    stream.on('error', (e: grpc.ServiceError) => (error = e));
    stream.on('status', (status: grpc.StatusObject) => resolve({ messages, error, status }));
  });
}

describe('server streaming', () => {
  it('holds the lease until the stream ends, then releases it once', async () => {
    const { pool, client } = await setUp();
    const stream = client.ServerStream({ message: 's', count: 5, intervalMs: 40 });
    const done = collect(stream);
    await waitFor(() => pool.stats().leases === 1, 2_000, 'the lease');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(pool.stats().leases).toBe(1);
    const { messages, error, status } = await done;
    expect(error).toBeUndefined();
    expect(status.code).toBe(grpc.status.OK);
    expect(messages.map((m) => m.index)).toEqual([0, 1, 2, 3, 4]);
    expect(pool.stats()).toMatchObject({ leases: 0, acquired: 1, released: 1 });
  });

  it('works with for await, and breaking out of the loop cancels the call and releases', async () => {
    const { pool, client, server } = await setUp();
    const seen: number[] = [];
    for await (const message of client.ServerStream({ count: 1_000, intervalMs: 5 })) {
      seen.push((message as EchoReply).index);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([0, 1, 2]);
    await waitFor(() => pool.stats().leases === 0 && server.activeCalls === 0, 2_000, 'release after break');
  });

  it('an error status mid-stream reaches the caller and releases', async () => {
    const { pool, client } = await setUp();
    const { messages, error, status } = await collect(client.ServerStream({ count: 2, failCode: grpc.status.ABORTED }));
    expect(messages).toHaveLength(2);
    expect(error?.code).toBe(grpc.status.ABORTED);
    expect(status.code).toBe(grpc.status.ABORTED);
    expect(pool.stats().leases).toBe(0);
  });

  it('cancel() on a running stream ends it CANCELLED and releases', async () => {
    const { pool, client, server } = await setUp();
    const stream = client.ServerStream({ count: 1_000, intervalMs: 10 });
    const done = collect(stream);
    stream.once('data', () => stream.cancel());
    const { error } = await done;
    expect(error?.code).toBe(grpc.status.CANCELLED);
    expect(pool.stats().leases).toBe(0);
    await waitFor(() => server.activeCalls === 0, 2_000, 'server side cancelled');
  });

  it('keeps backpressure: a stream nobody reads holds its lease without buffering everything', async () => {
    const { pool, client } = await setUp();
    const stream = client.ServerStream({ count: 100_000 });
    await waitFor(() => stream.readableLength > 0, 2_000, 'first messages');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.readableLength).toBeLessThanOrEqual(stream.readableHighWaterMark + 1);
    expect(pool.stats().leases).toBe(1);
    const done = collect(stream);
    stream.cancel();
    const { error } = await done;
    expect(error?.code).toBe(grpc.status.CANCELLED);
    expect(pool.stats().leases).toBe(0);
  });
});

describe('client and bidi streaming', () => {
  it('client streaming sends every write, answers in the callback and releases', async () => {
    const { pool, client } = await setUp();
    const reply = await new Promise<EchoReply | undefined>((resolve, reject) => {
      const stream = client.ClientStream((error, response) => (error ? reject(error) : resolve(response)));
      // Written before any channel is leased: held and sent in order.
      stream.write({ message: 'a' });
      stream.write({ message: 'b' });
      stream.end({ message: 'c' });
    });
    expect(reply).toMatchObject({ message: 'a,b,c', index: 3 });
    expect(pool.stats().leases).toBe(0);
  });

  it('bidi streaming echoes each message and releases when both sides end', async () => {
    const { pool, client } = await setUp();
    const stream = client.BidiStream();
    const done = collect(stream);
    for (const message of ['x', 'y', 'z']) stream.write({ message });
    await waitFor(() => pool.stats().leases === 1, 2_000, 'the lease');
    stream.end();
    const { messages, status } = await done;
    expect(status.code).toBe(grpc.status.OK);
    expect(messages.map((m) => m.message)).toEqual(['x', 'y', 'z']);
    expect(pool.stats().leases).toBe(0);
  });
});
