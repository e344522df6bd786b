import type { CircuitState } from './records.js';
import type { LatencySummary } from './histogram.js';

export type { LatencySummary } from './histogram.js';

export interface NodeStats {
  total: number;
  idle: number;
  active: number;
  creating: number;
  /** Waiters that named this node. */
  waiting: number;
  healthy: boolean;
  circuit: CircuitState;
  /** Leases outstanding on this node's connections. */
  leases: number;
  /** Leases handed out by this node, since the pool started. */
  acquired: number;
  /** Connections created (create succeeded) on this node. */
  created: number;
  /** Connections destroyed on this node, for any reason. */
  destroyed: number;
  /** Create attempts that failed on this node, retries included. */
  createFailures: number;
  /** Validations of this node's connections that failed. */
  validationFailures: number;
  /**
   * Leases the node may carry now: its adaptive limit (adaptiveLimit on), else the static cap
   * maxPerNode × maxLeasesPerConnection.
   */
  limit: number;
  /** With `PoolOptions.permits` only: this node's permits held and creates waiting for one. */
  permits?: PermitStats;
}

export interface PermitStats {
  /** Permits held: one per connection from the start of its create until its destroy settled. */
  held: number;
  /** Creates waiting for a permit. */
  waiting: number;
}

export interface PartitionStats {
  active: number;
  waiting: number;
  max: number;
}

/** A synchronous, JSON-serialisable snapshot of a pool. */
export interface PoolStats {
  /** `PoolOptions.name`: what metrics and diagnostics channels call this pool. */
  name: string;
  /** Connections the pool may hold at once: min(maxTotal, maxPerNode x nodes). */
  max: number;
  /** Idle connections the maintainer keeps warm: minIdlePerNode x nodes. */
  minIdle: number;
  /** Connections in every state, from the start of their create until their destroy settled. */
  total: number;
  idle: number;
  /** Connections holding at least one lease. */
  active: number;
  creating: number;
  waiting: number;
  /** Leases outstanding; above `active` when connections are multiplexed. */
  leases: number;
  created: number;
  destroyed: number;
  acquired: number;
  released: number;
  timeouts: number;
  aborted: number;
  createFailures: number;
  validationFailures: number;
  leaksDetected: number;
  /** Time from acquire to lease, over every lease granted. */
  waitMs: LatencySummary;
  /** Time a successful create took. */
  createMs: LatencySummary;
  /** How long leases were held, from acquire to release or destroy. */
  useMs: LatencySummary;
  nodes: Record<string, NodeStats>;
  partitions: Record<string, PartitionStats>;
  /** With `PoolOptions.permits` only: permits held and creates waiting for one, over all nodes. */
  permits?: PermitStats;
}

export interface NodeHealth {
  healthy: boolean;
  active: number;
  idle: number;
  /** Connections being created. */
  pending: number;
  lastError?: string;
}

export interface PoolHealthReport {
  /** True when every node is healthy. */
  healthy: boolean;
  /** ms epoch of the check. */
  checkedAt: number;
  nodes: Record<string, NodeHealth>;
}
