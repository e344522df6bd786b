/**
 * generic-pool 3.9's own public-API test cases (test/generic-pool-test.js, the acquire- and
 * destroy-timeout files, GH-159), restated in vitest against @pool/generic-pool. Real timers with
 * the upstream's small delays: generic-pool users have no injected clock.
 */
import { describe, expect, test } from 'vitest';
import { createPool } from '../src/index.js';
import { CountingFactory, sleep, stopPool } from './helpers.js';

type Resource = { id: number };

describe('generic-pool-test.js', () => {
  test('min and max default to 0 and 1', async () => {
    const pool = createPool(new CountingFactory());
    expect(pool.max).toBe(1);
    expect(pool.min).toBe(0);
    await stopPool(pool);
  });

  test('malformed min and max are ignored', async () => {
    const pool = createPool(new CountingFactory(), { min: 'asf' as unknown as number, max: [] as unknown as number });
    expect(pool.max).toBe(1);
    expect(pool.min).toBe(0);
    await stopPool(pool);
  });

  test('min greater than max is lowered to max', async () => {
    const pool = createPool(new CountingFactory(), { min: 5, max: 3 });
    expect(pool.max).toBe(3);
    expect(pool.min).toBe(3);
    await stopPool(pool);
  });

  test('priority 0 is served before priority 1', async () => {
    const pool = createPool(new CountingFactory(), { max: 1, priorityRange: 2 });
    const order: string[] = [];
    const take = (priority: number, label: string) =>
      pool.acquire(priority).then((resource) => {
        order.push(label);
        void pool.release(resource);
      });
    const operations = [];
    for (let i = 0; i < 10; i++) operations.push(take(1, 'low'));
    for (let i = 0; i < 10; i++) operations.push(take(0, 'high'));
    await Promise.all(operations);
    expect(order).toHaveLength(20);
    // The last high-priority borrower is served no later than the last low-priority one.
    expect(order.lastIndexOf('low')).toBeGreaterThan(order.lastIndexOf('high'));
    await stopPool(pool);
  });

  test('the evictor replaces resources idle past idleTimeoutMillis', async () => {
    const pool = createPool(new CountingFactory(), { min: 2, max: 2, idleTimeoutMillis: 50, evictionRunIntervalMillis: 10 });
    await sleep(120);
    const resource = (await pool.acquire()) as Resource;
    expect(resource.id).toBeGreaterThan(1);
    await pool.release(resource);
    await stopPool(pool);
  });

  test('drain waits for borrowed resources; acquire rejects afterwards', async () => {
    const pool = createPool(new CountingFactory(), { max: 2, idletimeoutMillis: 300000 } as never);
    let acquired = 0;
    const operations = Array.from({ length: 5 }, () =>
      pool.acquire().then((client) => {
        acquired++;
        expect(typeof (client as Resource).id).toBe('number');
        setTimeout(() => void pool.release(client), 250);
      }),
    );
    expect(acquired).not.toBe(5);
    await Promise.all(operations);
    await pool.drain();
    expect(acquired).toBe(5);
    void pool.clear();
    await expect(pool.acquire()).rejects.toBeInstanceOf(Error);
  });

  test('acquire survives creation errors (4 failures, then a resource)', async () => {
    let created = 0;
    const pool = createPool(
      {
        create: () => (++created < 5 ? Promise.reject(new Error('Error occurred.')) : Promise.resolve({ id: created })),
        destroy: () => undefined,
      },
      { max: 1 },
    );
    const client = await pool.acquire();
    expect(typeof client.id).toBe('number');
    await pool.release(client);
    expect(pool.pending).toBe(0);
    await stopPool(pool);
  });

  test('each of 5 creation errors is emitted as factoryCreateError, then acquire resolves', async () => {
    let attempts = 0;
    const pool = createPool(
      {
        create: () => (++attempts <= 5 ? Promise.reject(new Error('Error occurred.')) : Promise.resolve({ id: attempts })),
        destroy: () => Promise.resolve(),
      },
      { max: 1 },
    );
    let errorCount = 0;
    pool.on('factoryCreateError', (error) => {
      expect(error).toBeInstanceOf(Error);
      errorCount++;
    });
    const client = await pool.acquire();
    expect(typeof client.id).toBe('number');
    await pool.release(client);
    expect(errorCount).toBe(5);
    expect(pool.pending).toBe(0);
    await stopPool(pool);
  });

  test('size counts every resource, free or borrowed', async () => {
    const pool = createPool(new CountingFactory(), { max: 2 });
    expect(pool.size).toBe(0);
    const first = await pool.acquire();
    expect(pool.size).toBe(1);
    const second = await pool.acquire();
    expect(pool.size).toBe(2);
    void pool.release(first);
    void pool.release(second);
    const again = await pool.acquire();
    expect(pool.size).toBe(2);
    await pool.release(again);
    await stopPool(pool);
  });

  test('available counts idle resources, synchronously after release', async () => {
    const pool = createPool(new CountingFactory(), { max: 2 });
    expect(pool.available).toBe(0);
    const first = await pool.acquire();
    expect(pool.available).toBe(0);
    const second = await pool.acquire();
    expect(pool.available).toBe(0);
    void pool.release(first);
    expect(pool.available).toBe(1);
    void pool.release(second);
    expect(pool.available).toBe(2);
    const again = await pool.acquire();
    expect(pool.available).toBe(1);
    void pool.release(again);
    expect(pool.available).toBe(2);
    await stopPool(pool);
  });

  test('a create that failed is scheduled again', async () => {
    let attempts = 0;
    const pool = createPool(
      { create: () => (++attempts < 2 ? Promise.reject(new Error('Create Error')) : Promise.resolve({})), destroy: () => undefined },
      { max: 1 },
    );
    const resource = await pool.acquire();
    expect(pool.available).toBe(0);
    await pool.release(resource);
    await stopPool(pool);
  });

  test('release of an object not from the pool rejects and changes nothing', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const resource = await pool.acquire();
    expect(pool.available).toBe(0);
    expect(pool.borrowed).toBe(1);
    await expect(pool.release({ id: -1 })).rejects.toThrow(/Resource not currently part of this pool/);
    expect(pool.available).toBe(0);
    expect(pool.borrowed).toBe(1);
    void pool.release(resource);
    expect(pool.available).toBe(1);
    expect(pool.borrowed).toBe(0);
    await stopPool(pool);
  });

  test('acquire takes the resource out of available into borrowed', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const resource = await pool.acquire();
    expect(pool.available).toBe(0);
    expect(pool.borrowed).toBe(1);
    await pool.release(resource);
    await stopPool(pool);
  });

  test('release hands the resource to the next waiter', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const first = pool.acquire().then((resource) => {
      expect([pool.available, pool.borrowed, pool.pending]).toEqual([0, 1, 1]);
      void pool.release(resource);
    });
    const second = pool.acquire().then((resource) => {
      expect([pool.available, pool.borrowed, pool.pending]).toEqual([0, 1, 0]);
      void pool.release(resource);
    });
    await Promise.all([first, second]);
    await stopPool(pool);
  });

  test('isBorrowedResource is true for a borrowed resource', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const resource = await pool.acquire();
    expect(pool.isBorrowedResource(resource)).toBe(true);
    await pool.release(resource);
    await stopPool(pool);
  });

  test('isBorrowedResource is false once released', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const resource = await pool.acquire();
    void pool.release(resource);
    expect(pool.isBorrowedResource(resource)).toBe(false);
    await stopPool(pool);
  });

  test('destroy lets the next waiter have a new resource', async () => {
    const pool = createPool(new CountingFactory(), { max: 1 });
    const first = pool.acquire().then((resource) => {
      expect([pool.available, pool.borrowed, pool.pending]).toEqual([0, 1, 1]);
      void pool.destroy(resource);
    });
    const second = pool.acquire().then((resource) => {
      expect([pool.available, pool.borrowed, pool.pending]).toEqual([0, 1, 0]);
      expect((resource as Resource).id).toBe(1);
      void pool.release(resource);
    });
    await Promise.all([first, second]);
    await stopPool(pool);
  });

  test('use() hands the first resource to fn', async () => {
    const pool = createPool(new CountingFactory());
    await pool.use((resource) => {
      expect(resource.id).toBe(0);
      return Promise.resolve();
    });
    await stopPool(pool);
  });

  test("use() resolves with fn's value after fn's promise resolves", async () => {
    const pool = createPool(new CountingFactory());
    let isDone = false;
    const value = await pool.use(
      () =>
        new Promise<string>((resolve) =>
          setImmediate(() => {
            isDone = true;
            resolve('value');
          }),
        ),
    );
    expect(isDone).toBe(true);
    expect(value).toBe('value');
    await stopPool(pool);
  });

  test('with softIdleTimeoutMillis -1 and the default idleTimeoutMillis nothing is evicted', async () => {
    const factory = new CountingFactory();
    const pool = createPool(factory, { evictionRunIntervalMillis: 10 });
    await pool.release(await pool.acquire());
    await sleep(30);
    expect(factory.destroyed).toBe(0);
    await stopPool(pool);
  });

  test('maxWaitingClients 0: a full pool rejects the next acquire', async () => {
    const pool = createPool(new CountingFactory(), { max: 2, maxWaitingClients: 0 });
    expect(pool.size).toBe(0);
    await pool.acquire();
    expect(pool.size).toBe(1);
    await pool.acquire();
    expect(pool.size).toBe(2);
    await expect(pool.acquire()).rejects.toThrow('max waitingClients count exceeded');
  });
});

describe('generic-pool-acquiretimeout-test.js', () => {
  test('an acquire waiting past acquireTimeoutMillis rejects ResourceRequest timed out', async () => {
    const pool = createPool(
      { create: () => new Promise<object>((resolve) => setTimeout(() => resolve({}), 100)), destroy: () => Promise.resolve() },
      { acquireTimeoutMillis: 20, idleTimeoutMillis: 150, log: false } as never,
    );
    await expect(pool.acquire()).rejects.toThrow(/ResourceRequest timed out/);
    await stopPool(pool);
  });

  test('an acquire served in time resolves with the resource', async () => {
    const mine = {};
    const pool = createPool(
      { create: () => new Promise<object>((resolve) => setTimeout(() => resolve(mine), 10)), destroy: () => Promise.resolve() },
      { acquireTimeoutMillis: 400 },
    );
    const resource = await pool.acquire();
    expect(resource).toBe(mine);
    void pool.release(resource);
    await stopPool(pool);
  });
});

describe('generic-pool-destroytimeout-test.js', () => {
  const slowDestroy = (ms: number) => ({
    create: () => Promise.resolve({}),
    destroy: () => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  });

  test('a destroy slower than destroyTimeoutMillis emits factoryDestroyError destroy timed out', async () => {
    const pool = createPool(slowDestroy(100), { destroyTimeoutMillis: 20 });
    const resource = await pool.acquire();
    void pool.destroy(resource);
    const error = await new Promise((resolve) => pool.on('factoryDestroyError', resolve));
    expect(String(error)).toMatch(/destroy timed out/);
  });

  test('a destroy within destroyTimeoutMillis emits nothing', async () => {
    const pool = createPool(slowDestroy(10), { destroyTimeoutMillis: 400 });
    const resource = await pool.acquire();
    void pool.destroy(resource);
    let errors = 0;
    pool.on('factoryDestroyError', () => errors++);
    await sleep(20);
    expect(errors).toBe(0);
  });
});

describe('GH-159-test.js', () => {
  test('drain then clear right after start with min > 0 destroys everything created', async () => {
    let calls = 0;
    const factory = new CountingFactory();
    const slowEveryOther = {
      create: () =>
        new Promise<{ id: number }>((resolve) => {
          if (calls++ % 2 === 0) setTimeout(() => resolve({ id: factory.created++ }), 10);
          else resolve({ id: factory.created++ });
        }),
      validate: () => Promise.resolve(true),
      destroy: (resource: { id: number }) => factory.destroy(resource),
    };
    const pool = createPool(slowEveryOther, { max: 10, min: 1, evictionRunIntervalMillis: 500, idleTimeoutMillis: 30000, testOnBorrow: true, autostart: true });
    await pool.drain();
    await pool.clear();
    expect(factory.created).toBe(factory.destroyed);
  });
});

describe('evictor start (generic-pool-test.js, peeks at _scheduledEviction)', () => {
  test('with autostart false eviction is scheduled by the first acquire', async () => {
    const pool = createPool(new CountingFactory(), { evictionRunIntervalMillis: 10000, autostart: false });
    expect(pool._scheduledEviction).toBe(null);
    const resource = await pool.acquire();
    expect(pool._scheduledEviction).not.toBe(null);
    void pool.release(resource);
    await stopPool(pool);
  });
});

describe('generic-pool-maxtries-test.js (the maxTries option of node-pool #184)', () => {
  const failing = (failures: number, resource: object = {}) => {
    let attempts = 0;
    return {
      create: () => (++attempts <= failures ? Promise.reject(new Error('Create Error')) : Promise.resolve(resource)),
      destroy: () => Promise.resolve(),
    };
  };

  test('an acquire whose maxTries creates all fail rejects ResourceCreationError', async () => {
    const pool = createPool(failing(4), { maxTries: 3 });
    const error = await pool.acquire().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(String(error)).toMatch(/ResourceCreationError: Failed to create resource/);
    await stopPool(pool);
  });

  test('an acquire whose create succeeds within maxTries resolves', async () => {
    const mine = {};
    const pool = createPool(failing(1, mine), { maxTries: 3 });
    const resource = await pool.acquire();
    expect(resource).toBe(mine);
    void pool.release(resource);
    await stopPool(pool);
  });
});
