import type { LatencySummary, PoolStats } from '@pool/core';

/** One sample line: `metricName` defaults to the family's name (prom-client's MetricValue shape). */
export interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** A metric family, read from the pools' stats() when scraped. */
export interface FamilyDefinition {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'histogram';
  /** Appends this pool's samples; `pool_name` is already in `labels`. */
  read(stats: PoolStats, labels: { pool_name: string }, out: Sample[]): void;
}

const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;

function gauge(name: string, help: string, read: FamilyDefinition['read']): FamilyDefinition {
  return { name, help, type: 'gauge', read };
}

function counter(name: string, help: string, read: FamilyDefinition['read']): FamilyDefinition {
  return { name, help, type: 'counter', read };
}

/** A pool-wide value with only the `pool_name` label. */
function poolValue(value: (stats: PoolStats) => number): FamilyDefinition['read'] {
  return (stats, labels, out) => void out.push({ value: value(stats), labels });
}

/** One sample per node, labelled `node`. */
function perNode(value: (node: PoolStats['nodes'][string]) => number): FamilyDefinition['read'] {
  return (stats, labels, out) => {
    for (const [node, nodeStats] of Object.entries(stats.nodes)) out.push({ value: value(nodeStats), labels: { ...labels, node } });
  };
}

/** A histogram in seconds from a latency summary in ms: cumulative `le` buckets, `_sum`, `_count`. */
function seconds(name: string, help: string, summaryOf: (stats: PoolStats) => LatencySummary): FamilyDefinition {
  return {
    name,
    help,
    type: 'histogram',
    read(stats, labels, out) {
      const summary = summaryOf(stats);
      const { boundaries, counts } = summary.buckets;
      let cumulative = 0;
      for (let bucket = 0; bucket < counts.length; bucket++) {
        cumulative += counts[bucket] ?? 0;
        const le = bucket < boundaries.length ? (boundaries[bucket] ?? 0) / 1000 : '+Inf';
        out.push({ metricName: `${name}_bucket`, value: cumulative, labels: { ...labels, le } });
      }
      out.push({ metricName: `${name}_sum`, value: summary.sum / 1000, labels });
      out.push({ metricName: `${name}_count`, value: summary.count, labels });
    },
  };
}

/**
 * Every family, in exposition order. First the names OpenTelemetry's Prometheus exporter would
 * give the `db.client.connection.*` semantic conventions, then the per-node and per-partition
 * families of the pool itself.
 */
export const FAMILIES: readonly FamilyDefinition[] = [
  gauge('db_client_connection_count', 'The number of connections that are currently in state described by the state label (idle, used).', (stats, labels, out) => {
    out.push({ value: stats.idle, labels: { ...labels, state: 'idle' } });
    out.push({ value: stats.active, labels: { ...labels, state: 'used' } });
  }),
  gauge('db_client_connection_idle_max', 'The maximum number of idle open connections allowed.', poolValue((stats) => stats.max)),
  gauge('db_client_connection_idle_min', 'The minimum number of idle open connections allowed (kept warm).', poolValue((stats) => stats.minIdle)),
  gauge('db_client_connection_max', 'The maximum number of open connections allowed.', poolValue((stats) => stats.max)),
  gauge('db_client_connection_pending_requests', 'The number of current pending requests for an open connection.', poolValue((stats) => stats.waiting)),
  counter('db_client_connection_timeouts_total', 'The number of connection timeouts that have occurred trying to obtain a connection from the pool.', poolValue((stats) => stats.timeouts)),
  seconds('db_client_connection_create_time_seconds', 'The time it took to create a new connection.', (stats) => stats.createMs),
  seconds('db_client_connection_wait_time_seconds', 'The time it took to obtain an open connection from the pool.', (stats) => stats.waitMs),
  seconds('db_client_connection_use_time_seconds', 'The time between borrowing a connection and returning it to the pool.', (stats) => stats.useMs),

  gauge('pool_node_connections', "Connections of the node by state: idle, used (holding a lease), creating.", (stats, labels, out) => {
    for (const [node, n] of Object.entries(stats.nodes)) {
      out.push({ value: n.idle, labels: { ...labels, node, state: 'idle' } });
      out.push({ value: n.active, labels: { ...labels, node, state: 'used' } });
      out.push({ value: n.creating, labels: { ...labels, node, state: 'creating' } });
    }
  }),
  gauge('pool_node_leases', 'Leases outstanding on the node (above used connections when connections are multiplexed).', perNode((n) => n.leases)),
  gauge('pool_node_pending_requests', 'Acquires waiting that named this node.', perNode((n) => n.waiting)),
  gauge('pool_node_healthy', '1 when the pool considers the node healthy (circuit not open), else 0.', perNode((n) => (n.healthy ? 1 : 0))),
  gauge('pool_node_circuit_state', "The node's circuit breaker: 1 for the current state (closed, open, half-open), 0 for the others.", (stats, labels, out) => {
    for (const [node, n] of Object.entries(stats.nodes)) {
      for (const state of CIRCUIT_STATES) out.push({ value: n.circuit === state ? 1 : 0, labels: { ...labels, node, state } });
    }
  }),
  counter('pool_node_acquires_total', 'Leases handed out by the node.', perNode((n) => n.acquired)),
  counter('pool_node_connections_created_total', 'Connections created on the node.', perNode((n) => n.created)),
  counter('pool_node_connections_destroyed_total', 'Connections of the node destroyed, for any reason.', perNode((n) => n.destroyed)),
  counter('pool_node_create_failures_total', 'Connection create attempts that failed on the node, retries included.', perNode((n) => n.createFailures)),
  counter('pool_node_validation_failures_total', 'Validations of the node\'s connections that failed.', perNode((n) => n.validationFailures)),

  counter('pool_acquire_aborts_total', 'Acquires aborted by their signal.', poolValue((stats) => stats.aborted)),
  counter('pool_leaks_detected_total', 'Leases held past leakDetectionMs.', poolValue((stats) => stats.leaksDetected)),
  gauge('pool_partition_leases', 'Leases held in the partition.', (stats, labels, out) => {
    for (const [partition, p] of Object.entries(stats.partitions)) out.push({ value: p.active, labels: { ...labels, partition } });
  }),
  gauge('pool_partition_pending_requests', 'Acquires waiting for the partition.', (stats, labels, out) => {
    for (const [partition, p] of Object.entries(stats.partitions)) out.push({ value: p.waiting, labels: { ...labels, partition } });
  }),
  gauge('pool_partition_max', "The partition's cap on leases.", (stats, labels, out) => {
    for (const [partition, p] of Object.entries(stats.partitions)) out.push({ value: p.max, labels: { ...labels, partition } });
  }),
];
