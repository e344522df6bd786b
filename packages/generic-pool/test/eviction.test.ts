/** The README's "Idle Object Eviction": off by default, evictionRunIntervalMillis, the idle timeouts, numTestsPerEvictionRun, custom evictors. */
import { describe, expect, test } from 'vitest';
import { DefaultEvictor, Pool, createPool, type EvictionConfig, type PooledResource } from '../src/index.js';
import { CountingFactory, sleep, stopPool } from './helpers.js';

async function fill<T>(pool: Pool<T>, count: number): Promise<void> {
  const resources = await Promise.all(Array.from({ length: count }, () => pool.acquire()));
  for (const resource of resources) await pool.release(resource);
}

describe('eviction', () => {
  test('without evictionRunIntervalMillis nothing is evicted, however long it idles (node-pool #178)', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { max: 2, idleTimeoutMillis: 1 });
    await fill(pool, 2);
    await sleep(50);
    expect(factory.destroyed).toBe(0);
    await stopPool(pool);
  });

  test('softIdleTimeoutMillis evicts only while more than min are idle', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { max: 4, min: 1, softIdleTimeoutMillis: 20, evictionRunIntervalMillis: 10, numTestsPerEvictionRun: 10 });
    await fill(pool, 4);
    await sleep(200);
    expect(factory.destroyed).toBe(3);
    expect(pool.available).toBe(1);
    await stopPool(pool);
  });

  test('numTestsPerEvictionRun bounds the evictions of one run', async () => {
    const factory = new CountingFactory();
    const destroyedAt: number[] = [];
    const original = factory.destroy.bind(factory);
    factory.destroy = (resource) => {
      destroyedAt.push(Date.now());
      return original(resource);
    };
    const pool = createPool(factory, { max: 3, idleTimeoutMillis: 1, evictionRunIntervalMillis: 150, numTestsPerEvictionRun: 1 });
    await fill(pool, 3);
    while (destroyedAt.length < 3) await sleep(20);
    // One resource per run: runs are at least the interval apart (timers fire late, never early).
    expect(destroyedAt[1]! - destroyedAt[0]!).toBeGreaterThanOrEqual(100);
    expect(destroyedAt[2]! - destroyedAt[1]!).toBeGreaterThanOrEqual(100);
    await stopPool(pool);
  });

  test('each run evicts up to numTestsPerEvictionRun resources, not one (node-pool #200)', async () => {
    const factory = new CountingFactory();
    const destroyedAt: number[] = [];
    const original = factory.destroy.bind(factory);
    factory.destroy = (resource) => {
      destroyedAt.push(Date.now());
      return original(resource);
    };
    const pool = createPool(factory, { max: 6, idleTimeoutMillis: 5, softIdleTimeoutMillis: 5, evictionRunIntervalMillis: 300 });
    await fill(pool, 6);
    while (destroyedAt.length < 6) await sleep(20);
    // Destroys of one run happen in the same tick; runs are 300 ms apart. Group them by run.
    const runs: number[] = [1];
    for (let i = 1; i < destroyedAt.length; i++) {
      if (destroyedAt[i]! - destroyedAt[i - 1]! < 100) runs[runs.length - 1]!++;
      else runs.push(1);
    }
    // Never more than numTestsPerEvictionRun (3, the default) in a run, and more than one in some run.
    expect(Math.max(...runs)).toBeLessThanOrEqual(3);
    expect(Math.max(...runs)).toBeGreaterThan(1);
    expect(runs.length).toBeLessThan(6);
    await stopPool(pool);
  });

  test('a custom Evictor passed to new Pool() judges each idle resource', async () => {
    const seen: { config: EvictionConfig; resource: PooledResource<unknown>; available: number }[] = [];
    class EvictIdOne {
      evict(config: EvictionConfig, resource: PooledResource<unknown>, available: number): boolean {
        seen.push({ config, resource, available });
        return (resource.obj as { id: number }).id === 1;
      }
    }
    const factory = new CountingFactory();
    const pool = new Pool(EvictIdOne, undefined, undefined, factory, { max: 2, evictionRunIntervalMillis: 10, numTestsPerEvictionRun: 5 });
    await fill(pool, 2);
    await sleep(80);
    expect(factory.bin.map((resource) => resource.id)).toEqual([1]);
    const first = seen[0]!;
    expect(first.config).toEqual({ softIdleTimeoutMillis: -1, idleTimeoutMillis: 30000, min: 0 });
    expect(first.available).toBe(2);
    expect(first.resource.lastBorrowTime).not.toBe(null);
    expect(first.resource.lastReturnTime).not.toBe(null);
    expect(first.resource.lastIdleTime).toBe(first.resource.lastReturnTime);
    await stopPool(pool);
  });

  test('DefaultEvictor: idleTimeoutMillis always, softIdleTimeoutMillis above min', () => {
    const evictor = new DefaultEvictor();
    const idleFor = (ms: number) => ({ obj: {}, creationTime: 0, lastBorrowTime: null, lastReturnTime: null, lastIdleTime: Date.now() - ms });
    const config = { softIdleTimeoutMillis: 100, idleTimeoutMillis: 1000, min: 2 };
    expect(evictor.evict(config, idleFor(2000), 1)).toBe(true);
    expect(evictor.evict(config, idleFor(500), 3)).toBe(true);
    expect(evictor.evict(config, idleFor(500), 2)).toBe(false);
    expect(evictor.evict(config, idleFor(50), 3)).toBe(false);
  });

  test('eviction stops when drain starts', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { max: 2, idleTimeoutMillis: 30, evictionRunIntervalMillis: 10 });
    const held = await pool.acquire();
    await fill(pool, 1);
    const drained = pool.drain();
    await sleep(100);
    expect(factory.destroyed).toBe(0);
    await pool.release(held);
    await drained;
    expect(pool._scheduledEviction).toBe(null);
    await pool.clear();
  });
});
