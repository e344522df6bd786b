import type { NodeStats, PoolStats } from '@pool/core';
import type { ActivityEntry, ActivityLog } from './activity.js';
import type { PoolName } from './config.js';
import type { Peers } from './peers.js';
import type { Pools } from './pools.js';
import type { WaitWindow } from './wait-window.js';
import type { OperationName, OperationStats, Workload } from './workload.js';

export interface NodeSnapshot extends NodeStats {
  id: string;
  endpoint: string;
  embedded: boolean;
  /** Whether the embedded server is up (always true for an external one: the demo cannot tell). */
  running: boolean;
}

export interface PoolSnapshot {
  name: PoolName;
  stats: Omit<PoolStats, 'nodes'>;
  /** Acquire wait of the last 5 s, ms. */
  recentWait: { p50: number; p99: number; count: number };
  nodes: NodeSnapshot[];
}

/** What the dashboard receives a few times a second. */
export interface Snapshot {
  at: number;
  rate: number;
  pools: PoolSnapshot[];
  operations: Record<OperationName, OperationStats>;
  activity: ActivityEntry[];
}

export function buildSnapshot(parts: {
  peers: Peers;
  pools: Pools;
  workload: Workload;
  activity: ActivityLog;
  waitWindows: ReadonlyMap<PoolName, WaitWindow>;
}): Snapshot {
  const now = Date.now();
  return {
    at: now,
    rate: parts.workload.rate,
    pools: parts.pools.all.map(({ name, pool }) => {
      const { nodes, ...stats } = pool.stats();
      return {
        name,
        stats,
        recentWait: parts.waitWindows.get(name)?.percentiles(now) ?? { p50: 0, p99: 0, count: 0 },
        nodes: Object.entries(nodes).map(([id, node]) => {
          const peer = parts.peers.nodes.find((candidate) => candidate.pool === name && candidate.id === id);
          return {
            id,
            ...node,
            endpoint: peer?.endpoint ?? '',
            embedded: peer?.embedded ?? false,
            running: peer?.isRunning() ?? true,
          };
        }),
      };
    }),
    operations: parts.workload.stats(),
    activity: parts.activity.recent(),
  };
}
