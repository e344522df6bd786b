import type { Clock } from './clock.js';
import { ConnectionCreator } from './creator.js';
import { WaiterDeadlines } from './deadlines.js';
import { Dispatcher } from './dispatch.js';
import { PoolError } from './errors.js';
import { PoolLease, type Lease, type LeaseOutcome, type LeaseOwner } from './lease.js';
import { PoolLedger } from './ledger.js';
import { ConnectionLifecycle } from './lifecycle.js';
import type { AcquireOptions, PoolNode, ResolvedOptions } from './options.js';
import { createPartitions, type PartitionState } from './partitions.js';
import type { PoolHealthReport } from './stats.js';
import { Waiter, type NodeState, type PooledConnection } from './records.js';
import { WaiterQueue } from './waiters.js';
import { Maintainer } from './maintenance.js';
import { noNodes, unavailable } from './supply.js';
import { NodeMembership } from './membership.js';
import { releaseChannel } from './diagnostics.js';
import { holdWhile, openHold, releaseHold } from './keep-alive.js';
import { checkCallTimeout } from './resolve-options.js';
import { CircuitPolicy } from './circuit-policy.js';
import type { AdaptiveLimiter, LimitChange } from './limits/limiter.js';
import { createAdaptiveLimiter } from './limits/resolve.js';
import { PermitPolicy } from './permits.js';
import type { PoolStats } from './stats.js';

const RESOLVED: Promise<void> = Promise.resolve();

/** The engine: the rules of one pool over its books. Internal; users hold a PoolHandle (pool.ts). */
export class ConnectionPool<C, N extends PoolNode> extends PoolLedger<C, N> implements LeaseOwner<C, N> {
  readonly options: ResolvedOptions<C, N>;
  readonly clock: Clock;
  readonly name: string;
  readonly limits: { readonly maxPerNode: number; readonly maxTotal: number; readonly minIdlePerNode: number; readonly maxLeasesPerConnection: number };
  /** The per-node adaptive concurrency policy; undefined when adaptiveLimit is off. */
  readonly limiter: AdaptiveLimiter | undefined;
  readonly partitions: Map<string, PartitionState>;
  readonly waiters: WaiterQueue<C, N>;
  readonly leakWatch: Set<PoolLease<C, N>> | undefined;
  readonly lifecycle: ConnectionLifecycle<C, N>;
  readonly circuits: CircuitPolicy<C, N>;
  private readonly dispatcher: Dispatcher<C, N>;
  private readonly maintainer: Maintainer<C, N>;
  private readonly membership: NodeMembership<C, N>;
  readonly creator: ConnectionCreator<C, N>;
  private readonly deadlines: WaiterDeadlines<C, N>;
  /** `options.permits` as the engine consults it; undefined (and free) without one. */
  readonly permits: PermitPolicy<C, N> | undefined;

  isClosed = false;
  /** The pool's latest reading of its clock. */
  lastNow: number;
  /** Released connections go through reset and/or validation before idle. */
  private readonly needsRecycle: boolean;
  private drainPromise: Promise<void> | undefined;

  constructor(options: ResolvedOptions<C, N>) {
    super();
    this.options = options;
    this.clock = options.clock;
    this.name = options.name;
    this.limits = options;
    this.partitions = createPartitions(options.partitions);
    this.waiters = new WaiterQueue(options.priorityAgingMs);
    this.leakWatch = options.leakDetectionMs > 0 ? new Set() : undefined;
    this.lastNow = this.clock.now();
    this.needsRecycle = options.factory.reset !== undefined || options.validateOnRelease;
    this.limiter = createAdaptiveLimiter(options.adaptiveLimit, { clock: this.clock, onLimitChange: (change) => this.limitChanged(change) });
    this.lifecycle = new ConnectionLifecycle(this);
    this.permits = options.permits === undefined ? undefined : new PermitPolicy(options.permits, this);
    this.circuits = new CircuitPolicy(options.circuitBreaker, options.createRetry.baseDelayMs, this);
    this.dispatcher = new Dispatcher(this);
    this.creator = new ConnectionCreator(this);
    this.deadlines = new WaiterDeadlines(this);
    this.membership = new NodeMembership(this);
    for (const node of options.nodes) this.membership.insert(node);
    this.maintainer = new Maintainer(this);
    this.maintainer.start();
  }

  get nodes(): readonly N[] {
    return this.membership.view;
  }

  // ---- acquire ----

  acquire(options?: AcquireOptions): Promise<Lease<C, N>> {
    const lease = this.tryAcquire(options);
    return lease === undefined ? this.acquireQueued(options) : Promise.resolve(lease);
  }

  /**
   * A lease at once when a connection is free and nobody waits ahead; otherwise undefined,
   * never waiting and never throwing (acquire() then waits, or says why it cannot).
   */
  tryAcquire(options?: AcquireOptions): Lease<C, N> | undefined {
    if (this.isClosed || this.waiters.size > 0) return undefined;
    let node: NodeState<C, N> | undefined;
    let partition: PartitionState | undefined;
    let affinityKey: string | undefined;
    if (options !== undefined) {
      if (options.signal?.aborted) return undefined;
      // A bad timeoutMs is refused by acquireQueued, even when a connection is free.
      if (options.timeoutMs !== undefined && !isCallTimeout(options.timeoutMs)) return undefined;
      if (options.node !== undefined) {
        node = this.nodeMap.get(options.node);
        if (node === undefined || node.circuit === 'open') return undefined;
      }
      if (options.partition !== undefined) {
        partition = this.partitions.get(options.partition);
        if (partition === undefined) return undefined;
      }
      affinityKey = options.affinityKey;
    }
    const now = this.clock.now();
    this.lastNow = now;
    const stack = this.leakWatch ? new Error('Lease acquired here').stack : undefined;
    return this.dispatcher.tryImmediate(node, affinityKey, partition, now, stack);
  }

  /** The rest of acquire: check the request, then queue it. */
  acquireQueued(options: AcquireOptions | undefined): Promise<Lease<C, N>> {
    if (this.isClosed) return Promise.reject(new PoolError('POOL_CLOSED', 'The pool is closed'));
    let node: NodeState<C, N> | undefined;
    let partition: PartitionState | undefined;
    let priority = 0;
    let affinityKey: string | undefined;
    let signal: AbortSignal | undefined;
    let timeoutMs = this.options.acquireTimeoutMs;
    if (options !== undefined) {
      if (options.timeoutMs !== undefined && !isCallTimeout(options.timeoutMs)) return rejectBadTimeout(options.timeoutMs);
      if (options.node !== undefined) {
        node = this.nodeMap.get(options.node);
        if (node === undefined) return Promise.reject(new PoolError('NODE_UNKNOWN', `No node '${options.node}' in this pool`));
        this.circuits.refresh(node, this.clock.now());
        if (node.circuit === 'open') return Promise.reject(unavailable(node));
      }
      if (options.partition !== undefined) {
        partition = this.partitions.get(options.partition);
        if (partition === undefined) {
          return Promise.reject(new PoolError('PARTITION_UNKNOWN', `No partition '${options.partition}' in this pool`));
        }
        priority = partition.priority;
      }
      if (options.priority !== undefined) priority = options.priority;
      if (options.timeoutMs !== undefined) timeoutMs = options.timeoutMs;
      affinityKey = options.affinityKey;
      signal = options.signal;
      if (signal?.aborted) {
        this.counters.aborted++;
        if (this.hasListeners('abort')) this.emit('abort', { waitedMs: 0, reason: signal.reason });
        return Promise.reject(new PoolError('ABORTED', 'The acquire was aborted', { cause: signal.reason }));
      }
    }
    if (node === undefined && this.nodeList.length === 0) return Promise.reject(noNodes());
    const now = this.clock.now();
    this.lastNow = now;
    const stack = this.leakWatch ? new Error('Lease acquired here').stack : undefined;
    if (this.waiters.size >= this.options.maxWaiting) {
      return Promise.reject(new PoolError('QUEUE_FULL', `${this.waiters.size} acquires are already waiting (maxWaiting ${this.options.maxWaiting})`));
    }
    return this.enqueue(priority, now, now + timeoutMs, node, affinityKey, partition, signal, stack);
  }

  // A method of its own so that acquire's fast path allocates no closure context.
  private enqueue(
    priority: number,
    now: number,
    deadline: number,
    node: NodeState<C, N> | undefined,
    affinityKey: string | undefined,
    partition: PartitionState | undefined,
    signal: AbortSignal | undefined,
    stack: string | undefined,
  ): Promise<Lease<C, N>> {
    const waiter = new Waiter<C, N>(priority, now, this.waiters.nextSequence(), deadline, node, affinityKey, partition, signal, stack);
    const promise = new Promise<Lease<C, N>>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    this.waiters.push(waiter);
    // Until it settles, a waiting acquire keeps the process alive, whatever it waits on.
    openHold();
    if (partition) partition.waiting++;
    if (node) node.waiting++;
    if (signal) {
      waiter.abortListener = () => this.deadlines.abort(waiter);
      signal.addEventListener('abort', waiter.abortListener, { once: true });
    }
    this.deadlines.watch(deadline, now);
    this.pump(now);
    return promise;
  }

  /** Hands freed capacity to waiters. */
  pump(now?: number): void {
    this.dispatcher.pump(now);
  }

  // ---- release ----

  endLease(lease: PoolLease<C, N>, destroyReason: unknown, isDestroy: boolean, outcome?: LeaseOutcome): Promise<void> {
    lease.isEnded = true;
    const record = lease.record;
    const node = record.node;
    record.leases--;
    node.leases--;
    this.leases--;
    if (lease.partition) lease.partition.active--;
    this.counters.released++;
    this.leakWatch?.delete(lease);
    // One clock read per release: useMs needs it (the pool's last reading may be a maintenance
    // interval old), and the idle time, waiters and listeners then share it.
    const now = this.clock.now();
    const heldMs = now - lease.acquiredAt;
    this.useMs.record(heldMs);
    // A destroyed lease counts as dropped: its connection broke under it.
    if (this.limiter !== undefined) this.limiter.onLeaseEnd(node.id, outcome?.latencyMs ?? heldMs, outcome?.dropped ?? isDestroy);
    if (this.hasReleaseListeners) {
      this.emit('release', lease.partition ? { node: node.id, heldMs, partition: lease.partition.name } : { node: node.id, heldMs });
    }
    if (releaseChannel.hasSubscribers) {
      releaseChannel.publish(lease.partition
        ? { pool: this.name, node: node.id, heldMs, partition: lease.partition.name }
        : { pool: this.name, node: node.id, heldMs });
    }
    if (record.state === 'closing') {
      this.afterChange();
      return RESOLVED;
    }
    if (isDestroy) return this.lifecycle.retire(record, 'broken', destroyReason);
    if (record.leases > 0) {
      // A multiplexed connection still in use: it may take leases again, up to its current cap.
      if (!record.isRetired && record.useCount < this.options.maxUses && record.expiresAt > now && !this.lifecycle.isWindingDown(node)) {
        this.lifecycle.refreshMaxLeases(record);
        if (!record.hasSpareCapacity) this.removeAvailable(record);
        else if (!record.isAvailable) this.addAvailable(record);
      }
      this.afterChange();
      return RESOLVED;
    }
    const retirement = this.lifecycle.retirementReason(record, now);
    if (retirement !== undefined) return this.lifecycle.destroy(record, retirement, record.retiredBecause);
    if (this.needsRecycle) {
      const pending = this.lifecycle.resetNow(record);
      // The caller may await release(): an async reset keeps the process alive until it ends.
      if (pending !== undefined) return holdWhile(pending);
      // The reset may have retired it (a transport that found the connection unusable).
      if (record.isRetired) return this.lifecycle.destroy(record, 'broken', record.retiredBecause);
    }
    this.reuse(record, now);
    return RESOLVED;
  }

  /** Back into service: straight to the first waiter when possible, else idle. */
  reuse(record: PooledConnection<C, N>, now: number): void {
    this.lifecycle.refreshMaxLeases(record);
    if (this.waiters.size > 0 && this.dispatcher.handOff(record, now)) return;
    this.makeIdle(record, now, true);
    this.afterChange(now);
  }

  private limitChanged(change: LimitChange): void {
    const node = this.nodeMap.get(change.node);
    if (node !== undefined) node.leaseLimit = change.limit;
    if (this.hasListeners('limitChange')) this.emit('limitChange', change);
  }

  // ---- waiters leaving the queue ----

  settleWaiter(waiter: Waiter<C, N>): void {
    waiter.isSettled = true;
    this.waiters.remove(waiter);
    releaseHold();
    if (waiter.partition) waiter.partition.waiting--;
    if (waiter.node) waiter.node.waiting--;
    if (waiter.abortListener) waiter.signal?.removeEventListener('abort', waiter.abortListener);
  }

  failWaiter(waiter: Waiter<C, N>, error: PoolError): void {
    if (waiter.isSettled) return;
    this.settleWaiter(waiter);
    waiter.reject(error);
  }

  // ---- books ----

  override forgetRecord(record: PooledConnection<C, N>): void {
    super.forgetRecord(record);
    if (record.permit !== undefined) this.permits?.release(record);
  }

  override stats(): PoolStats {
    const stats = super.stats();
    this.permits?.addStats(stats);
    return stats;
  }

  // ---- nodes ----

  /** Tops every node up to minIdlePerNode. */
  warm(): void {
    this.maintainer.warm(this.clock.now());
  }

  addNode(node: N): void {
    this.membership.add(node);
  }

  removeNode(id: string, options?: { drain?: boolean }): Promise<void> {
    return this.membership.remove(id, options?.drain === true);
  }

  drainNode(id: string, options?: { timeoutMs?: number }): Promise<void> {
    return this.membership.drainNode(id, options?.timeoutMs ?? Infinity);
  }

  // ---- drain / close ----

  drain(options?: { timeoutMs?: number }): Promise<void> {
    if (this.drainPromise) return this.drainPromise;
    this.isClosed = true;
    this.maintainer.stop();
    this.deadlines.stop();
    this.waiters.forEach((waiter) => this.failWaiter(waiter, new PoolError('POOL_CLOSED', 'The pool was drained while this acquire waited')));
    const timeoutMs = options?.timeoutMs ?? Infinity;
    this.drainPromise = (async () => {
      await Promise.all(this.nodeList.map((node) => this.membership.empty(node, timeoutMs, 'drain')));
      await this.whenDone(() => this.total === 0);
    })();
    return this.drainPromise;
  }

  async close(): Promise<void> {
    await this.drain({ timeoutMs: 0 });
  }

  reportError(error: unknown, during: string, node?: string): void {
    this.emit('error', node === undefined ? { error, during } : { error, during, node });
  }

  health(): Promise<PoolHealthReport> {
    return this.maintainer.checkHealth();
  }
}

/** A per-call timeout the engine can use: a number >= 0, finite or Infinity (checked without allocating). */
function isCallTimeout(value: unknown): boolean {
  return typeof value === 'number' && value >= 0;
}

function rejectBadTimeout(value: unknown): Promise<never> {
  try {
    checkCallTimeout('timeoutMs', value);
  } catch (error) {
    return Promise.reject(error);
  }
  return Promise.reject(new Error(`timeoutMs ${String(value)} is refused by the engine but not by checkCallTimeout`));
}
