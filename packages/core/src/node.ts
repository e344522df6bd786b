import type { CircuitBreakerOptions, PoolNode } from './options.js';
import { ConnectionList, type PooledConnection } from './connection.js';
import type { CircuitPolicy } from './circuit-policy.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** One backend node: its connections, counters and circuit breaker. */
export class NodeState<C, N extends PoolNode> {
  readonly id: string;
  readonly weight: number;
  /** Every connection of the node, creating and closing ones included. */
  readonly connections = new Set<PooledConnection<C, N>>();
  /** Connections that can take another lease now. */
  readonly available = new ConnectionList<C, N>();
  idle = 0;
  active = 0;
  creating = 0;
  leases = 0;
  /** Waiters that named this node. */
  waiting = 0;
  /** Leases the node may carry now: its adaptive limit, Infinity when adaptiveLimit is off. */
  leaseLimit = Infinity;
  /** Index in the pool's node array, for O(1) removal. */
  index = -1;
  /**
   * Leases a new connection of this node is expected to carry: the cap its latest connection
   * reported (factory.maxLeases), so a burst starts as many creates as it will need.
   */
  leaseCapHint = Infinity;
  /** Connections being validated for a waiter, which other waiters may ride on (multiplexed only). */
  validatingForAcquire = 0;
  /** Index in the pool's list of nodes with available connections; -1 when not in it. */
  availableIndex = -1;
  isRemoved = false;
  isDraining = false;
  lastError: string | undefined = undefined;
  // Per-node counters behind stats().nodes.
  acquired = 0;
  created = 0;
  destroyed = 0;
  createFailures = 0;
  validationFailures = 0;

  circuit: CircuitState = 'closed';
  consecutiveFailures = 0;
  openedAt = 0;
  isTrialInFlight = false;
  /** Half-open trials that failed since the circuit opened: the probing backoff doubles with each. */
  failedTrials = 0;

  constructor(readonly node: N) {
    this.id = node.id;
    this.weight = node.weight ?? 1;
  }

  get total(): number {
    return this.connections.size;
  }

  /** The open circuit's wait is over (CircuitPolicy decides when): let one trial create through. */
  halfOpen(): void {
    this.circuit = 'half-open';
    this.isTrialInFlight = false;
  }

  /** A create succeeded; true when that closed the circuit. */
  recordSuccess(): boolean {
    this.consecutiveFailures = 0;
    this.failedTrials = 0;
    this.lastError = undefined;
    this.isTrialInFlight = false;
    if (this.circuit === 'closed') return false;
    this.circuit = 'closed';
    return true;
  }

  /**
   * A create failed. Opens the circuit at the threshold ('opened'), or again after a failed
   * half-open trial ('reopened').
   */
  recordFailure(now: number, breaker: CircuitBreakerOptions | false): 'opened' | 'reopened' | undefined {
    this.isTrialInFlight = false;
    if (!breaker) return undefined;
    this.consecutiveFailures++;
    if (this.circuit === 'half-open') {
      this.failedTrials++;
      this.circuit = 'open';
      this.openedAt = now;
      return 'reopened';
    }
    if (this.circuit === 'closed' && this.consecutiveFailures >= breaker.failureThreshold) {
      this.failedTrials = 0;
      this.circuit = 'open';
      this.openedAt = now;
      return 'opened';
    }
    return undefined;
  }

  /** True when the circuit lets a create through now (a half-open one lets exactly one). */
  get mayCreate(): boolean {
    return this.circuit === 'closed' || (this.circuit === 'half-open' && !this.isTrialInFlight);
  }

  /** True when new leases may be placed here: not removed, not draining, circuit not open. */
  get isSelectable(): boolean {
    return !this.isRemoved && !this.isDraining && this.circuit !== 'open';
  }
}

/**
 * The node tests the balancer picks by, judged at `now` (set by whoever dispatches). Bound once,
 * so a pick allocates no closure; shared by finding a connection and starting a create.
 */
export class NodeChecks<C, N extends PoolNode> {
  now = 0;

  constructor(
    private readonly circuits: CircuitPolicy<C, N>,
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

