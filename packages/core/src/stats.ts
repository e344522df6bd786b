import type { CircuitState } from './node.js';
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
}

export interface PartitionStats {
  active: number;
  waiting: number;
  max: number;
}

/** A synchronous, JSON-serialisable snapshot of a pool. */
export interface PoolStats {
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
  waitMs: LatencySummary;
  createMs: LatencySummary;
  nodes: Record<string, NodeStats>;
  partitions: Record<string, PartitionStats>;
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
