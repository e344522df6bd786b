import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKET_BOUNDS_MS, createPool, type PoolEventName } from '@pool/core';
import { FakeClock, trackingFactory } from '@pool/testkit';

describe('stats', () => {
  it('is plain JSON data with wait and create percentiles', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, maxPerNode: 1, partitions: { api: { max: 1 } } });
    const held = await pool.acquire({ partition: 'api' });
    const waiting = pool.acquire();
    await clock.advance(40);
    await held.release();
    await (await waiting).release();
    const stats = pool.stats();
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
    expect(stats.waitMs.count).toBe(2);
    expect(stats.waitMs.max).toBe(40);
    expect(stats.waitMs.p99).toBeGreaterThanOrEqual(35);
    expect(stats.waitMs.p99).toBeLessThanOrEqual(40);
    expect(stats.waitMs.p50).toBe(0);
    expect(stats.createMs.count).toBe(1);
    expect(stats.partitions).toEqual({ api: { active: 0, waiting: 0, max: 1 } });
    await pool.drain();
  });

  it('keeps percentiles within the histogram resolution over many samples, in fixed memory', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, maxPerNode: 1, acquireTimeoutMs: 1e9 });
    let lease = await pool.acquire();
    for (let wait = 1; wait <= 200; wait++) {
      const next = pool.acquire();
      await clock.advance(wait);
      await lease.release();
      lease = await next;
    }
    const { waitMs } = pool.stats();
    expect(waitMs.count).toBe(201);
    expect(waitMs.p50).toBeGreaterThanOrEqual(100 * 0.875);
    expect(waitMs.p50).toBeLessThanOrEqual(100 * 1.125);
    expect(waitMs.p95).toBeGreaterThanOrEqual(190 * 0.875);
    expect(waitMs.max).toBe(200);
    await lease.release();
    await pool.drain();
  });
});

describe('stats for exporters', () => {
  it('names the pool, says its limits, and times how long leases are held (useMs)', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, name: 'orders', nodes: [{ id: 'a' }, { id: 'b' }], maxPerNode: 3, maxTotal: 5, minIdlePerNode: 1 });
    expect(createPool({ factory: trackingFactory() }).stats().name).toBe('pool');
    const lease = await pool.acquire();
    await clock.advance(120);
    await lease.release();
    const other = await pool.acquire();
    await clock.advance(3);
    await other.destroy();
    const stats = pool.stats();
    expect(stats).toMatchObject({ name: 'orders', max: 5, minIdle: 2 });
    expect(stats.useMs.count).toBe(2);
    expect(stats.useMs.max).toBe(120);
    expect(stats.useMs.sum).toBe(123);
    expect(stats.useMs.mean).toBe(61.5);
    await pool.drain();
  });

  it('counts every sample in fixed export buckets (upper bound inclusive), with the sum', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, maxPerNode: 1, acquireTimeoutMs: 1e9 });
    const heldFor = [0, 1, 1.5, 5, 7, 10, 600, 20_000];
    for (const ms of heldFor) {
      const lease = await pool.acquire();
      await clock.advance(ms);
      await lease.release();
    }
    const { useMs } = pool.stats();
    expect(useMs.buckets.boundaries).toEqual([1, 5, 10, 50, 100, 500, 1_000, 5_000, 10_000]);
    expect(LATENCY_BUCKET_BOUNDS_MS).toEqual(useMs.buckets.boundaries);
    // <=1: 0, 1 | <=5: 1.5, 5 | <=10: 7, 10 | <=1000: 600 | >10000: 20000
    expect(useMs.buckets.counts).toEqual([2, 2, 2, 0, 0, 0, 1, 0, 0, 1]);
    expect(useMs.sum).toBe(heldFor.reduce((a, b) => a + b, 0));
    expect(useMs.count).toBe(heldFor.length);
    // A snapshot: later samples do not change it.
    const counts = useMs.buckets.counts.slice();
    await (await pool.acquire()).release();
    expect(useMs.buckets.counts).toEqual(counts);
    expect(JSON.parse(JSON.stringify(pool.stats()))).toEqual(pool.stats());
    await pool.drain();
  });

  it('keeps per-node counters: leases, acquired, created, destroyed, create and validation failures', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory({ withValidate: true });
    const pool = createPool({
      factory, clock, nodes: [{ id: 'a' }, { id: 'b' }], validateOnAcquire: true,
      createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, circuitBreaker: false,
    });
    const first = await pool.acquire({ node: 'a' });
    const second = await pool.acquire({ node: 'a' });
    expect(pool.stats().nodes['a']).toMatchObject({ leases: 2, acquired: 2, created: 2 });
    await first.release();
    await second.release();
    factory.created[0]!.isBad = true;
    factory.created[1]!.isBad = true;
    factory.failingNodes.add('a');
    await pool.acquire({ node: 'a' }).catch(() => undefined);
    factory.failingNodes.clear();
    const stats = pool.stats();
    expect(stats.nodes['a']).toMatchObject({ leases: 0, acquired: 2, created: 2, destroyed: 2, createFailures: 1, validationFailures: 2 });
    expect(stats.nodes['b']).toMatchObject({ leases: 0, acquired: 0, created: 0, destroyed: 0, createFailures: 0, validationFailures: 0 });
    expect(stats.createFailures).toBe(1);
    expect(stats.validationFailures).toBe(2);
    await pool.drain();
  });

  it('refuses a name that is not a non-empty string', () => {
    expect(() => createPool({ factory: trackingFactory(), name: '' })).toThrow(/Invalid option name/);
    expect(() => createPool({ factory: trackingFactory(), name: 42 as unknown as string })).toThrow(/Invalid option name/);
  });
});

describe('events', () => {
  it('emits every lifecycle event with its payload', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    const pool = createPool({ factory, clock, maxPerNode: 1, leakDetectionMs: 5_000, createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 1_000 } });
    const seen: { event: PoolEventName; payload: unknown }[] = [];
    const names: PoolEventName[] = ['create', 'destroy', 'acquire', 'release', 'timeout', 'abort', 'leak', 'createError', 'circuitOpen', 'circuitClose', 'nodeAdded', 'nodeRemoved'];
    for (const event of names) pool.on(event, (payload: unknown) => seen.push({ event, payload }));
    const lease = await pool.acquire();
    const timingOut = pool.acquire({ timeoutMs: 10 }).catch(() => undefined);
    await clock.advance(10);
    await timingOut;
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal }).catch(() => undefined);
    controller.abort();
    await aborted;
    await clock.advance(5_000);
    await lease.release();
    pool.addNode({ id: 'b' });
    factory.failingNodes.add('b');
    await pool.acquire({ node: 'b' }).catch(() => undefined);
    factory.failingNodes.clear();
    await clock.advance(1_000);
    await (await pool.acquire({ node: 'b' })).release();
    await pool.removeNode('b');
    await pool.drain();
    const byName = new Map([...seen].reverse().map((entry) => [entry.event, entry.payload])); // first of each
    expect(new Set(seen.map((entry) => entry.event))).toEqual(new Set(names));
    expect(byName.get('acquire')).toMatchObject({ node: 'default', waitMs: 0 });
    expect(byName.get('timeout')).toMatchObject({ waitedMs: 10 });
    expect(byName.get('leak')).toMatchObject({ node: 'default', heldMs: 5_000 });
    expect((byName.get('leak') as { stack: string }).stack).toMatch(/observability\.test\.ts/);
    expect(byName.get('createError')).toMatchObject({ node: 'b', attempt: 1 });
    expect(byName.get('destroy')).toMatchObject({ reason: expect.stringMatching(/node-removed|drain/) });
    expect(pool.stats().leaksDetected).toBe(1);
  });

  it('reports a leak once per lease and only when leakDetectionMs is on', async () => {
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, leakDetectionMs: 2_000 });
    const leaks: number[] = [];
    pool.on('leak', (event) => leaks.push(event.heldMs));
    const lease = await pool.acquire();
    await clock.advance(1_000);
    expect(leaks).toEqual([]);
    await clock.advance(5_000);
    expect(leaks).toHaveLength(1);
    await lease.release();
    await pool.drain();
  });

  it('a throwing listener never breaks the pool; it is reported on error', async () => {
    const pool = createPool({ factory: trackingFactory() });
    const errors: string[] = [];
    pool.on('acquire', () => { throw new Error('listener bug'); });
    pool.on('error', (event) => errors.push(`${event.during}: ${(event.error as Error).message}`));
    const lease = await pool.acquire();
    await lease.release();
    expect(errors).toEqual(['acquire listener: listener bug']);
    pool.on('error', () => { throw new Error('error listener bug too'); });
    await (await pool.acquire()).release();
    expect(pool.stats().acquired).toBe(2);
    await pool.drain();
  });

  it('off and once remove listeners', async () => {
    const pool = createPool({ factory: trackingFactory() });
    let onceCount = 0;
    let onCount = 0;
    const listener = () => { onCount++; };
    pool.once('acquire', () => { onceCount++; });
    pool.on('acquire', listener);
    await (await pool.acquire()).release();
    pool.off('acquire', listener);
    await (await pool.acquire()).release();
    expect([onceCount, onCount]).toEqual([1, 1]);
    await pool.drain();
  });
});

describe('health', () => {
  it('validates idle connections now, probes empty nodes, and reports open circuits without secrets', async () => {
    const factory = trackingFactory({ withValidate: true });
    factory.failingNodes.add('down');
    const pool = createPool({ factory, nodes: [{ id: 'up' }, { id: 'empty' }, { id: 'down' }], createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    await (await pool.acquire({ node: 'up' })).release();
    await pool.acquire({ node: 'down' }).catch(() => undefined);
    const calls = factory.validateCalls;
    const report = await pool.health();
    expect(factory.validateCalls).toBe(calls + 1);
    expect(report.healthy).toBe(false);
    expect(report.nodes.up).toMatchObject({ healthy: true, idle: 1, active: 0, pending: 0 });
    expect(report.nodes.empty).toMatchObject({ healthy: true, idle: 1 });
    expect(report.nodes.down).toMatchObject({ healthy: false, lastError: expect.stringMatching(/ECONNREFUSED/) });
    expect(typeof report.checkedAt).toBe('number');
    factory.created.forEach((connection) => { connection.isBad = true; });
    const after = await pool.health();
    expect(after.nodes.up!.healthy).toBe(false);
    await pool.drain();
  });
});
