import { describe, expect, it } from 'vitest';
import { createPool, openProcessHolds, type ConnectionFactory, type PoolNode } from '@pool/core';
import { FakeClock, flushPromises, trackingFactory } from '@pool/testkit';

/** Holds beyond those open when the test started (other tests in the file settle theirs). */
function holdsNow(base: number): number {
  return openProcessHolds() - base;
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('process holds (DESIGN: Process lifetime)', () => {
  it('a waiter for capacity holds the process until it times out; the fast path takes no hold', async () => {
    const base = openProcessHolds();
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, clock });
    const lease = await pool.acquire();
    expect(holdsNow(base)).toBe(0);
    const waiting = pool.acquire({ timeoutMs: 500 });
    waiting.catch(() => undefined);
    expect(holdsNow(base)).toBe(1);
    await clock.advance(500);
    await expect(waiting).rejects.toMatchObject({ code: 'ACQUIRE_TIMEOUT' });
    expect(holdsNow(base)).toBe(0);
    await lease.release();
    const again = pool.tryAcquire();
    expect(again).toBeDefined();
    expect(holdsNow(base)).toBe(0);
    await again!.release();
    const fast = await pool.acquire();
    expect(holdsNow(base)).toBe(0);
    await fast.release();
    await pool.drain();
    expect(holdsNow(base)).toBe(0);
  });

  it('holds while a create is under way for the acquire, and lets go when it is served', async () => {
    const base = openProcessHolds();
    const gate = deferred();
    const factory = trackingFactory();
    factory.gate = gate.promise;
    const pool = createPool({ factory, clock: new FakeClock() });
    const waiting = pool.acquire();
    await flushPromises();
    expect(factory.createCalls).toBe(1);
    expect(holdsNow(base)).toBe(1);
    gate.resolve();
    const lease = await waiting;
    expect(holdsNow(base)).toBe(0);
    await lease.release();
    await pool.drain();
  });

  it('holds through a create retry backoff until CREATE_FAILED', async () => {
    const base = openProcessHolds();
    const clock = new FakeClock();
    const factory = trackingFactory();
    factory.failingNodes.add('default');
    const pool = createPool({ factory, clock, createRetry: { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 1_000 }, circuitBreaker: false });
    const waiting = pool.acquire({ timeoutMs: 60_000 });
    waiting.catch(() => undefined);
    await flushPromises();
    expect(factory.createCalls).toBe(1);
    expect(holdsNow(base)).toBe(1); // in the backoff now
    await clock.advance(2_000);
    await expect(waiting).rejects.toMatchObject({ code: 'CREATE_FAILED' });
    expect(factory.createCalls).toBe(3);
    expect(holdsNow(base)).toBe(0);
    await pool.drain();
  });

  it('holds while the connection it will get is validated, and while a release awaits an async reset', async () => {
    const base = openProcessHolds();
    const clock = new FakeClock();
    const validation = deferred<boolean>();
    const reset = deferred();
    let validations = 0;
    const inner = trackingFactory();
    const factory: ConnectionFactory<unknown, PoolNode> = {
      create: inner.create,
      destroy: inner.destroy,
      validate: () => (validations++ === 0 ? validation.promise : true),
      reset: () => reset.promise,
    };
    const pool = createPool({ factory, clock, maxPerNode: 1, validateOnAcquire: true });
    const first = await pool.acquire();
    const releasing = first.release();
    expect(holdsNow(base)).toBe(1); // the release awaits the reset
    reset.resolve();
    await releasing;
    expect(holdsNow(base)).toBe(0);
    const waiting = pool.acquire();
    await flushPromises();
    expect(validations).toBe(1);
    expect(holdsNow(base)).toBe(1);
    validation.resolve(true);
    const second = await waiting;
    expect(holdsNow(base)).toBe(0);
    await second.release();
    await pool.drain();
    expect(holdsNow(base)).toBe(0);
  });

  it('lets go of every waiter when the pool drains or an abort ends the wait', async () => {
    const base = openProcessHolds();
    const pool = createPool({ factory: trackingFactory(), maxPerNode: 1, clock: new FakeClock() });
    const lease = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal });
    const drained = [pool.acquire(), pool.acquire({ priority: 5 })];
    for (const promise of [aborted, ...drained]) promise.catch(() => undefined);
    expect(holdsNow(base)).toBe(3);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    expect(holdsNow(base)).toBe(2);
    const draining = pool.drain();
    await Promise.all(drained.map((promise) => expect(promise).rejects.toMatchObject({ code: 'POOL_CLOSED' })));
    // The waiters' holds are gone; the drain itself holds until it settles (it waits for the lease).
    expect(holdsNow(base)).toBe(1);
    await lease.release();
    await draining;
    await Promise.resolve();
    expect(holdsNow(base)).toBe(0);
  });
});
