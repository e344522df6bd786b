import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { observePool, type PoolObservation } from '@pool/otel';
import type { PoolName } from './config.js';
import type { PoolView } from './pools.js';

export interface DemoOtel {
  /** A last export, then the pools are no longer observed. */
  stop(): Promise<void>;
}

/**
 * OpenTelemetry without a collector: every pool observed by @pool/otel on an SDK meter provider
 * whose periodic reader writes to `exporter` (default the SDK's ConsoleMetricExporter, every
 * `intervalMs`, default 15 s). What `DEMO_OTEL=console` turns on.
 */
export function startOtel(
  pools: ReadonlyArray<{ name: PoolName; pool: PoolView }>,
  options: { exporter?: PushMetricExporter; intervalMs?: number } = {},
): DemoOtel {
  const reader = new PeriodicExportingMetricReader({
    exporter: options.exporter ?? new ConsoleMetricExporter(),
    exportIntervalMillis: options.intervalMs ?? 15_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const observations: PoolObservation[] = pools.map(({ name, pool }) => observePool(pool, { meterProvider, name }));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        try {
          await meterProvider.shutdown();
        } finally {
          for (const observation of observations) observation.stop();
        }
      })();
      return stopping;
    },
  };
}
