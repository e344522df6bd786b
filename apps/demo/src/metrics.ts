import { registerPoolMetrics, type PoolMetricsRegistration } from '@pool/prometheus';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolName } from './config.js';
import type { PoolView } from './pools.js';
import type { Workload } from './workload.js';

export interface DemoMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The Prometheus text exposition of every metric, read fresh from the pools' `stats()`. */
  render(): Promise<string>;
  /** Takes the pools out of the registry. */
  close(): void;
}

/**
 * The demo's registry: every pool through @pool/prometheus (labelled with the dashboard's pool
 * names), the workload's own counter and prom-client's process metrics (`demo_` prefix).
 */
export function createMetrics(pools: ReadonlyArray<{ name: PoolName; pool: PoolView }>, workload: Workload): DemoMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'demo_' });
  const registrations: PoolMetricsRegistration[] = pools.map(({ name, pool }) => registerPoolMetrics(pool, { registry, name }));
  new Counter({
    name: 'demo_operations_total',
    help: 'Workload operations by kind and outcome.',
    labelNames: ['operation', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [operation, stats] of Object.entries(workload.stats())) {
        this.inc({ operation, outcome: 'ok' }, stats.ok);
        this.inc({ operation, outcome: 'failed' }, stats.failed);
        this.inc({ operation, outcome: 'shed' }, stats.shed);
      }
    },
  });
  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    close() {
      for (const registration of registrations) registration.unregister();
    },
  };
}
