import { describe, expect, it } from 'vitest';
import { createPool, type DestroyReason } from '@pool/core';
import { FakeClock, flushPromises, trackingFactory } from '@pool/testkit';

function destroyReasons(pool: { on: (event: 'destroy', listener: (event: { reason: DestroyReason }) => void) => unknown }): DestroyReason[] {
  const reasons: DestroyReason[] = [];
  pool.on('destroy', (event) => reasons.push(event.reason));
  return reasons;
}

describe('connection lifecycle', () => {
  it('aborts the factory signal after createTimeoutMs and fails the waiter with CREATE_FAILED', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    let seenSignal: AbortSignal | undefined;
    factory.create = (_node, ctx) => {
      seenSignal = ctx.signal;
      return new Promise(() => undefined); // never answers, ignores the signal
    };
    const pool = createPool({ factory, clock, createTimeoutMs: 500, createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
    const acquiring = pool.acquire().catch((error: unknown) => error);
    await clock.advance(499);
    expect(seenSignal?.aborted).toBe(false);
    await clock.advance(1);
    expect(seenSignal?.aborted).toBe(true);
    const error = await acquiring;
    expect(error).toMatchObject({ code: 'CREATE_FAILED' });
    expect((error as Error).message).toMatch(/timed out after 500 ms/);
    expect(pool.stats()).toMatchObject({ total: 0, createFailures: 1 });
    await pool.drain();
  });

  it('closes idle connections above minIdlePerNode after idleTimeoutMs', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, idleTimeoutMs: 10_000, minIdlePerNode: 1, maxLifetimeMs: 0 });
    const reasons = destroyReasons(pool);
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    await Promise.all(leases.map((lease) => lease.release()));
    expect(pool.stats().idle).toBe(3);
    await clock.advance(9_000);
    expect(pool.stats().idle).toBe(3);
    await clock.advance(2_000);
    expect(pool.stats()).toMatchObject({ idle: 1, total: 1 });
    expect(reasons).toEqual(['idle', 'idle']);
    await pool.drain();
  });

  it('warms minIdlePerNode right after createPool, on every node', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    const pool = createPool({ factory, clock, minIdlePerNode: 2, nodes: [{ id: 'a' }, { id: 'b' }] });
    await flushPromises();
    expect(pool.stats().nodes).toMatchObject({ a: { idle: 2 }, b: { idle: 2 } });
    expect(factory.createCalls).toBe(4);
    // a destroyed warm connection is replaced by the maintainer
    factory.created[0]!.invalidate(new Error('peer went away'));
    await flushPromises();
    await clock.advance(1_000);
    expect(pool.stats().nodes.a).toMatchObject({ idle: 2 });
    await pool.drain();
  });

  it('keeps minIdlePerNode without extra creates while background validation checks the idle ones', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory({ withValidate: true });
    const pool = createPool({ factory, clock, minIdlePerNode: 2, healthCheckIntervalMs: 100, idleTimeoutMs: 0, maxLifetimeMs: 0 });
    await flushPromises();
    expect(factory.createCalls).toBe(2);
    for (let tick = 0; tick < 10; tick++) await clock.advance(100);
    expect(factory.validateCalls).toBeGreaterThanOrEqual(2);
    // A connection under validation is still one of the idle ones warm-up counts.
    expect(factory.createCalls).toBe(2);
    expect(pool.stats()).toMatchObject({ total: 2, idle: 2 });
    await pool.drain();
  });

  it('recycles connections past maxLifetimeMs (with jitter) when idle, never handing them out', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    const pool = createPool({ factory, clock, maxLifetimeMs: 60_000, lifetimeJitterMs: 6_000, idleTimeoutMs: 0 });
    const reasons = destroyReasons(pool);
    const lease = await pool.acquire();
    const first = lease.connection;
    await clock.advance(61_000);
    expect(reasons).toEqual([]); // leased: not cut off mid-use
    await lease.release();
    await flushPromises();
    expect(reasons).toEqual(['lifetime']);
    const next = await pool.acquire();
    expect(next.connection).not.toBe(first);
    await next.release();
    // idle past its lifetime: the maintainer recycles it
    await clock.advance(61_000);
    expect(reasons).toEqual(['lifetime', 'lifetime']);
    await pool.drain();
  });

  it('gives each connection a lifetime between max - jitter and max', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, maxLifetimeMs: 100_000, lifetimeJitterMs: 10_000, maxPerNode: 20, idleTimeoutMs: 0, healthCheckIntervalMs: 0 });
    const leases = await Promise.all(Array.from({ length: 20 }, () => pool.acquire()));
    await Promise.all(leases.map((lease) => lease.release()));
    await clock.advance(89_999);
    expect(pool.stats().total).toBe(20);
    await clock.advance(11_001);
    expect(pool.stats().total).toBe(0);
    await pool.drain();
  });

  it('destroys a connection after maxUses leases', async () => {
    const pool = createPool({ factory: trackingFactory(), maxUses: 2 });
    const reasons = destroyReasons(pool);
    const a = await pool.acquire();
    await a.release();
    const b = await pool.acquire();
    expect(b.connection).toBe(a.connection);
    expect(b.useCount).toBe(2);
    await b.release();
    expect(reasons).toEqual(['maxUses']);
    const c = await pool.acquire();
    expect(c.connection).not.toBe(a.connection);
    await c.release();
    await pool.drain();
  });

  it('validates on acquire only connections idle past idleForMs, replacing invalid ones', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory({ withValidate: true });
    const pool = createPool({ factory, clock, validateOnAcquire: { idleForMs: 500 }, healthCheckIntervalMs: 0 });
    const reasons = destroyReasons(pool);
    const lease = await pool.acquire();
    const first = lease.connection;
    await lease.release();
    await (await pool.acquire()).release();
    expect(factory.validateCalls).toBe(0);
    await clock.advance(600);
    first.isBad = true;
    const next = await pool.acquire();
    expect(factory.validateCalls).toBe(1);
    expect(next.connection).not.toBe(first);
    expect(reasons).toEqual(['invalid']);
    expect(pool.stats().validationFailures).toBe(1);
    await next.release();
    await pool.drain();
  });

  it('a burst after idle waits for the multiplexed connections being validated instead of creating more', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory({ withValidate: true });
    const pool = createPool({ factory, clock, maxLeasesPerConnection: 10, maxPerNode: 10, validateOnAcquire: { idleForMs: 500 }, healthCheckIntervalMs: 0 });
    const warm = await Promise.all(Array.from({ length: 20 }, () => pool.acquire()));
    await Promise.all(warm.map((lease) => lease.release()));
    expect(pool.stats().created).toBe(2);
    await clock.advance(600);
    // Both connections need a validation; the other 18 callers ride on them, as on a create.
    const burst = await Promise.all(Array.from({ length: 20 }, () => pool.acquire()));
    await flushPromises(); // a create started for the burst would finish here
    expect(factory.validateCalls).toBe(2);
    expect(factory.createCalls).toBe(2);
    expect(pool.stats()).toMatchObject({ created: 2, leases: 20 });
    await Promise.all(burst.map((lease) => lease.release()));
    // A failed validation sends its riders on to a create, as before.
    await clock.advance(600);
    for (const lease of warm) lease.connection.isBad = true;
    const afterBad = await Promise.all(Array.from({ length: 20 }, () => pool.acquire()));
    await flushPromises();
    expect(new Set(afterBad.map((lease) => lease.connection)).size).toBe(2);
    expect(pool.stats()).toMatchObject({ created: 4, destroyed: 2, validationFailures: 2 });
    await Promise.all(afterBad.map((lease) => lease.release()));
    await pool.drain();
  });

  it('a burst after idle rides on validations on another node rather than create on an empty one', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory({ withValidate: true });
    const pool = createPool({
      factory, clock, nodes: [{ id: 'a' }, { id: 'b' }], maxLeasesPerConnection: 10, maxPerNode: 10,
      validateOnAcquire: { idleForMs: 500 }, healthCheckIntervalMs: 0,
    });
    const warm = await Promise.all(Array.from({ length: 20 }, () => pool.acquire({ node: 'a' })));
    await Promise.all(warm.map((lease) => lease.release()));
    await clock.advance(600);
    // Node b has no connection, and the balancer prefers it for a create; a's two connections
    // are being validated and will carry the 20.
    const burst = await Promise.all(Array.from({ length: 20 }, () => pool.acquire()));
    await flushPromises();
    expect(factory.createCalls).toBe(2);
    expect(new Set(burst.map((lease) => lease.node.id))).toEqual(new Set(['a']));
    await Promise.all(burst.map((lease) => lease.release()));
    await pool.drain();
  });

  it('validateOnAcquire: true validates every time; false never', async () => {
    for (const [setting, expected] of [[true, 2], [false, 0]] as const) {
      const factory = trackingFactory({ withValidate: true });
      const pool = createPool({ factory, validateOnAcquire: setting });
      await (await pool.acquire()).release();
      await (await pool.acquire()).release();
      await (await pool.acquire()).release();
      expect(factory.validateCalls).toBe(expected);
      await pool.drain();
    }
  });

  it('validates on release when asked, and runs reset before a connection goes back to idle', async () => {
    const factory = trackingFactory({ withValidate: true, withReset: true });
    const pool = createPool({ factory, validateOnRelease: true, validateOnAcquire: false });
    const reasons = destroyReasons(pool);
    const lease = await pool.acquire();
    await lease.release();
    expect(factory.resetCalls).toBe(1);
    expect(factory.validateCalls).toBe(1);
    expect(pool.stats().idle).toBe(1);
    const again = await pool.acquire();
    again.connection.isBad = true;
    await again.release();
    expect(reasons).toEqual(['invalid']);
    expect(pool.stats().total).toBe(0);
    await pool.drain();
  });

  it('destroys a connection whose reset throws, reporting it on error', async () => {
    const factory = trackingFactory();
    factory.reset = () => { throw new Error('ROLLBACK failed'); };
    const pool = createPool({ factory });
    const errors: string[] = [];
    pool.on('error', (event) => errors.push(event.during));
    const reasons = destroyReasons(pool);
    await (await pool.acquire()).release();
    expect(reasons).toEqual(['broken']);
    expect(errors).toEqual(['reset']);
    await pool.drain();
  });

  it('health-checks idle connections in the background', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory({ withValidate: true });
    const pool = createPool({ factory, clock, healthCheckIntervalMs: 5_000, validateOnAcquire: false, idleTimeoutMs: 0, maxLifetimeMs: 0 });
    const reasons = destroyReasons(pool);
    const leases = await Promise.all([pool.acquire(), pool.acquire()]);
    await Promise.all(leases.map((lease) => lease.release()));
    leases[0]!.connection.isBad = true;
    await clock.advance(5_000);
    expect(factory.validateCalls).toBe(2);
    expect(reasons).toEqual(['invalid']);
    expect(pool.stats()).toMatchObject({ total: 1, idle: 1 });
    await pool.drain();
  });

  it('invalidate retires an idle connection at once and a leased one when released', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory });
    const reasons = destroyReasons(pool);
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    await a!.release();
    a!.connection.invalidate(new Error('ECONNRESET'));
    await flushPromises();
    expect(reasons).toEqual(['broken']);
    b!.connection.invalidate(new Error('GOAWAY'));
    expect(pool.stats().total).toBe(1);
    await b!.release();
    expect(reasons).toEqual(['broken', 'broken']);
    expect(pool.stats().total).toBe(0);
    const c = await pool.acquire();
    expect(c.connection.id).toBe(3);
    await c.release();
    await pool.drain();
  });

  it('lease.destroy closes the connection and frees capacity for the next waiter', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory, maxPerNode: 1 });
    const lease = await pool.acquire();
    const waiting = pool.acquire();
    await lease.destroy(new Error('protocol desync'));
    const next = await waiting;
    expect(next.connection.id).toBe(2);
    expect(factory.destroyed.map((connection) => connection.id)).toEqual([1]);
    await next.release();
    await pool.drain();
  });

  it('a factory that ignores its abort signal still cannot hang the pool; a late connection is destroyed', async () => {
    const clock = new FakeClock();
    let finish: (value: { id: number }) => void = () => undefined;
    const destroyed: number[] = [];
    const pool = createPool<{ id: number }>({
      clock,
      createTimeoutMs: 100,
      createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      factory: {
        create: () => new Promise((resolve) => { finish = resolve; }),
        destroy: (connection) => { destroyed.push(connection.id); },
      },
    });
    const acquiring = pool.acquire().catch((error: unknown) => error);
    await clock.advance(100);
    expect(await acquiring).toMatchObject({ code: 'CREATE_FAILED' });
    finish({ id: 7 });
    await flushPromises();
    expect(destroyed).toEqual([7]);
    expect(pool.stats()).toMatchObject({ total: 0, created: 0 });
    await pool.drain();
  });

  it('idleOrder picks the most recent (lifo) or the oldest (fifo) idle connection', async () => {
    for (const [idleOrder, expected] of [['lifo', 2], ['fifo', 1]] as const) {
      const pool = createPool({ factory: trackingFactory(), idleOrder });
      const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
      await a!.release();
      await b!.release();
      const next = await pool.acquire();
      expect(next.connection.id).toBe(expected);
      await next.release();
      await pool.drain();
    }
  });

  it('a synchronous reset hands the connection straight to the next waiter', async () => {
    const factory = trackingFactory({ withReset: true });
    const pool = createPool({ factory, maxPerNode: 1 });
    const held = await pool.acquire();
    let isServed = false;
    const next = pool.acquire().then((lease) => { isServed = true; return lease; });
    await flushPromises();
    const releasing = held.release();
    expect(factory.resetCalls).toBe(1);
    await releasing;
    await Promise.resolve();
    expect(isServed).toBe(true);
    await (await next).release();
    expect(factory.resetCalls).toBe(2);
    await pool.drain();
  });

  it('an asynchronous reset finishes before the connection is reused', async () => {
    const factory = trackingFactory();
    let resets = 0;
    factory.reset = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      resets++;
    };
    const pool = createPool({ factory, maxPerNode: 1 });
    const held = await pool.acquire();
    const next = pool.acquire();
    await held.release();
    expect(resets).toBe(1);
    const lease = await next;
    expect(lease.connection).toBe(held.connection);
    await lease.release();
    await pool.drain();
  });

  it('does not start a create when one already under way lost its waiter to another connection', async () => {
    let calls = 0;
    const pool = createPool({
      factory: {
        create: async () => {
          const delay = calls++ === 0 ? 20 : 5;
          await new Promise((resolve) => setTimeout(resolve, delay));
          return { id: calls };
        },
        destroy: () => undefined,
      },
    });
    const hold = () => pool.acquire().then((lease) => new Promise<void>((resolve) => setTimeout(() => { void lease.release().then(resolve); }, 30)));
    await Promise.all([hold(), hold()]);
    expect(pool.stats().created).toBe(2);
    await pool.drain();
  });

  it('lets a transport report background failures on error', async () => {
    const pool = createPool({ factory: trackingFactory() });
    const seen: unknown[] = [];
    pool.on('error', (event) => seen.push(event));
    pool.reportError(new Error('cancel failed'), 'cancel', 'default');
    expect(seen).toEqual([{ error: new Error('cancel failed'), during: 'cancel', node: 'default' }]);
    await pool.drain();
  });

  it('destroys a connection that a synchronous reset retired', async () => {
    const factory = trackingFactory();
    factory.reset = (connection) => { if (connection.isBad) connection.invalidate(new Error('unread bytes')); };
    const pool = createPool({ factory, maxPerNode: 1 });
    const reasons: string[] = [];
    pool.on('destroy', (event) => reasons.push(event.reason));
    const lease = await pool.acquire();
    const next = pool.acquire();
    lease.connection.isBad = true;
    await lease.release();
    expect(reasons).toEqual(['broken']);
    const fresh = await next;
    expect(fresh.connection).not.toBe(lease.connection);
    await fresh.release();
    await pool.drain();
  });
});
