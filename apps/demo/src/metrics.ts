import type { NodeStats, PoolStats } from '@pool/core';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolName } from './config.js';
import type { PoolView } from './pools.js';
import type { Workload } from './workload.js';

export interface DemoMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The Prometheus text exposition of every metric, read fresh from the pools' `stats()`. */
  render(): Promise<string>;
}

const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;
const CONNECTION_STATES = ['total', 'idle', 'active', 'creating'] as const;
const STAT_COUNTERS = [
  ['created', 'pool_connections_created_total', 'Connections created (create started and succeeded).'],
  ['destroyed', 'pool_connections_destroyed_total', 'Connections destroyed, for any reason.'],
  ['acquired', 'pool_acquires_total', 'Leases handed out.'],
  ['released', 'pool_releases_total', 'Leases ended.'],
  ['timeouts', 'pool_acquire_timeouts_total', 'Acquires that timed out (ACQUIRE_TIMEOUT).'],
  ['aborted', 'pool_acquire_aborts_total', 'Acquires aborted by their signal.'],
  ['createFailures', 'pool_create_failures_total', 'Connection creates that failed.'],
  ['validationFailures', 'pool_validation_failures_total', 'Connections that failed validation.'],
  ['leaksDetected', 'pool_leaks_detected_total', 'Leases held past leakDetectionMs.'],
] as const satisfies ReadonlyArray<readonly [keyof PoolStats, string, string]>;

/**
 * A prom-client registry over the pools. Gauges and counters are read from `stats()` at scrape
 * time (`collect`), so a scrape always shows the pool as it is now; the wait and create
 * histograms are fed by the pools' `acquire` and `create` events, so Prometheus can aggregate
 * them across instances.
 */
export function createMetrics(pools: ReadonlyArray<{ name: PoolName; pool: PoolView }>, workload: Workload): DemoMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'demo_' });
  const snapshots = new Map<PoolName, PoolStats>();
  // One stats() per pool per scrape, shared by every metric's collect().
  const snapshot = (name: PoolName, pool: PoolView) => {
    let stats = snapshots.get(name);
    if (!stats) snapshots.set(name, stats = pool.stats());
    return stats;
  };
  const eachPool = (fn: (name: PoolName, stats: PoolStats) => void) => {
    for (const { name, pool } of pools) fn(name, snapshot(name, pool));
  };

  /** A gauge that `read` sets from each pool's stats() at scrape time, after a reset. */
  const poolGauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (gauge: Gauge<L>, pool: PoolName, stats: PoolStats) => void,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        eachPool((pool, stats) => read(this, pool, stats));
      },
    });
  };

  /** A gauge with one series per pool and node (and `labelNames`), set by `read` from the node's stats. */
  const nodeGauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: (gauge: Gauge<'pool' | 'node' | L>, labels: { pool: PoolName; node: string }, node: NodeStats) => void,
  ): void => {
    poolGauge(name, help, ['pool', 'node', ...labelNames], (gauge, pool, stats) => {
      for (const [node, n] of Object.entries(stats.nodes)) read(gauge, { pool, node }, n);
    });
  };

  nodeGauge(
    'pool_connections',
    'Connections per pool and node, by state (total counts every state, creating included).',
    ['state'],
    (gauge, labels, n) => {
      for (const state of CONNECTION_STATES) gauge.set({ ...labels, state }, n[state]);
    },
  );
  poolGauge(
    'pool_leases',
    'Leases outstanding per pool (above active connections when connections are multiplexed).',
    ['pool'],
    (gauge, pool, stats) => gauge.set({ pool }, stats.leases),
  );
  poolGauge('pool_waiting', 'Acquires waiting for a lease, per pool.', ['pool'], (gauge, pool, stats) => gauge.set({ pool }, stats.waiting));
  nodeGauge('pool_node_waiting', 'Acquires waiting that named this node.', [], (gauge, labels, n) => gauge.set(labels, n.waiting));
  nodeGauge('pool_node_healthy', '1 when the pool considers the node healthy, else 0.', [], (gauge, labels, n) => {
    gauge.set(labels, n.healthy ? 1 : 0);
  });
  nodeGauge('pool_node_circuit_state', "The node's circuit breaker: 1 for the current state, 0 for the others.", ['state'], (gauge, labels, n) => {
    for (const state of CIRCUIT_STATES) gauge.set({ ...labels, state }, n.circuit === state ? 1 : 0);
  });
  for (const [field, name, help] of [
    ['active', 'pool_partition_active', 'Leases held in the partition.'],
    ['waiting', 'pool_partition_waiting', 'Acquires waiting for the partition.'],
    ['max', 'pool_partition_max', "The partition's cap."],
  ] as const) {
    poolGauge(name, help, ['pool', 'partition'], (gauge, pool, stats) => {
      for (const [partition, p] of Object.entries(stats.partitions)) gauge.set({ pool, partition }, p[field]);
    });
  }
  for (const [kind, summaryOf] of [
    ['acquire_wait', (stats: PoolStats) => stats.waitMs],
    ['create', (stats: PoolStats) => stats.createMs],
  ] as const) {
    poolGauge(
      `pool_${kind}_seconds_quantile`,
      `The pool's own ${kind.replace('_', ' ')} time percentiles (its bounded histogram, since start).`,
      ['pool', 'quantile'],
      (gauge, pool, stats) => {
        const summary = summaryOf(stats);
        gauge.set({ pool, quantile: '0.5' }, summary.p50 / 1000);
        gauge.set({ pool, quantile: '0.95' }, summary.p95 / 1000);
        gauge.set({ pool, quantile: '0.99' }, summary.p99 / 1000);
        gauge.set({ pool, quantile: '1' }, summary.max / 1000);
      },
    );
  }
  for (const [field, name, help] of STAT_COUNTERS) {
    new Counter({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        // The pool keeps the count; the counter mirrors it.
        this.reset();
        eachPool((pool, stats) => this.inc({ pool }, stats[field] as number));
      },
    });
  }
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

  const secondsHistogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, labelNames: ['pool', 'node'], buckets, registers: [registry] });
  const waitHistogram = secondsHistogram(
    'pool_acquire_wait_seconds',
    'Time from acquire to lease, per pool and node.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  const createHistogram = secondsHistogram(
    'pool_create_seconds',
    'Time to create a connection, per pool and node.',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  for (const { name, pool } of pools) {
    pool.on('acquire', (event) => waitHistogram.observe({ pool: name, node: event.node }, event.waitMs / 1000));
    pool.on('create', (event) => createHistogram.observe({ pool: name, node: event.node }, event.durationMs / 1000));
  }

  return {
    registry,
    contentType: registry.contentType,
    async render() {
      snapshots.clear();
      try {
        return await registry.metrics();
      } finally {
        snapshots.clear();
      }
    },
  };
}
