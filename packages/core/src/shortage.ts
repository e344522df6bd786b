import type { PoolNode, ResolvedOptions } from './options.js';
import type { NodeState, Waiter } from './records.js';

/** What a shortage report reads: the limits and the pool-wide counts. */
export interface ShortageBooks<C, N extends PoolNode> {
  readonly options: Pick<ResolvedOptions<C, N>, 'maxPerNode' | 'maxTotal' | 'maxLeasesPerConnection'>;
  readonly nodeList: readonly NodeState<C, N>[];
  readonly total: number;
  readonly active: number;
  readonly creating: number;
  readonly leases: number;
  readonly waiters: { readonly size: number };
}

/** Says what was full for a waiter that timed out: the first thing a user needs to tune. */
export function describeShortage<C, N extends PoolNode>(pool: ShortageBooks<C, N>, waiter: Waiter<C, N>): string {
  const { maxPerNode, maxTotal, maxLeasesPerConnection } = pool.options;
  const parts: string[] = [];
  if (waiter.partition && !waiter.partition.hasRoom) {
    parts.push(`partition '${waiter.partition.name}' at its max of ${waiter.partition.max} leases`);
  }
  if (waiter.node) {
    const node = waiter.node;
    parts.push(`node '${node.id}' has ${node.total}/${maxPerNode} connections (${node.active} active, ${node.creating} creating, circuit ${node.circuit})`);
  } else {
    parts.push(`${pool.total}${maxTotal === Infinity ? '' : `/${maxTotal}`} connections over ${pool.nodeList.length} node(s) (${pool.active} active, ${pool.creating} creating, maxPerNode ${maxPerNode})`);
  }
  if (maxLeasesPerConnection > 1) parts.push(`${pool.leases} leases at up to ${maxLeasesPerConnection} per connection`);
  parts.push(`${pool.waiters.size} waiting`);
  return parts.join('; ');
}
