import { describe, expect, it } from 'vitest';
import { acquireOptionsOf, createPool, isPoolError, PoolError, type Lease } from '@pool/core';
import { FakeClock, flushPromises, trackingFactory, type FakeConnection } from '@pool/testkit';

describe('acquire and release', () => {
  it('creates on demand, reuses released connections and counts every step', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory });
    const lease = await pool.acquire();
    expect(lease.connection.id).toBe(1);
    expect(lease.node).toEqual({ id: 'default' });
    expect(lease.useCount).toBe(1);
    await lease.release();
    const again = await pool.acquire();
    expect(again.connection).toBe(lease.connection);
    expect(again.useCount).toBe(2);
    expect(again.createdAt).toBe(lease.createdAt);
    await again.release();
    const stats = pool.stats();
    expect(stats).toMatchObject({ total: 1, idle: 1, active: 0, leases: 0, created: 1, acquired: 2, released: 2 });
    await pool.drain();
    expect(factory.live.size).toBe(0);
  });

  it('never exceeds maxPerNode and queues the rest FIFO', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    const pool = createPool({ factory, maxPerNode: 2, clock });
    const first = await pool.acquire();
    const second = await pool.acquire();
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) => pool.acquire().then((lease) => {
      order.push(n);
      return lease;
    }));
    await flushPromises();
    expect(pool.stats()).toMatchObject({ total: 2, waiting: 3 });
    await first.release();
    const w1 = await waiting[0]!;
    await second.release();
    const w2 = await waiting[1]!;
    await w1.release();
    const w3 = await waiting[2]!;
    expect(order).toEqual([1, 2, 3]);
    expect(factory.createCalls).toBe(2);
    await w2.release();
    await w3.release();
    await pool.drain();
  });

  it('rejects a second release with LEASE_RELEASED; asyncDispose is idempotent', async () => {
    const pool = createPool({ factory: trackingFactory() });
    const lease = await pool.acquire();
    await lease.release();
    await expect(lease.release()).rejects.toMatchObject({ code: 'LEASE_RELEASED' });
    await expect(lease.destroy()).rejects.toBeInstanceOf(PoolError);
    await lease[Symbol.asyncDispose]();
    await pool.drain();
  });

  it('releases through Symbol.asyncDispose', async () => {
    const pool = createPool({ factory: trackingFactory() });
    {
      await using lease = await pool.acquire();
      expect(pool.stats().leases).toBe(1);
      expect(lease.connection.id).toBe(1);
    }
    expect(pool.stats().leases).toBe(0);
    await pool[Symbol.asyncDispose]();
    expect(pool.stats().total).toBe(0);
  });

  it('times out a waiter with ACQUIRE_TIMEOUT saying what was full', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, acquireTimeoutMs: 1_000, clock });
    const held = await pool.acquire();
    const waiting = pool.acquire().catch((caught: unknown) => caught);
    const perCall = pool.acquire({ timeoutMs: 200 }).catch((caught: unknown) => caught);
    const timeouts: number[] = [];
    pool.on('timeout', (event) => timeouts.push(event.waitedMs));
    await clock.advance(199);
    expect(pool.stats().waiting).toBe(2);
    await clock.advance(1);
    expect(await perCall).toMatchObject({ code: 'ACQUIRE_TIMEOUT' });
    await clock.advance(800);
    const error = await waiting;
    expect(isPoolError(error, 'ACQUIRE_TIMEOUT')).toBe(true);
    expect((error as Error).message).toMatch(/1000 ms/);
    expect((error as Error).message).toMatch(/1 connections over 1 node/);
    expect(timeouts).toEqual([200, 1000]);
    expect(pool.stats()).toMatchObject({ timeouts: 2, waiting: 0 });
    await held.release();
    await pool.close();
  });

  it('rejects an already-aborted signal with ABORTED even when capacity is free', async () => {
    const pool = createPool({ factory: trackingFactory() });
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    const error = await pool.acquire({ signal: controller.signal }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect((error as PoolError).cause).toEqual(new Error('caller gave up'));
    expect(pool.stats()).toMatchObject({ aborted: 1, total: 0 });
    await pool.drain();
  });

  it('removes an aborted waiter at once and serves the next one', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal });
    const next = pool.acquire();
    await flushPromises();
    controller.abort('stop');
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED', cause: 'stop' });
    expect(pool.stats().waiting).toBe(1);
    await held.release();
    const lease = await next;
    expect(lease.connection).toBe(held.connection);
    await lease.release();
    await pool.drain();
  });

  it('fails past maxWaiting with QUEUE_FULL', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, maxWaiting: 1 });
    const held = await pool.acquire();
    const queued = pool.acquire();
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    await held.release();
    await (await queued).release();
    await pool.drain();
  });

  it('rejects unknown nodes and partitions', async () => {
    const pool = createPool({ factory: trackingFactory(), partitions: { api: { max: 1 } } });
    await expect(pool.acquire({ node: 'nope' })).rejects.toMatchObject({ code: 'NODE_UNKNOWN' });
    await expect(pool.acquire({ partition: 'batch' })).rejects.toMatchObject({ code: 'PARTITION_UNKNOWN' });
    await pool.drain();
  });

  it('fails acquires after drain with POOL_CLOSED, and fails queued waiters when drain starts', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1 });
    const held = await pool.acquire();
    const queued = pool.acquire();
    const draining = pool.drain();
    await expect(queued).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    await held.release();
    await draining;
    expect(pool.stats()).toMatchObject({ total: 0, created: 1, destroyed: 1 });
  });
});

describe('tryAcquire', () => {
  it('hands out a free connection at once, and never waits, throws or jumps the queue', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, partitions: { p: { max: 1 } } });
    expect(pool.tryAcquire()).toBeUndefined(); // nothing created yet: it does not create
    const first = await pool.acquire();
    expect(pool.tryAcquire()).toBeUndefined(); // busy
    const queued = pool.acquire();
    await first.release();
    const second = await queued;
    await second.release();
    const third = pool.tryAcquire();
    expect(third?.connection).toBe(first.connection);
    expect(pool.tryAcquire({ node: 'nope' })).toBeUndefined();
    expect(pool.tryAcquire({ partition: 'nope' })).toBeUndefined();
    const controller = new AbortController();
    controller.abort();
    await third!.release();
    expect(pool.tryAcquire({ signal: controller.signal })).toBeUndefined();
    await pool.drain();
    expect(pool.tryAcquire()).toBeUndefined();
  });

  it('declines while anyone waits, even with a connection free', async () => {
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 2, partitions: { p: { max: 1 } } });
    const inPartition = await pool.acquire({ partition: 'p' });
    await (await pool.acquire()).release(); // a second connection, now idle
    const blocked = pool.acquire({ partition: 'p' }); // waits: its partition is full
    expect(pool.stats()).toMatchObject({ idle: 1, waiting: 1 });
    expect(pool.tryAcquire()).toBeUndefined();
    const plain = await pool.acquire(); // acquire() may pass it: the waiter cannot be served
    await plain.release();
    await inPartition.release();
    await (await blocked).release();
    await pool.drain();
  });
});

describe('use', () => {
  it('releases on success and returns the result', async () => {
    const pool = createPool({ factory: trackingFactory() });
    const result = await pool.use((connection) => connection.id * 10);
    expect(result).toBe(10);
    expect(pool.stats()).toMatchObject({ leases: 0, idle: 1 });
    await pool.drain();
  });

  it('destroys when isBroken says so, releases otherwise, and always rethrows', async () => {
    const factory = trackingFactory();
    factory.isBroken = (error) => (error as Error).message === 'socket hang up';
    const pool = createPool({ factory });
    await expect(pool.use(() => { throw new Error('bad query'); })).rejects.toThrow('bad query');
    expect(pool.stats()).toMatchObject({ idle: 1, destroyed: 0 });
    await expect(pool.use(() => { throw new Error('socket hang up'); })).rejects.toThrow('socket hang up');
    await flushPromises();
    expect(pool.stats()).toMatchObject({ total: 0, destroyed: 1 });
    await pool.drain();
  });

  it('without isBroken, destroys only when the connection itself was invalidated', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory });
    await expect(pool.use((connection: FakeConnection) => {
      connection.invalidate(new Error('peer closed'));
      throw new Error('write after end');
    })).rejects.toThrow('write after end');
    await flushPromises();
    expect(pool.stats()).toMatchObject({ total: 0, destroyed: 1 });
    await expect(pool.use(() => Promise.reject(new Error('app error')))).rejects.toThrow('app error');
    expect(pool.stats()).toMatchObject({ total: 1, idle: 1 });
    await pool.drain();
  });

  it('tolerates a callback that released the lease itself', async () => {
    const pool = createPool({ factory: trackingFactory() });
    await pool.use(async (_connection, lease: Lease<FakeConnection>) => lease.release());
    expect(pool.stats().leases).toBe(0);
    await pool.drain();
  });
});

describe('the pool object', () => {
  it('takes transport helpers of any name without touching the engine', async () => {
    const pool = createPool({ factory: trackingFactory() });
    Object.assign(pool, { dispatcher: 1, options: 2, waiters: 3, creator: 4, counters: 5, request: () => 6, query: () => 7 });
    await pool.use(() => undefined);
    expect(pool.stats()).toMatchObject({ acquired: 1, released: 1 });
    expect(Object.keys(pool)).toEqual(['dispatcher', 'options', 'waiters', 'creator', 'counters', 'request', 'query']);
    await pool.drain();
  });
});

describe('acquireOptionsOf', () => {
  it('keeps the acquire fields of a transport call, the wait as timeoutMs, and nothing else', () => {
    const signal = new AbortController().signal;
    const call = { node: 'a', affinityKey: 'k', partition: 'p', priority: 2, signal, acquireTimeoutMs: 50, timeoutMs: 9_000, stdin: 'x' };
    expect(acquireOptionsOf(call)).toEqual({ node: 'a', affinityKey: 'k', partition: 'p', priority: 2, signal, timeoutMs: 50 });
    expect(acquireOptionsOf({})).toEqual({});
  });
});
