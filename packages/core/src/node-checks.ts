import type { CircuitPolicy } from './circuit-policy.js';
import type { PoolNode } from './options.js';
import type { NodeState } from './records.js';

/**
 * The node tests the balancer picks by, judged at `now` (set by whoever dispatches). Bound once,
 * so a pick allocates no closure; shared by finding a connection and starting a create.
 */
export class NodeChecks<C, N extends PoolNode> {
  now = 0;

  constructor(
    private readonly circuits: Pick<CircuitPolicy<C, N>, 'refresh'>,
    private readonly maxPerNode: number,
  ) {}

  /** Its circuit brought up to date: may it take new leases? */
  readonly isHealthy = (node: NodeState<C, N>): boolean => {
    if (node.circuit === 'open') this.circuits.refresh(node, this.now);
    return node.isSelectable;
  };

  /** May a connection be created on it now? */
  readonly canCreateOn = (node: NodeState<C, N>): boolean =>
    this.isHealthy(node) && node.mayCreate && node.total < this.maxPerNode && node.leases + node.creating < node.leaseLimit;
}

