/** generic-pool's README, clause by clause, through the public API. */
import { isPoolError } from '@pool/core';
import { describe, expect, test } from 'vitest';
import genericPool, { Pool, TimeoutError, createPool } from '../src/index.js';
import { CountingFactory, sleep, stopPool } from './helpers.js';

describe('acquire and release', () => {
  test('the default export carries createPool and Pool, like require("generic-pool")', async () => {
    expect(genericPool.createPool).toBe(createPool);
    const pool = genericPool.createPool(new CountingFactory());
    expect(pool).toBeInstanceOf(Pool);
    await stopPool(pool);
  });

  test('acquireTimeoutMillis: TimeoutError "ResourceRequest timed out", a PoolError ACQUIRE_TIMEOUT', async () => {
    const pool = createPool(new CountingFactory(), { max: 1, acquireTimeoutMillis: 30 });
    const held = await pool.acquire();
    const error = await pool.acquire().catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).name).toBe('TimeoutError');
    expect((error as Error).message).toBe('ResourceRequest timed out');
    expect(isPoolError(error, 'ACQUIRE_TIMEOUT')).toBe(true);
    expect(pool.pending).toBe(0);
    await pool.release(held);
    await stopPool(pool);
  });

  test('release and destroy reject for a resource that is not borrowed, and for a second call', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const resource = await pool.acquire();
    await pool.release(resource);
    await expect(pool.release(resource)).rejects.toThrow('Resource not currently part of this pool');
    await expect(pool.destroy(resource)).rejects.toThrow('Resource not currently part of this pool');
    await expect(pool.destroy({ id: 99 })).rejects.toSatisfy((error) => isPoolError(error, 'LEASE_RELEASED'));
    await stopPool(pool);
  });

  test('an ignored rejection of release or destroy is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const pool = createPool(new CountingFactory(), { max: 1 });
      void pool.release({ id: 7 });
      void pool.destroy({ id: 8 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      await stopPool(pool);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('destroy closes the resource through factory.destroy; the next acquire gets a new one', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { max: 1 });
    const first = await pool.acquire();
    await pool.destroy(first);
    const second = await pool.acquire();
    expect(second.id).toBe(1);
    expect(factory.bin).toEqual([first]);
    await pool.release(second);
    await stopPool(pool);
  });

  test('maxWaitingClients 1: one acquire may wait on a full pool, the next is refused', async () => {
    const pool = createPool(new CountingFactory(), { max: 1, maxWaitingClients: 1 });
    const held = await pool.acquire();
    const waiting = pool.acquire();
    const error = await pool.acquire().catch((reason: unknown) => reason);
    expect((error as Error).message).toBe('max waitingClients count exceeded');
    expect(isPoolError(error, 'QUEUE_FULL')).toBe(true);
    await pool.release(held);
    await pool.release(await waiting);
    await stopPool(pool);
  });

  test('fifo true (default): the resource idle longest is handed out first', async () => {
    const pool = createPool(new CountingFactory(), { max: 3 });
    const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const resource of [b, a, c]) await pool.release(resource!);
    const next = await pool.acquire();
    expect(next.id).toBe(b!.id);
    await pool.release(next);
    await stopPool(pool);
  });

  test('fifo false: the most recently released resource is handed out first', async () => {
    const pool = createPool(new CountingFactory(), { max: 3, fifo: false });
    const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const resource of [b, a, c]) await pool.release(resource!);
    const next = await pool.acquire();
    expect(next.id).toBe(c!.id);
    await pool.release(next);
    await stopPool(pool);
  });

  test('priorities: 0 first; out of range and negative mean the lowest; none means 0, as in generic-pool', async () => {
    const pool = createPool(new CountingFactory(), { max: 1, priorityRange: 3 });
    const held = await pool.acquire();
    const order: string[] = [];
    const take = (label: string, priority?: number) =>
      pool.acquire(priority).then((resource) => {
        order.push(label);
        return pool.release(resource);
      });
    const all = [take('lowest', 2), take('out of range', 7), take('negative', -1), take('mid', 1), take('none'), take('high', 0)];
    expect(pool.pending).toBe(6);
    await pool.release(held);
    await Promise.all(all);
    expect(order).toEqual(['none', 'high', 'mid', 'lowest', 'out of range', 'negative']);
    await stopPool(pool);
  });
});

describe('use', () => {
  test('a rejection of fn destroys the resource and rejects use with it', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { max: 1 });
    const failure = new Error('query failed');
    await expect(pool.use(() => Promise.reject(failure))).rejects.toBe(failure);
    await sleep(0);
    expect(factory.destroyed).toBe(1);
    expect(pool.borrowed).toBe(0);
    expect((await pool.use((resource) => resource.id))).toBe(1);
    await stopPool(pool);
  });

  test('fn may throw synchronously or return a plain value; a resource fn released itself is not released twice', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { max: 1 });
    await expect(
      pool.use(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(await pool.use((resource) => resource.id + 100)).toBe(101);
    expect(await pool.use(async (resource) => { await pool.release(resource); return 'done'; })).toBe('done');
    expect(pool.borrowed).toBe(0);
    await stopPool(pool);
  });

  test('use(fn, priority) queues fn with that priority', async () => {
    const pool = createPool(new CountingFactory(), { max: 1, priorityRange: 2 });
    const held = await pool.acquire();
    const order: number[] = [];
    const low = pool.use(() => order.push(1), 1);
    const high = pool.use(() => order.push(0), 0);
    await pool.release(held);
    await Promise.all([low, high]);
    expect(order).toEqual([0, 1]);
    await stopPool(pool);
  });
});

describe('validation', () => {
  test('testOnBorrow: validate runs before each acquire; a false destroys the resource and another is made', async () => {
    const factory = new CountingFactory();
    const validated: number[] = [];
    factory.validate = function (this: CountingFactory, resource?: { id: number }) {
      validated.push(resource!.id);
      return Promise.resolve(resource!.id !== 0);
    } as CountingFactory['validate'];
    const pool = createPool(factory, { max: 1, testOnBorrow: true });
    const first = await pool.acquire();
    await pool.release(first);
    const second = await pool.acquire();
    expect(second.id).toBe(1);
    expect(factory.bin.map((resource) => resource.id)).toEqual([0]);
    expect(validated).toContain(0);
    await pool.release(second);
    await stopPool(pool);
  });

  test('testOnReturn: validate runs on release; a false destroys the resource', async () => {
    const factory = new CountingFactory();
    let isValid = true;
    factory.validate = () => Promise.resolve(isValid);
    const pool = createPool(factory, { max: 1, testOnReturn: true });
    const first = await pool.acquire();
    isValid = false;
    await pool.release(first);
    expect(factory.destroyed).toBe(1);
    isValid = true;
    expect((await pool.use((resource) => resource.id))).toBe(1);
    await stopPool(pool);
  });

  test('validate is called as a method of the factory (this is the factory)', async () => {
    class Factory extends CountingFactory {
      calls = 0;
      override validate(): Promise<boolean> {
        this.calls++;
        return Promise.resolve(true);
      }
    }
    const factory = new Factory();
    const pool = createPool(factory, { testOnBorrow: true });
    await pool.release(await pool.acquire());
    await pool.release(await pool.acquire());
    expect(factory.calls).toBeGreaterThanOrEqual(1);
    await stopPool(pool);
  });
});

describe('start, min, ready', () => {
  test('autostart false: nothing is created until start(); start creates min', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { min: 2, max: 4, autostart: false });
    await sleep(20);
    expect(factory.created).toBe(0);
    expect(pool.size).toBe(0);
    expect(pool.spareResourceCapacity).toBe(4);
    pool.start();
    await pool.ready();
    expect(factory.created).toBe(2);
    expect(pool.available).toBe(2);
    await stopPool(pool);
  });

  test('autostart false: the first acquire starts the pool', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { autostart: false });
    const resource = await pool.acquire();
    expect(resource.id).toBe(0);
    await pool.release(resource);
    await stopPool(pool);
  });

  test('autostart true: min resources are created at once; ready() resolves when they are available', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { min: 3, max: 5 });
    await pool.ready();
    expect(pool.available).toBeGreaterThanOrEqual(3);
    expect(pool.size).toBe(3);
    expect(pool.spareResourceCapacity).toBe(2);
    await stopPool(pool);
  });
});

describe('drain and clear', () => {
  test('clients already waiting when drain starts are still served; new acquires are refused', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const held = await pool.acquire();
    const waiting = pool.acquire();
    const drained = pool.drain();
    await expect(pool.acquire()).rejects.toThrow('pool is draining and cannot accept work');
    await pool.release(held);
    const served = await waiting;
    let isDrained = false;
    void drained.then(() => (isDrained = true));
    await sleep(10);
    expect(isDrained).toBe(false);
    await pool.release(served);
    await drained;
    await pool.clear();
    expect(pool.size).toBe(0);
  });

  test('drain then clear destroys every resource created', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { max: 4, min: 2 });
    const resources = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const resource of resources) await pool.release(resource);
    await stopPool(pool);
    expect(factory.destroyed).toBe(factory.created);
    expect(pool.stats().created).toBe(pool.stats().destroyed);
  });

  test('clear without drain destroys the idle resources and the pool tops min up again', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { max: 4, min: 2 });
    await pool.ready();
    await pool.clear();
    expect(factory.destroyed).toBe(2);
    await pool.ready();
    const resource = await pool.acquire();
    expect(resource.id).toBeGreaterThanOrEqual(2);
    await pool.release(resource);
    await stopPool(pool);
  });

  test('a rejecting factory.destroy is emitted as factoryDestroyError, never thrown', async () => {
    const failure = new Error('close failed');
    const pool = createPool({ create: () => Promise.resolve({}), destroy: () => Promise.reject(failure) });
    const emitted = new Promise((resolve) => pool.on('factoryDestroyError', resolve));
    await pool.destroy(await pool.acquire());
    expect(await emitted).toBe(failure);
    await stopPool(pool);
  });
});

describe('the Promise option', () => {
  test('returned promises come from the given library', async () => {
    class TaggedPromise<T> extends Promise<T> {}
    const pool = createPool(new CountingFactory(), { Promise: TaggedPromise });
    const acquiring = pool.acquire();
    expect(acquiring).toBeInstanceOf(TaggedPromise);
    const resource = await acquiring;
    expect(pool.release(resource)).toBeInstanceOf(TaggedPromise);
    expect(pool.release(resource).catch(() => undefined)).toBeInstanceOf(TaggedPromise);
    expect(pool.drain()).toBeInstanceOf(TaggedPromise);
    await pool.clear();
  });
});
