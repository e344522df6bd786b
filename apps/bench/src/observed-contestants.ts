import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { CHANNELS, createPool } from '@pool/core';
import { observePool } from '@pool/otel';
import { registerPoolMetrics } from '@pool/prometheus';
import { Registry } from 'prom-client';
import { BenchConnection, corePoolOptions, createCorePool, type CoreOptions } from './contestants.js';
import type { Contestant } from './harness.js';

// Core with an observer attached: the costs a user pays for @pool/prometheus, @pool/otel and a
// diagnostics_channel subscriber, next to plain core in the same interleaved rounds.

function acquireRelease(pool: ReturnType<typeof createCorePool>): () => Promise<void> {
  return async () => {
    const lease = await pool.acquire();
    await lease.release();
  };
}

/** Core with @pool/prometheus registered in a registry of its own; one scrape after the run. */
export function corePrometheusContestant(name: string, options: CoreOptions): Contestant {
  const pool = createCorePool({ ...options, name: 'bench-prometheus' });
  const registry = new Registry();
  const registration = registerPoolMetrics(pool, { registry });
  let scraped = '';
  return {
    name,
    op: acquireRelease(pool),
    async close() {
      scraped = await registry.metrics();
      registration.unregister();
      await pool.close();
    },
    describe: () => {
      const uses = /^db_client_connection_use_time_seconds_count\{[^}]*\} (\d+)$/m.exec(scraped)?.[1];
      return `one scrape after the run: use_time count ${Number(uses ?? NaN).toLocaleString('en-US')}`;
    },
  };
}

/**
 * Core observed by @pool/otel on a real SDK meter provider: a periodic reader exporting every
 * second to the in-memory exporter, so collections happen during the run as in production.
 */
export function coreOtelContestant(name: string, options: CoreOptions): Contestant {
  const pool = createCorePool({ ...options, name: 'bench-otel' });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1_000 })] });
  const observation = observePool(pool, { meterProvider });
  let exports = 0;
  return {
    name,
    op: acquireRelease(pool),
    async close() {
      await meterProvider.forceFlush();
      exports = exporter.getMetrics().length;
      observation.stop();
      await meterProvider.shutdown();
      await pool.close();
    },
    describe: () => `SDK exports during the run: ${exports}`,
  };
}

/**
 * Core with a diagnostics_channel subscriber on all four channels (no-op handlers), subscribed
 * only while this contestant runs: a subscriber is global, every pool would publish to it.
 */
export function coreChannelContestant(name: string, options: CoreOptions): Contestant {
  const pool = createCorePool(options);
  let messages = 0;
  const count = (): void => {
    messages++;
  };
  const tracing = { start: count, end: count, asyncStart: count, asyncEnd: count, error: count };
  return {
    name,
    op: acquireRelease(pool),
    close: () => pool.close(),
    enter() {
      tracingChannel(CHANNELS.acquire).subscribe(tracing);
      tracingChannel(CHANNELS.create).subscribe(tracing);
      subscribe(CHANNELS.release, count);
      subscribe(CHANNELS.destroy, count);
    },
    leave() {
      tracingChannel(CHANNELS.acquire).unsubscribe(tracing);
      tracingChannel(CHANNELS.create).unsubscribe(tracing);
      unsubscribe(CHANNELS.release, count);
      unsubscribe(CHANNELS.destroy, count);
    },
    describe: () => `messages received: ${messages.toLocaleString('en-US')}`,
  };
}

type CreatePool = typeof createPool;

/**
 * Core as built from another checkout (BENCH_CORE_BASELINE=/path/to/core/dist/index.js), e.g. the
 * commit before a change: the same op in the same rounds, so the ratio is the change's cost.
 */
export async function baselineCoreContestant(name: string, entry: string, options: CoreOptions): Promise<Contestant> {
  const baseline = (await import(entry)) as { createPool: CreatePool };
  const pool = baseline.createPool<BenchConnection>(corePoolOptions(options));
  return {
    name,
    op: async () => {
      const lease = await pool.acquire();
      await lease.release();
    },
    close: () => pool.close(),
  };
}
