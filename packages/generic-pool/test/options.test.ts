/** Options as generic-pool reads them, the facade's extensions (maxTries, core) and what is refused. */
import { isPoolError } from '@pool/core';
import { describe, expect, test } from 'vitest';
import { createPool } from '../src/index.js';
import { CountingFactory, stopPool } from './helpers.js';

function invalid(create: () => unknown): string {
  try {
    create();
  } catch (error) {
    expect(isPoolError(error, 'INVALID_OPTIONS')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_OPTIONS');
}

describe('options', () => {
  test('an unknown option is ignored like generic-pool does, with one warning naming the nearest option', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const pool = createPool(new CountingFactory(), { acquireTimeoutMilis: 10 } as never);
      const again = createPool(new CountingFactory(), { acquireTimeoutMilis: 10 } as never);
      await new Promise((resolve) => setImmediate(resolve));
      const mine = warnings.filter((warning) => warning.message.includes('acquireTimeoutMilis'));
      expect(mine).toHaveLength(1);
      expect(mine[0]!.message).toBe('@pool/generic-pool: unknown option acquireTimeoutMilis is ignored (did you mean acquireTimeoutMillis?)');
      expect((mine[0] as Error & { code?: string }).code).toBe('POOL_UNKNOWN_OPTION');
      await stopPool(pool);
      await stopPool(again);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('values generic-pool would fail on later are refused up front with INVALID_OPTIONS', () => {
    const factory = new CountingFactory();
    expect(invalid(() => createPool(factory, { acquireTimeoutMillis: 'soon' as never }))).toMatch(/acquireTimeoutMillis/);
    expect(invalid(() => createPool(factory, { acquireTimeoutMillis: -5 }))).toMatch(/acquireTimeoutMillis/);
    expect(invalid(() => createPool(factory, { destroyTimeoutMillis: -1 }))).toMatch(/destroyTimeoutMillis/);
    expect(invalid(() => createPool(factory, { maxTries: 0 }))).toMatch(/maxTries/);
    expect(invalid(() => createPool(factory, { Promise: {} as never }))).toMatch(/Promise/);
  });

  test('a factory without create or destroy is refused', () => {
    expect(invalid(() => createPool({ destroy: () => undefined } as never))).toMatch(/factory\.create/);
    expect(invalid(() => createPool({ create: () => ({}) } as never))).toMatch(/factory\.destroy/);
    expect(invalid(() => createPool({ create: () => ({}), destroy: () => undefined, validate: 1 } as never))).toMatch(/factory\.validate/);
  });

  test('core options: unknown names and ones generic-pool names itself are refused', () => {
    const factory = new CountingFactory();
    expect(invalid(() => createPool(factory, { core: { maxPerNode: 5 } as never }))).toBe('Invalid option core.maxPerNode: set it with the generic-pool option max');
    expect(invalid(() => createPool(factory, { core: { createRetri: {} } as never }))).toBe('Unknown option core.createRetri (did you mean core.createRetry?)');
    expect(invalid(() => createPool(factory, { core: { createRetry: { attempts: 0 } } }))).toMatch(/createRetry\.attempts/);
  });

  test('lenient numbers like generic-pool: a numeric string max, a non-numeric maxWaitingClients means no limit', async () => {
    const pool = createPool(new CountingFactory(), { max: '3' as never, maxWaitingClients: 'lots' as never });
    expect(pool.max).toBe(3);
    const held = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    const waiting = [pool.acquire(), pool.acquire()];
    expect(pool.pending).toBe(2);
    for (const resource of held) await pool.release(resource);
    for (const resource of await Promise.all(waiting)) await pool.release(resource);
    await stopPool(pool);
  });
});

describe('@pool/core underneath', () => {
  test('stats() and health() are core’s', async () => {
    const pool = createPool(new CountingFactory(), { max: 2 });
    await pool.use(() => 'x');
    const stats = pool.stats();
    expect(stats).toMatchObject({ total: 1, idle: 1, created: 1, acquired: 1, released: 1 });
    expect(stats.waitMs.count).toBeGreaterThanOrEqual(0);
    const health = await pool.health();
    expect(health.healthy).toBe(true);
    expect(pool.core?.stats().created).toBe(1);
    await stopPool(pool);
  });

  test('partitions: core.partitions and acquire(priority, { partition }) cap one kind of work', async () => {
    const pool = createPool(new CountingFactory(), { max: 4, core: { partitions: { batch: { max: 1 } } } });
    const first = await pool.acquire(0, { partition: 'batch' });
    let isSecondServed = false;
    const second = pool.acquire(0, { partition: 'batch' }).then((resource) => {
      isSecondServed = true;
      return resource;
    });
    const other = await pool.acquire();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isSecondServed).toBe(false);
    expect(pool.stats().partitions['batch']).toMatchObject({ active: 1, waiting: 1, max: 1 });
    await pool.release(first);
    await pool.release(await second);
    await pool.release(other);
    await expect(pool.acquire(0, { partition: 'nope' })).rejects.toSatisfy((error) => isPoolError(error, 'PARTITION_UNKNOWN'));
    await stopPool(pool);
  });

  test('an acquire signal aborts a waiting acquire (core option per call)', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(0, { signal: controller.signal });
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toSatisfy((error) => isPoolError(error, 'ABORTED'));
    expect(pool.pending).toBe(0);
    await pool.release(held);
    await stopPool(pool);
  });

  test('stats() before start starts the pool, like acquire()', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { autostart: false, min: 1 });
    expect(pool.core).toBe(undefined);
    expect(pool.stats().total).toBeGreaterThanOrEqual(0);
    await pool.ready();
    expect(factory.created).toBe(1);
    await stopPool(pool);
  });

  test('a pool drained before it started creates nothing, and stats() still answers', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { autostart: false, min: 2 });
    await pool.drain();
    expect(pool.stats()).toMatchObject({ total: 0, created: 0 });
    await pool.clear();
    await expect(pool.acquire()).rejects.toThrow('pool is draining and cannot accept work');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(factory.created).toBe(0);
  });
});
