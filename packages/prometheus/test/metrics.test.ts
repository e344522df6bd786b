import { describe, expect, it } from 'vitest';
import { Registry, register as defaultRegister, Counter } from 'prom-client';
import { createPool, type Pool } from '@pool/core';
import { registerPoolMetrics } from '@pool/prometheus';
import { isPoolError } from '@pool/core';
import { FakeClock, trackingFactory, type FakeConnection } from '@pool/testkit';

/** The PoolError INVALID_OPTIONS that `register` throws. */
function invalidOptionsError(register: () => unknown): Error {
  try {
    register();
  } catch (error) {
    if (isPoolError(error, 'INVALID_OPTIONS')) return error;
    throw error;
  }
  throw new Error('expected PoolError INVALID_OPTIONS, got no error');
}

/** The value of the sample `name{labels}` (labels in any order, all of them), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const got = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}

function typeOf(text: string, name: string): string | undefined {
  return new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];
}

describe('registerPoolMetrics', () => {
  it('exposes the OpenTelemetry connection-pool names with the right types, read from stats() when scraped', async () => {
    const clock = new FakeClock();
    const factory = trackingFactory();
    const pool = createPool({ factory, clock, name: 'orders', nodes: [{ id: 'a' }, { id: 'b' }], maxPerNode: 2, maxTotal: 3, minIdlePerNode: 0, partitions: { api: { max: 2 } } });
    const registry = new Registry();
    registerPoolMetrics(pool, { registry });

    const held = [await pool.acquire({ node: 'a', partition: 'api' }), await pool.acquire({ node: 'a' }), await pool.acquire({ node: 'b' })];
    const waiting = pool.acquire({ timeoutMs: 20 }).catch(() => undefined);
    await clock.advance(20);
    await waiting;
    await clock.advance(30);
    await held[0]!.release();
    let text = await registry.metrics();

    for (const [name, type] of [
      ['db_client_connection_count', 'gauge'], ['db_client_connection_idle_max', 'gauge'], ['db_client_connection_idle_min', 'gauge'],
      ['db_client_connection_max', 'gauge'], ['db_client_connection_pending_requests', 'gauge'],
      ['db_client_connection_timeouts_total', 'counter'], ['db_client_connection_create_time_seconds', 'histogram'],
      ['db_client_connection_wait_time_seconds', 'histogram'], ['db_client_connection_use_time_seconds', 'histogram'],
    ] as const) {
      expect(typeOf(text, name), name).toBe(type);
    }
    expect(sample(text, 'db_client_connection_count', { pool_name: 'orders', state: 'idle' })).toBe(1);
    expect(sample(text, 'db_client_connection_count', { pool_name: 'orders', state: 'used' })).toBe(2);
    expect(sample(text, 'db_client_connection_max', { pool_name: 'orders' })).toBe(3);
    expect(sample(text, 'db_client_connection_idle_max', { pool_name: 'orders' })).toBe(3);
    expect(sample(text, 'db_client_connection_idle_min', { pool_name: 'orders' })).toBe(0);
    expect(sample(text, 'db_client_connection_timeouts_total', { pool_name: 'orders' })).toBe(1);
    // use time: one lease held 50 ms, in seconds, cumulative buckets.
    expect(sample(text, 'db_client_connection_use_time_seconds_count', { pool_name: 'orders' })).toBe(1);
    expect(sample(text, 'db_client_connection_use_time_seconds_sum', { pool_name: 'orders' })).toBeCloseTo(0.05);
    expect(sample(text, 'db_client_connection_use_time_seconds_bucket', { pool_name: 'orders', le: '0.01' })).toBe(0);
    expect(sample(text, 'db_client_connection_use_time_seconds_bucket', { pool_name: 'orders', le: '0.05' })).toBe(1);
    expect(sample(text, 'db_client_connection_use_time_seconds_bucket', { pool_name: 'orders', le: '+Inf' })).toBe(1);
    expect(sample(text, 'db_client_connection_wait_time_seconds_count', { pool_name: 'orders' })).toBe(3);
    expect(sample(text, 'db_client_connection_create_time_seconds_count', { pool_name: 'orders' })).toBe(3);
    // Per node and per partition.
    expect(sample(text, 'pool_node_connections', { pool_name: 'orders', node: 'a', state: 'used' })).toBe(1);
    expect(sample(text, 'pool_node_connections', { pool_name: 'orders', node: 'a', state: 'idle' })).toBe(1);
    expect(sample(text, 'pool_node_leases', { pool_name: 'orders', node: 'b' })).toBe(1);
    expect(sample(text, 'pool_node_acquires_total', { pool_name: 'orders', node: 'a' })).toBe(2);
    expect(sample(text, 'pool_node_circuit_state', { pool_name: 'orders', node: 'b', state: 'closed' })).toBe(1);
    expect(sample(text, 'pool_node_circuit_state', { pool_name: 'orders', node: 'b', state: 'open' })).toBe(0);
    expect(sample(text, 'pool_node_healthy', { pool_name: 'orders', node: 'a' })).toBe(1);
    expect(sample(text, 'pool_partition_max', { pool_name: 'orders', partition: 'api' })).toBe(2);

    // A scrape reads the pool as it is now: no update happened in between, none was needed.
    await held[1]!.release();
    await held[2]!.release();
    text = await registry.metrics();
    expect(sample(text, 'db_client_connection_count', { pool_name: 'orders', state: 'idle' })).toBe(3);
    expect(sample(text, 'db_client_connection_count', { pool_name: 'orders', state: 'used' })).toBe(0);
    expect(sample(text, 'db_client_connection_use_time_seconds_count', { pool_name: 'orders' })).toBe(3);
    await pool.drain();
  });

  it('counts create failures and pending requests per node', async () => {
    const factory = trackingFactory();
    const pool = createPool({ factory, name: 'p', nodes: [{ id: 'a' }], maxPerNode: 1, createRetry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    const registry = new Registry();
    registerPoolMetrics(pool, { registry });
    factory.failingNodes.add('a');
    await pool.acquire().catch(() => undefined);
    const text = await registry.metrics();
    expect(sample(text, 'pool_node_create_failures_total', { pool_name: 'p', node: 'a' })).toBe(1);
    expect(sample(text, 'pool_node_circuit_state', { pool_name: 'p', node: 'a', state: 'open' })).toBe(1);
    expect(sample(text, 'pool_node_healthy', { pool_name: 'p', node: 'a' })).toBe(0);
    await pool.drain();
  });

  it('shares one family per metric between pools of one registry, told apart by pool_name; unregister removes one', async () => {
    const registry = new Registry();
    const pools: Pool<FakeConnection>[] = [createPool({ factory: trackingFactory(), name: 'one' }), createPool({ factory: trackingFactory(), name: 'two' })];
    const first = registerPoolMetrics(pools[0]!, { registry });
    const second = registerPoolMetrics(pools[1]!, { registry, name: 'second' });
    await (await pools[1]!.acquire()).release();
    let text = await registry.metrics();
    expect(text.match(/^# TYPE db_client_connection_count gauge$/gm)).toHaveLength(1);
    expect(sample(text, 'db_client_connection_count', { pool_name: 'one', state: 'idle' })).toBe(0);
    expect(sample(text, 'db_client_connection_count', { pool_name: 'second', state: 'idle' })).toBe(1);
    first.unregister();
    first.unregister();
    text = await registry.metrics();
    expect(sample(text, 'db_client_connection_count', { pool_name: 'one', state: 'idle' })).toBeUndefined();
    expect(sample(text, 'db_client_connection_count', { pool_name: 'second', state: 'idle' })).toBe(1);
    second.unregister();
    expect(await registry.metrics()).toBe('\n');
    // Registered again after all left: the families come back.
    const again = registerPoolMetrics(pools[0]!, { registry });
    expect(sample(await registry.metrics(), 'db_client_connection_max', { pool_name: 'one' })).toBe(10);
    again.unregister();
    await Promise.all(pools.map((pool) => pool.drain()));
  });

  it('reads each pool once per scrape, whatever the number of families', async () => {
    const pool = createPool({ factory: trackingFactory(), name: 'counted' });
    let calls = 0;
    const counted = { stats: () => (calls++, pool.stats()) };
    const registry = new Registry();
    const registration = registerPoolMetrics(counted, { registry });
    calls = 0;
    await registry.metrics();
    expect(calls).toBe(1);
    await registry.getMetricsAsJSON();
    expect(calls).toBe(2);
    registration.unregister();
    await pool.drain();
  });

  it('uses the default register when none is given, next to the metrics already in it', async () => {
    const pool = createPool({ factory: trackingFactory(), name: 'default-register' });
    const mine = new Counter({ name: 'app_requests_total', help: 'requests' });
    const registration = registerPoolMetrics(pool);
    const text = await defaultRegister.metrics();
    expect(sample(text, 'db_client_connection_max', { pool_name: 'default-register' })).toBe(10);
    expect(typeOf(text, 'app_requests_total')).toBe('counter');
    registration.unregister();
    expect(defaultRegister.getSingleMetric('db_client_connection_max')).toBeUndefined();
    defaultRegister.removeSingleMetric('app_requests_total');
    expect(mine).toBeInstanceOf(Counter);
    await pool.drain();
  });

  it('comes back after registry.clear(), and writes OpenMetrics when the registry does', async () => {
    const pool = createPool({ factory: trackingFactory(), name: 'om' });
    const registry = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    registerPoolMetrics(pool, { registry });
    const text = await registry.metrics();
    expect(text).toMatch(/^# TYPE db_client_connection_timeouts counter$/m);
    expect(sample(text, 'db_client_connection_timeouts_total', { pool_name: 'om' })).toBe(0);
    registry.clear();
    const other = createPool({ factory: trackingFactory(), name: 'om-2' });
    registerPoolMetrics(other, { registry });
    expect(sample(await registry.metrics(), 'db_client_connection_max', { pool_name: 'om-2' })).toBe(10);
    await Promise.all([pool.drain(), other.drain()]);
  });

  it('refuses bad input with INVALID_OPTIONS naming it', async () => {
    const pool = createPool({ factory: trackingFactory(), name: 'dup' });
    const registry = new Registry();
    registerPoolMetrics(pool, { registry });
    expect(invalidOptionsError(() => registerPoolMetrics(pool, { registry })).message).toMatch(/^Invalid option name: got "dup", is already registered/);
    expect(invalidOptionsError(() => registerPoolMetrics(pool, { registry, name: '' })).message).toMatch(/^Invalid option name/);
    expect(invalidOptionsError(() => registerPoolMetrics(pool, { registy: registry } as never)).message).toBe('Unknown option registy (did you mean registry?)');
    expect(invalidOptionsError(() => registerPoolMetrics({} as never)).message).toMatch(/^Invalid option pool/);
    expect(invalidOptionsError(() => registerPoolMetrics(pool, { registry: {} as never })).message).toMatch(/^Invalid option registry/);
    // A name another metric of the registry already has: prom-client's error, nothing half-added.
    const taken = new Registry();
    new Counter({ name: 'db_client_connection_use_time_seconds', help: 'taken', registers: [taken] });
    expect(() => registerPoolMetrics(pool, { registry: taken })).toThrow(/already been registered/);
    expect(taken.getSingleMetric('db_client_connection_count')).toBeUndefined();
    await pool.drain();
  });
});
