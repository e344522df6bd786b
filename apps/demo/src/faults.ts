import type { PoolName } from './config.js';
import type { Peers } from './peers.js';
import type { Pools } from './pools.js';

/** One button of the dashboard: a fault to inject or a peer to bring back. */
export interface FaultAction {
  /** `pool/node/action` or `pool/action`. */
  id: string;
  pool: PoolName;
  node?: string;
  /** `stop`, `start`, `goaway`, `drop`, `terminate`, ... */
  action: string;
  label: string;
  /** Runs the action; resolves with a line for the activity log. */
  run(): Promise<string>;
}

/**
 * Every fault the demo can inject: stop and start each embedded server, reset TCP connections,
 * send HTTP/2 GOAWAY, and terminate the pg pool's backends (that one also works on an external
 * PostgreSQL, for backends of this demo only).
 */
export function listFaults(peers: Peers, pools: Pools): FaultAction[] {
  const faults: FaultAction[] = [{
    id: 'pg/terminate',
    pool: 'pg',
    action: 'terminate',
    label: 'terminate backends',
    run: async () => {
      // Runs on one of the pool's own connections; every other connection of the demo is cut.
      const result = await pools.pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (
           SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = 'pool-demo' AND pid <> pg_backend_pid()) AS terminated`,
        [],
        { partition: 'api', acquireTimeoutMs: 3_000 },
      );
      return `pg_terminate_backend: ${result.rows[0]?.n ?? 0} backends of the demo terminated`;
    },
  }];
  for (const node of peers.nodes) {
    for (const action of node.actions) {
      faults.push({
        id: `${node.pool}/${node.id}/${action.name}`,
        pool: node.pool,
        node: node.id,
        action: action.name,
        label: action.label,
        run: async () => {
          await action.run();
          return `${action.label}: ${node.id} (${node.endpoint})`;
        },
      });
    }
  }
  return faults;
}
