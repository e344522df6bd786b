/**
 * The failing factory generic-pool users reported (node-pool #175, #183, #194, #273, #256): here an
 * acquire settles with ResourceCreationError, creates are bounded and backed off, and drain stops them.
 */
import { isPoolError } from '@pool/core';
import { describe, expect, test } from 'vitest';
import { ResourceCreationError, createPool } from '../src/index.js';
import { sleep } from './helpers.js';

function failingFactory(how: 'reject' | 'throw' = 'reject') {
  const factory = {
    creates: 0,
    create(): Promise<object> {
      factory.creates++;
      const error = new Error(`connect ECONNREFUSED (create #${factory.creates})`);
      if (how === 'throw') throw error;
      return Promise.reject(error);
    },
    destroy: () => Promise.resolve(),
  };
  return factory;
}

const fastRetry = { createRetry: { baseDelayMs: 5, maxDelayMs: 20 } };

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('a factory whose create always fails', () => {
  test('every waiting acquire rejects ResourceCreationError with the factory error as cause', async () => {
    const factory = failingFactory();
    const pool = createPool(factory, { max: 2, maxTries: 3, core: fastRetry });
    const emitted: unknown[] = [];
    pool.on('factoryCreateError', (error) => emitted.push(error));
    const errors = await Promise.all(Array.from({ length: 5 }, () => rejectionOf(pool.acquire())));
    for (const error of errors) {
      expect(error).toBeInstanceOf(ResourceCreationError);
      expect(isPoolError(error, 'CREATE_FAILED')).toBe(true);
      expect((error as Error).message).toMatch(/^Failed to create resource: connect ECONNREFUSED/);
      expect(((error as Error).cause as Error).message).toMatch(/ECONNREFUSED/);
    }
    // Bounded: at most maxTries creates per acquire, each failure emitted once.
    expect(factory.creates).toBeGreaterThanOrEqual(3);
    expect(factory.creates).toBeLessThanOrEqual(5 * 3);
    expect(emitted).toHaveLength(factory.creates);
    expect(pool.pending).toBe(0);
    // No spinning in the background once nobody waits.
    const settledAt = factory.creates;
    await sleep(200);
    expect(factory.creates).toBe(settledAt);
    await pool.drain();
    await pool.clear();
  });

  test('a create that throws synchronously is a failed create too (node-pool #194)', async () => {
    const factory = failingFactory('throw');
    const pool = createPool(factory, { maxTries: 2, core: fastRetry });
    const error = await rejectionOf(pool.acquire());
    expect(error).toBeInstanceOf(ResourceCreationError);
    expect(factory.creates).toBe(2);
    await pool.drain();
  });

  test('with the defaults an acquire gets its error after 8 tries, backed off', async () => {
    const factory = failingFactory();
    const pool = createPool(factory);
    const started = Date.now();
    const error = await rejectionOf(pool.acquire());
    const elapsedMs = Date.now() - started;
    expect(error).toBeInstanceOf(ResourceCreationError);
    expect(factory.creates).toBe(8);
    // Full-jitter backoff of 50 ms doubling to 2 s: at most 5.15 s of waiting in all.
    expect(elapsedMs).toBeLessThan(15_000);
    await pool.drain();
  }, 20_000);

  test('drain while an acquire retries: the acquire settles, drain resolves, creating stops (node-pool #256)', async () => {
    const factory = failingFactory();
    const pool = createPool(factory, { max: 3, maxTries: 4, core: fastRetry });
    const waiting = rejectionOf(pool.acquire());
    await sleep(5);
    const drained = pool.drain();
    await expect(pool.acquire()).rejects.toThrow('pool is draining and cannot accept work');
    expect(await waiting).toBeInstanceOf(ResourceCreationError);
    await drained;
    await pool.clear();
    const afterDrain = factory.creates;
    expect(afterDrain).toBeLessThanOrEqual(4);
    await sleep(200);
    expect(factory.creates).toBe(afterDrain);
  });

  test('drain with min > 0 stops the warm-up creates', async () => {
    const factory = failingFactory();
    // evictionRunIntervalMillis makes the engine's maintenance (and so warm-up) tick every 20 ms.
    const pool = createPool(factory, { min: 2, max: 4, evictionRunIntervalMillis: 20 });
    await sleep(100);
    expect(factory.creates).toBeGreaterThan(0);
    await pool.drain();
    await pool.clear();
    const afterDrain = factory.creates;
    await sleep(200);
    expect(factory.creates).toBe(afterDrain);
  });

  test('once many creates in a row failed the circuit opens: acquires fail fast, without a create', async () => {
    const factory = failingFactory();
    const pool = createPool(factory, { max: 10, maxTries: 1, core: { circuitBreaker: { failureThreshold: 10, cooldownMs: 60_000 } } });
    await Promise.all(Array.from({ length: 10 }, () => rejectionOf(pool.acquire())));
    const before = factory.creates;
    expect(before).toBe(10);
    const error = await rejectionOf(pool.acquire());
    expect(error).toBeInstanceOf(ResourceCreationError);
    expect(((error as Error).cause as Error).message).toMatch(/ECONNREFUSED/);
    expect(factory.creates).toBe(before);
    expect(pool.stats().nodes['default']?.circuit).toBe('open');
    await pool.drain();
  });

  test('ready() rejects with the factory error after maxTries failed warm-up creates', async () => {
    const factory = failingFactory();
    const pool = createPool(factory, { min: 1, maxTries: 3, evictionRunIntervalMillis: 20 });
    const error = await rejectionOf(pool.ready());
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(factory.creates).toBeGreaterThanOrEqual(3);
    await pool.drain();
  });

  test('a factoryCreateError listener that throws does not break the pool', async () => {
    let creates = 0;
    const pool = createPool(
      { create: () => (++creates === 1 ? Promise.reject(new Error('first fails')) : Promise.resolve({ id: creates })), destroy: () => undefined },
      { core: fastRetry },
    );
    pool.on('factoryCreateError', () => {
      throw new Error('listener bug');
    });
    const resource = await pool.acquire();
    expect(resource.id).toBe(2);
    await pool.release(resource);
    await pool.drain();
  });
});
