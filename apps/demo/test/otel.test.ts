import { AggregationTemporality, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import { createPool } from '@pool/core';
import { trackingFactory } from '@pool/testkit';
import { expect, it } from 'vitest';
import { startOtel } from '../src/otel.js';

// The DEMO_OTEL path with the real SDK: every pool observed, and stop() exports a last time.
it('startOtel observes every pool under its dashboard name and exports on stop', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const pg = createPool({ factory: trackingFactory(), name: 'ignored' });
  const tcp = createPool({ factory: trackingFactory() });
  const otel = startOtel([{ name: 'pg', pool: pg }, { name: 'tcp', pool: tcp }], { exporter, intervalMs: 3_600_000 });
  await (await pg.acquire()).release();
  await otel.stop();
  await otel.stop();
  const points = exporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
  const max = points.find((metric) => metric.descriptor.name === 'db.client.connection.max');
  expect(max?.dataPoints.map((point) => point.attributes['db.client.connection.pool.name']).sort()).toEqual(['pg', 'tcp']);
  const use = points.find((metric) => metric.descriptor.name === 'db.client.connection.use_time');
  expect(use?.dataPoints.map((point) => point.attributes['db.client.connection.pool.name'])).toEqual(['pg']);
  await Promise.all([pg.drain(), tcp.drain()]);
});
