import type { CircuitBreakerOptions, Lease, PoolNode } from './options.js';
import type { PartitionState } from './partitions.js';
import type { Permit } from './permit-source.js';

// The pool's records: a node, its connections and the waiters counting on them. They point at
// one another (a node holds its connections, a connection knows its node and the waiter its
// create is for, a waiter the connection validated for it), so they are one module: the bottom
// of core, below the books (ledger.ts), the policies and the engine's rules. Plain data and the
// few transitions that keep one record consistent; nothing here reaches another module's state.

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

export type ConnectionState = 'creating' | 'idle' | 'active' | 'validating' | 'closing';

/** The pool's record of one connection: state, counters and its place in its node's lists. */
export class PooledConnection<C, N extends PoolNode> {
  connection: C | undefined = undefined;
  state: ConnectionState = 'creating';
  createdAt = 0;
  /** When maxLifetimeMs (less jitter) runs out; Infinity when it never does. */
  expiresAt = Infinity;
  /** When the connection last had no lease (or was created). */
  idleSince = 0;
  lastValidatedAt = 0;
  leases = 0;
  maxLeases: number;
  /** Leases served, the current ones included. */
  useCount = 0;
  /** Retired: never handed to a new lease, destroyed when its last lease ends. */
  isRetired = false;
  retiredBecause: unknown = undefined;
  /** The waiter a create is under way for; it fails over or gets CREATE_FAILED if the create fails. */
  sponsor: Waiter<C, N> | undefined = undefined;
  /**
   * Further waiters counting on this create, or on this validation for a waiter: a multiplexed
   * connection serves several.
   */
  riders: Waiter<C, N>[] | undefined = undefined;
  /** Its permit, when the pool has `permits` (permits.ts). */
  permit: Permit | undefined = undefined;

  // Links of the node's list of connections with spare lease capacity.
  isAvailable = false;
  prev: PooledConnection<C, N> | undefined = undefined;
  next: PooledConnection<C, N> | undefined = undefined;

  constructor(
    readonly node: NodeState<C, N>,
    maxLeases: number,
  ) {
    this.maxLeases = maxLeases;
  }

  get hasSpareCapacity(): boolean {
    return this.leases < this.maxLeases;
  }
}

/** A doubly linked list of connections: O(1) push, pop at either end and removal anywhere. */
export class ConnectionList<C, N extends PoolNode> {
  head: PooledConnection<C, N> | undefined = undefined;
  tail: PooledConnection<C, N> | undefined = undefined;
  size = 0;

  push(connection: PooledConnection<C, N>): void {
    connection.isAvailable = true;
    connection.prev = this.tail;
    connection.next = undefined;
    if (this.tail) this.tail.next = connection;
    else this.head = connection;
    this.tail = connection;
    this.size++;
  }

  remove(connection: PooledConnection<C, N>): void {
    if (!connection.isAvailable) return;
    connection.isAvailable = false;
    if (connection.prev) connection.prev.next = connection.next;
    else this.head = connection.next;
    if (connection.next) connection.next.prev = connection.prev;
    else this.tail = connection.prev;
    connection.prev = undefined;
    connection.next = undefined;
    this.size--;
  }
}

/** An acquire that found no capacity, queued until it is served, times out or aborts. */
export class Waiter<C, N extends PoolNode> {
  prev: Waiter<C, N> | undefined = undefined;
  next: Waiter<C, N> | undefined = undefined;
  level: PriorityLevel<C, N> | undefined = undefined;
  isSettled = false;
  /** A create (or an eviction to make room) is under way on this waiter's behalf. */
  hasPendingCreate = false;
  /** The connection being validated for this waiter. */
  validating: PooledConnection<C, N> | undefined = undefined;
  /** Nodes whose create failed for this waiter; failover skips them. */
  failedNodes: string[] | undefined = undefined;
  lastCreateError: unknown = undefined;
  abortListener: (() => void) | undefined = undefined;
  /** Settle the acquire's promise; set right after construction. */
  resolve: (lease: Lease<C, N>) => void = noop;
  reject: (error: unknown) => void = noop;

  constructor(
    readonly priority: number,
    readonly enqueuedAt: number,
    readonly sequence: number,
    readonly deadline: number,
    readonly node: NodeState<C, N> | undefined,
    readonly affinityKey: string | undefined,
    readonly partition: PartitionState | undefined,
    readonly signal: AbortSignal | undefined,
    readonly stack: string | undefined,
  ) {}
}

function noop(): void {}

/** The waiters of one priority, FIFO: the links a waiter sits in while it waits (waiters.ts orders the levels). */
export class PriorityLevel<C, N extends PoolNode> {
  head: Waiter<C, N> | undefined = undefined;
  tail: Waiter<C, N> | undefined = undefined;
  /** Cursor used while iterating in merged order. */
  cursor: Waiter<C, N> | undefined = undefined;

  constructor(readonly priority: number) {}
}
