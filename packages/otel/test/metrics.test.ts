import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createPool, isPoolError } from '@pool/core';
import { observePool } from '@pool/otel';
import { FakeClock, trackingFactory } from '@pool/testkit';

/** A real SDK pipeline: meter provider, periodic reader (flushed by hand) and in-memory exporter. */
function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    /** Collects now and returns the metrics of this collection, by name. */
    async collect(): Promise<Map<string, MetricData>> {
      exporter.reset();
      await meterProvider.forceFlush();
      const byName = new Map<string, MetricData>();
      for (const resource of exporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) {
          expect(scope.scope.name).toBe('@pool/otel');
          for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
        }
      }
      return byName;
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

type Sdk = ReturnType<typeof sdk>;
let current: Sdk | undefined;
afterEach(async () => {
  await current?.shutdown();
  current = undefined;
});

function point<T>(metric: MetricData | undefined, attributes: Record<string, string>): DataPoint<T> | undefined {
  const points = (metric?.dataPoints ?? []) as DataPoint<T>[];
  return points.find((candidate) => {
    const got = candidate.attributes;
    return Object.keys(got).length === Object.keys(attributes).length && Object.entries(attributes).every(([key, value]) => got[key] === value);
  });
}

const POOL = 'db.client.connection.pool.name';

describe('observePool with the OpenTelemetry SDK', () => {
  it('records every db.client.connection.* metric with the conventions\' names, instruments, units and attributes', async () => {
    current = sdk();
    const clock = new FakeClock();
    const pool = createPool({ factory: trackingFactory(), clock, name: 'orders', nodes: [{ id: 'a' }, { id: 'b' }], maxPerNode: 2, maxTotal: 3, minIdlePerNode: 0 });
    const observation = observePool(pool, { meterProvider: current.meterProvider });
    const leases = [await pool.acquire({ node: 'a' }), await pool.acquire({ node: 'a' }), await pool.acquire({ node: 'b' })];
    const timingOut = pool.acquire({ timeoutMs: 10 }).catch((error: unknown) => error);
    const namedWaiter = pool.acquire({ node: 'b', timeoutMs: 1_000 });
    const anyWaiter = pool.acquire({ timeoutMs: 1_000 });
    await clock.advance(10);
    expect(isPoolError(await timingOut, 'ACQUIRE_TIMEOUT')).toBe(true);
    const collected = await current.collect();

    const expected: Record<string, { type: DataPointType; unit: string }> = {
      'db.client.connection.count': { type: DataPointType.SUM, unit: '{connection}' },
      'db.client.connection.idle.max': { type: DataPointType.SUM, unit: '{connection}' },
      'db.client.connection.idle.min': { type: DataPointType.SUM, unit: '{connection}' },
      'db.client.connection.max': { type: DataPointType.SUM, unit: '{connection}' },
      'db.client.connection.pending_requests': { type: DataPointType.SUM, unit: '{request}' },
      'db.client.connection.timeouts': { type: DataPointType.SUM, unit: '{timeout}' },
      'db.client.connection.create_time': { type: DataPointType.HISTOGRAM, unit: 's' },
      'db.client.connection.wait_time': { type: DataPointType.HISTOGRAM, unit: 's' },
    };
    for (const [name, { type, unit }] of Object.entries(expected)) {
      const metric = collected.get(name);
      expect(metric, name).toBeDefined();
      expect(metric!.dataPointType, name).toBe(type);
      expect(metric!.descriptor.unit, name).toBe(unit);
      if (type === DataPointType.SUM) {
        // UpDownCounters are non-monotonic sums; the timeouts Counter is monotonic.
        expect((metric as { isMonotonic: boolean }).isMonotonic, name).toBe(name === 'db.client.connection.timeouts');
      }
      for (const dataPoint of metric!.dataPoints) expect(dataPoint.attributes[POOL], name).toBe('orders');
    }
    expect((collected.get('db.client.connection.count')!.descriptor as { type?: string }).type).toBe('OBSERVABLE_UP_DOWN_COUNTER');
    expect((collected.get('db.client.connection.timeouts')!.descriptor as { type?: string }).type).toBe('COUNTER');

    const count = collected.get('db.client.connection.count');
    const state = 'db.client.connection.state';
    expect(point(count, { [POOL]: 'orders', [state]: 'used', 'pool.node': 'a' })?.value).toBe(2);
    expect(point(count, { [POOL]: 'orders', [state]: 'idle', 'pool.node': 'a' })?.value).toBe(0);
    expect(point(count, { [POOL]: 'orders', [state]: 'used', 'pool.node': 'b' })?.value).toBe(1);
    const pending = collected.get('db.client.connection.pending_requests');
    expect(point(pending, { [POOL]: 'orders', 'pool.node': 'b' })?.value).toBe(1);
    expect(point(pending, { [POOL]: 'orders', 'pool.node': 'a' })?.value).toBe(0);
    expect(point(pending, { [POOL]: 'orders' })?.value).toBe(1);
    expect(point(collected.get('db.client.connection.max'), { [POOL]: 'orders' })?.value).toBe(3);
    expect(point(collected.get('db.client.connection.idle.max'), { [POOL]: 'orders' })?.value).toBe(3);
    expect(point(collected.get('db.client.connection.idle.min'), { [POOL]: 'orders' })?.value).toBe(0);
    expect(point(collected.get('db.client.connection.timeouts'), { [POOL]: 'orders' })?.value).toBe(1);
    const wait = point<Histogram>(collected.get('db.client.connection.wait_time'), { [POOL]: 'orders' })!;
    expect(wait.value.count).toBe(3);
    expect(wait.value.buckets.boundaries).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);

    // Held 40 ms more, then released: use_time in seconds; the waiters get leases.
    await clock.advance(40);
    await leases[2]!.release();
    await leases[0]!.release();
    const second = await current.collect();
    const use = point<Histogram>(second.get('db.client.connection.use_time'), { [POOL]: 'orders' })!;
    expect(second.get('db.client.connection.use_time')!.descriptor.unit).toBe('s');
    expect(use.value.count).toBe(2);
    expect(use.value.sum).toBeCloseTo(0.1);
    // 0.05 s falls in the bucket (0.01, 0.05].
    expect(use.value.buckets.counts).toEqual([0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
    const pendingNow = second.get('db.client.connection.pending_requests');
    expect(point(pendingNow, { [POOL]: 'orders', 'pool.node': 'b' })?.value).toBe(0);
    expect(point(pendingNow, { [POOL]: 'orders' })?.value).toBe(0);

    observation.stop();
    observation.stop();
    await (await namedWaiter).release();
    await (await anyWaiter).release();
    await leases[1]!.release();
    await pool.drain();
  });

  it('several pools on one meter provider share the instruments, told apart by pool name; stop() ends one', async () => {
    current = sdk();
    const one = createPool({ factory: trackingFactory(), name: 'one' });
    const two = createPool({ factory: trackingFactory(), name: 'two' });
    const first = observePool(one, { meterProvider: current.meterProvider });
    const second = observePool(two, { meterProvider: current.meterProvider, name: 'second' });
    await (await two.acquire()).release();
    let collected = await current.collect();
    const max = collected.get('db.client.connection.max');
    expect(max?.dataPoints.map((dataPoint) => dataPoint.attributes[POOL]).sort()).toEqual(['one', 'second']);
    expect(point<Histogram>(collected.get('db.client.connection.create_time'), { [POOL]: 'second' })?.value.count).toBe(1);
    first.stop();
    // After stop() the pool is neither observed nor recorded: a lease held now shows nowhere
    // (the SDK may go on exporting a cumulative series' last observed value; it never changes).
    const held = await one.acquire();
    collected = await current.collect();
    const state = 'db.client.connection.state';
    expect(point(collected.get('db.client.connection.count'), { [POOL]: 'one', [state]: 'used', 'pool.node': 'default' })?.value ?? 0).toBe(0);
    expect(point(collected.get('db.client.connection.wait_time'), { [POOL]: 'one' })).toBeUndefined();
    expect(point(collected.get('db.client.connection.max'), { [POOL]: 'second' })?.value).toBe(10);
    await held.release();
    second.stop();
    await Promise.all([one.drain(), two.drain()]);
  });

  it('defaults to the global meter provider and to stats().name', async () => {
    current = sdk();
    expect(metrics.setGlobalMeterProvider(current.meterProvider)).toBe(true);
    try {
      const pool = createPool({ factory: trackingFactory(), name: 'global-one' });
      const observation = observePool(pool);
      const collected = await current.collect();
      expect(point(collected.get('db.client.connection.max'), { [POOL]: 'global-one' })?.value).toBe(10);
      observation.stop();
      await pool.drain();
    } finally {
      metrics.disable();
    }
  });

  it('refuses bad input with INVALID_OPTIONS naming it', async () => {
    const pool = createPool({ factory: trackingFactory() });
    const invalid = (run: () => unknown): string => {
      try {
        run();
      } catch (error) {
        if (isPoolError(error, 'INVALID_OPTIONS')) return error.message;
        throw error;
      }
      throw new Error('no error');
    };
    expect(invalid(() => observePool(pool, { meterProvder: {} } as never))).toBe('Unknown option meterProvder (did you mean meterProvider?)');
    expect(invalid(() => observePool(pool, { meterProvider: {} as never }))).toMatch(/^Invalid option meterProvider/);
    expect(invalid(() => observePool(pool, { name: '' }))).toMatch(/^Invalid option name/);
    expect(invalid(() => observePool({} as never))).toMatch(/^Invalid option pool/);
    await pool.drain();
  });
});
