import type { AdaptiveLimiter } from './limits/limiter.js';
import type { NodePredicate } from './balancer.js';
import { NodeSelector } from './balancer.js';
import type { Clock } from './clock.js';
import type { PoolEmitter } from './events.js';
import { PoolLease, type LeaseOwner } from './lease.js';
import type { PoolLedger } from './ledger.js';
import type { ConnectionLifecycle } from './lifecycle.js';
import { NodeChecks } from './node-checks.js';
import type { PoolNode, ResolvedOptions } from './options.js';
import type { PartitionState } from './partitions.js';
import { CapacitySupply, type SupplyPool } from './supply.js';
import type { WaiterQueue } from './waiters.js';
import type { NodeState, PooledConnection, Waiter } from './records.js';

/**
 * What dispatch touches: the books a grant moves (read as plain fields: this is the hot path),
 * the queue it serves, the lifecycle's checks and validation, and the engine's rules for a
 * waiter that leaves and a lease that ends. Everything the supply it owns needs, too.
 */
export interface DispatchPool<C, N extends PoolNode>
  extends SupplyPool<C, N>,
    LeaseOwner<C, N>,
    Pick<PoolLedger<C, N>, 'setState' | 'makeIdle' | 'removeAvailable' | 'afterChange' | 'availableNodes' | 'counters' | 'waitMs' | 'available' | 'openCircuits'>,
    Pick<PoolEmitter, 'emit' | 'hasAcquireListeners'> {
  readonly options: Pick<
    ResolvedOptions<C, N>,
    'balancer' | 'factory' | 'maxLeasesPerConnection' | 'maxPerNode' | 'maxTotal' | 'idleOrder' | 'maxUses' | 'validateIdleForMs'
  >;
  readonly clock: Clock;
  readonly waiters: WaiterQueue<C, N>;
  readonly lifecycle: SupplyPool<C, N>['lifecycle'] & Pick<ConnectionLifecycle<C, N>, 'retire' | 'validate' | 'retirementReason'>;
  readonly leakWatch: Set<PoolLease<C, N>> | undefined;
  /** `options.adaptiveLimit` as the engine consults it; undefined when off. */
  readonly limiter: Pick<AdaptiveLimiter, 'onLeaseStart'> | undefined;
  leases: number;
  settleWaiter(waiter: Waiter<C, N>): void;
}

/**
 * Matches capacity to demand: picks nodes and connections, grants leases, and hands freed
 * capacity to waiters in priority and arrival order, skipping (never blocking on) waiters that
 * cannot be served now. Starts creates, validations and evictions on their behalf.
 */
export class Dispatcher<C, N extends PoolNode> {
  private readonly selector: NodeSelector<C, N>;
  private readonly supply: CapacitySupply<C, N>;
  private isPumping = false;
  private isPumpRequested = false;
  /** The node tests, judged at the time of the current dispatch. */
  private readonly checks: NodeChecks<C, N>;
  // Options read on every acquire, resolved once.
  private readonly isExclusive: boolean;
  private readonly isLifo: boolean;
  private readonly maxUses: number;
  /** Validate connections idle at least this long before handing them out; -1 = never. */
  private readonly validateAfterIdleMs: number;

  constructor(private readonly pool: DispatchPool<C, N>) {
    const { options } = pool;
    this.selector = new NodeSelector(options.balancer);
    this.checks = new NodeChecks(pool.circuits, options.maxPerNode);
    this.supply = new CapacitySupply(pool, this.selector, this.checks);
    this.isExclusive = options.maxLeasesPerConnection === 1;
    this.isLifo = options.idleOrder === 'lifo';
    this.maxUses = options.maxUses;
    this.validateAfterIdleMs = options.factory.validate === undefined ? -1 : options.validateIdleForMs;
  }

  /**
   * Gives a connection whose lease just ended straight to the first waiter, skipping the trip
   * through idle and back: the common case under contention. Only when that waiter is the one
   * the full dispatch would pick and nothing (validation, reset, partition) stands between.
   */
  handOff(record: PooledConnection<C, N>, now: number): boolean {
    const waiter = this.pool.waiters.soleHead;
    if (
      waiter === undefined || waiter.validating !== undefined || waiter.affinityKey !== undefined ||
      waiter.failedNodes !== undefined || record.maxLeases !== 1 ||
      (waiter.node !== undefined && waiter.node !== record.node) ||
      (waiter.partition !== undefined && !waiter.partition.hasRoom) ||
      record.isRetired || record.expiresAt <= now || !record.node.isSelectable || record.node.leases >= record.node.leaseLimit
    ) {
      return false;
    }
    this.serve(waiter, record, now);
    return true;
  }

  /** Grants a lease at once when nobody waits ahead and a ready connection needs no validation. */
  tryImmediate(
    node: NodeState<C, N> | undefined,
    affinityKey: string | undefined,
    partition: PartitionState | undefined,
    now: number,
    stack: string | undefined,
  ): PoolLease<C, N> | undefined {
    if (partition !== undefined && !partition.hasRoom) return undefined;
    this.checks.now = now;
    const record = this.findAvailable(node, affinityKey, undefined, now);
    if (record === undefined || this.needsValidation(record, now)) return undefined;
    return this.grant(record, partition, now, 0, stack);
  }


  /** A connection with spare capacity on the node chosen for this request, or undefined. */
  findAvailable(
    node: NodeState<C, N> | undefined,
    affinityKey: string | undefined,
    failedNodes: string[] | undefined,
    now: number,
  ): PooledConnection<C, N> | undefined {
    if (node !== undefined) return node.isSelectable ? this.takeFrom(node, now) : undefined;
    if (this.pool.available === 0) return undefined;
    if (affinityKey !== undefined) {
      const target = this.selector.pick(this.pool.nodeList, this.checks.isHealthy, affinityKey);
      return target ? this.takeFrom(target, now) : undefined;
    }
    const candidates = this.pool.availableNodes;
    if (candidates.length === 1 && failedNodes === undefined) {
      const only = candidates[0]!;
      return only.isSelectable ? this.takeFrom(only, now) : undefined;
    }
    const chosen = failedNodes === undefined ? this.selector.pick(candidates, this.hasAvailable) : this.pickAvoiding(candidates, failedNodes);
    return chosen ? this.takeFrom(chosen, now) : undefined;
  }

  // Its own method: a closure in findAvailable would cost a context allocation on every acquire.
  private pickAvoiding(candidates: readonly NodeState<C, N>[], failedNodes: string[]): NodeState<C, N> | undefined {
    return this.selector.pick(candidates, (candidate) => this.hasAvailable(candidate) && !failedNodes.includes(candidate.id));
  }

  private readonly hasAvailable: NodePredicate<C, N> = (node) => node.available.size > 0 && node.isSelectable && node.leases < node.leaseLimit;

  private takeFrom(node: NodeState<C, N>, now: number): PooledConnection<C, N> | undefined {
    if (node.leases >= node.leaseLimit) return undefined;
    const list = node.available;
    for (;;) {
      let record: PooledConnection<C, N> | undefined;
      if (this.isExclusive) {
        record = this.isLifo ? list.tail : list.head;
      } else {
        // Multiplexed: the least-loaded connection with spare capacity.
        for (let candidate = list.head; candidate; candidate = candidate.next) {
          if (record === undefined || candidate.leases < record.leases || (candidate.leases === record.leases && this.isLifo)) {
            record = candidate;
          }
        }
      }
      if (record === undefined) return undefined;
      if (record.expiresAt > now) return record;
      this.pool.lifecycle.retire(record, 'lifetime', undefined);
    }
  }

  needsValidation(record: PooledConnection<C, N>, now: number): boolean {
    const idleForMs = this.validateAfterIdleMs;
    // A connection that never served a lease has just proven itself by connecting.
    return idleForMs >= 0 && record.leases === 0 && record.useCount > 0 && now - record.idleSince >= idleForMs;
  }

  grant(
    record: PooledConnection<C, N>,
    partition: PartitionState | undefined,
    now: number,
    waitMs: number,
    stack: string | undefined,
  ): PoolLease<C, N> {
    const node = record.node;
    if (record.leases === 0) this.pool.setState(record, 'active');
    record.leases++;
    record.useCount++;
    if (record.leases >= record.maxLeases || record.useCount >= this.maxUses) this.pool.removeAvailable(record);
    node.leases++;
    this.pool.limiter?.onLeaseStart(node.id);
    node.acquired++;
    this.pool.leases++;
    if (partition) partition.active++;
    this.pool.counters.acquired++;
    this.pool.waitMs.record(waitMs);
    const lease = new PoolLease(this.pool, record, partition, now, stack);
    this.pool.leakWatch?.add(lease);
    if (this.pool.hasAcquireListeners) {
      this.pool.emit('acquire', partition ? { node: node.id, waitMs, partition: partition.name } : { node: node.id, waitMs });
    }
    return lease;
  }


  /** Hands freed capacity to waiters, in priority and arrival order, skipping those that cannot be served. */
  pump(now?: number): void {
    if (this.pool.waiters.size === 0 || this.isSaturated()) return;
    if (this.isPumping) {
      this.isPumpRequested = true;
      return;
    }
    this.isPumping = true;
    try {
      do {
        this.isPumpRequested = false;
        this.serveWaiters(now ?? this.pool.clock.now());
        now = undefined;
      } while (this.isPumpRequested && this.pool.waiters.size > 0);
    } finally {
      this.isPumping = false;
    }
  }

  /** Nothing free, nothing to create, nothing failing: no waiter can be served now. */
  private isSaturated(): boolean {
    const nodeCount = this.pool.nodeList.length;
    return this.pool.available === 0 && this.pool.openCircuits === 0 && nodeCount > 0 &&
      (this.pool.total >= this.pool.options.maxTotal || this.pool.total >= this.pool.options.maxPerNode * nodeCount);
  }

  private serveWaiters(now: number): void {
    this.checks.now = now;
    const waiters = this.pool.waiters;
    waiters.startIteration();
    for (let waiter = waiters.advance(now); waiter !== undefined; waiter = waiters.advance(now)) {
      if (waiter.validating !== undefined) continue;
      if (waiter.partition !== undefined && !waiter.partition.hasRoom) continue;
      if (this.isSaturated()) break;
      const record = this.findAvailable(waiter.node, waiter.affinityKey, waiter.failedNodes, now);
      if (record !== undefined) {
        if (this.needsValidation(record, now)) this.validateFor(waiter, record);
        else this.serve(waiter, record, now);
        continue;
      }
      if (!waiter.hasPendingCreate) this.supply.provide(waiter, now);
    }
  }

  private serve(waiter: Waiter<C, N>, record: PooledConnection<C, N>, now: number): void {
    this.pool.settleWaiter(waiter);
    waiter.resolve(this.grant(record, waiter.partition, now, now - waiter.enqueuedAt, waiter.stack));
  }

  private validateFor(waiter: Waiter<C, N>, record: PooledConnection<C, N>): void {
    this.pool.setState(record, 'validating');
    waiter.validating = record;
    if (!this.isExclusive) this.supply.validationStarted(record);
    void this.pool.lifecycle.validate(record, 'acquire').then((isValid) => {
      waiter.validating = undefined;
      // Valid, the pump below serves its riders from this connection; invalid, they go on to a create.
      if (record.riders !== undefined) this.supply.validationEnded(record);
      if (record.state !== 'validating') {
        this.pool.afterChange(); // destroyed meanwhile (drain, node removal): riders look elsewhere
        return;
      }
      if (!isValid) {
        void this.pool.lifecycle.destroy(record, 'invalid', undefined);
        return;
      }
      const now = this.pool.clock.now();
      const retirement = this.pool.lifecycle.retirementReason(record, now);
      if (retirement !== undefined) {
        void this.pool.lifecycle.destroy(record, retirement, record.retiredBecause);
        return;
      }
      this.pool.makeIdle(record, now, false);
      if (!waiter.isSettled && (waiter.partition === undefined || waiter.partition.hasRoom) && record.node.leases < record.node.leaseLimit) {
        this.serve(waiter, record, now);
      }
      this.pool.afterChange();
    });
  }
}
