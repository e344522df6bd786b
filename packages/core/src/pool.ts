import { NodeSelector, type NodePredicate } from './balancer.js';
import { type Clock, type ClockTimer, setUnrefTimeout } from './clock.js';
import { PooledConnection, type ConnectionState } from './connection.js';
import { PoolError, describeError } from './errors.js';
import { PoolEmitter, type DestroyReason } from './events.js';
import { Histogram } from './histogram.js';
import { PoolLease, type Lease, type LeaseOwner } from './lease.js';
import { NodeState } from './node.js';
import { checkNode, type PoolNode, type PoolOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { createPartitions, type PartitionState } from './partitions.js';
import type { PoolHealthReport, PoolStats } from './stats.js';
import { Waiter, WaiterQueue } from './waiters.js';
import { Maintainer } from './maintenance.js';
import { describeShortage } from './shortage.js';

export interface AcquireOptions {
  /** A specific node; otherwise the balancer picks. */
  node?: string;
  /** Same key, same node while it is healthy (rendezvous hashing). */
  affinityKey?: string;
  /** Counts against that partition's cap from acquire to release. */
  partition?: string;
  /** Higher first; default 0, or the partition's priority. */
  priority?: number;
  signal?: AbortSignal;
  /** Overrides acquireTimeoutMs. */
  timeoutMs?: number;
}

/** A pool of connections over one or more nodes. */
export interface Pool<C, N extends PoolNode = PoolNode> extends AsyncDisposable {
  acquire(options?: AcquireOptions): Promise<Lease<C, N>>;
  use<R>(fn: (connection: C, lease: Lease<C, N>) => Promise<R> | R, options?: AcquireOptions): Promise<R>;
  addNode(node: N): void;
  removeNode(id: string, options?: { drain?: boolean }): Promise<void>;
  drainNode(id: string, options?: { timeoutMs?: number }): Promise<void>;
  drain(options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
  stats(): PoolStats;
  health(): Promise<PoolHealthReport>;
  readonly nodes: readonly N[];
  on: PoolEmitter['on'];
  off: PoolEmitter['off'];
  once: PoolEmitter['once'];
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Creates a pool; validates the options first (PoolError INVALID_OPTIONS). */
export function createPool<C, N extends PoolNode = PoolNode>(options: PoolOptions<C, N>): Pool<C, N> {
  return new ConnectionPool(resolveOptions(options));
}

export class ConnectionPool<C, N extends PoolNode> extends PoolEmitter implements Pool<C, N>, LeaseOwner<C, N> {
  readonly options: ResolvedOptions<C, N>;
  readonly clock: Clock;
  readonly nodeList: NodeState<C, N>[] = [];
  readonly nodeMap = new Map<string, NodeState<C, N>>();
  readonly partitions: Map<string, PartitionState>;
  readonly waiters: WaiterQueue<C, N>;
  readonly leakWatch: Set<PoolLease<C, N>> | undefined;
  private readonly selector: NodeSelector<C, N>;
  private readonly maintainer: Maintainer<C, N>;
  private nodesView: readonly N[] = [];

  // Pool-wide counts, kept in step with the nodes' own.
  total = 0;
  idle = 0;
  active = 0;
  creating = 0;
  leases = 0;
  /** Connections with spare lease capacity, over all nodes. */
  available = 0;
  /** Nodes whose circuit is not closed; while any is, every pump visits every waiter. */
  openCircuits = 0;

  readonly counters = {
    created: 0, destroyed: 0, acquired: 0, released: 0, timeouts: 0, aborted: 0,
    createFailures: 0, validationFailures: 0, leaksDetected: 0,
  };
  readonly waitMs = new Histogram();
  readonly createMs = new Histogram();

  isClosed = false;
  private drainPromise: Promise<void> | undefined;
  private isPumping = false;
  private isPumpRequested = false;
  private deadlineTimer: ClockTimer | undefined;
  private deadlineAt = Infinity;
  private readonly watchers = new Set<() => void>();
  readonly createControllers = new Map<PooledConnection<C, N>, AbortController>();
  /** Backoff sleeps between create attempts, by connection, so shutdown can cut them short. */
  private readonly retrySleeps = new Map<PooledConnection<C, N>, { timer: ClockTimer; wake: () => void }>();
  /** Time of the current pump, read by the node predicates below (bound once, no closure per call). */
  private now = 0;

  constructor(options: ResolvedOptions<C, N>) {
    super();
    this.options = options;
    this.clock = options.clock;
    this.partitions = createPartitions(options.partitions);
    this.waiters = new WaiterQueue(options.priorityAgingMs);
    this.selector = new NodeSelector(options.balancer);
    this.leakWatch = options.leakDetectionMs > 0 ? new Set() : undefined;
    for (const node of options.nodes) this.insertNode(node);
    this.maintainer = new Maintainer(this);
    this.maintainer.start();
  }

  get nodes(): readonly N[] {
    return this.nodesView;
  }

  // ---- acquire ----

  acquire(options?: AcquireOptions): Promise<Lease<C, N>> {
    if (this.isClosed) return Promise.reject(new PoolError('POOL_CLOSED', 'The pool is closed'));
    let node: NodeState<C, N> | undefined;
    let partition: PartitionState | undefined;
    let priority = 0;
    let affinityKey: string | undefined;
    let signal: AbortSignal | undefined;
    let timeoutMs = this.options.acquireTimeoutMs;
    if (options !== undefined) {
      if (options.node !== undefined) {
        node = this.nodeMap.get(options.node);
        if (node === undefined) return Promise.reject(new PoolError('NODE_UNKNOWN', `No node '${options.node}' in this pool`));
        node.refreshCircuit(this.clock.now(), this.options.circuitBreaker);
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
    const now = this.clock.now();
    const stack = this.leakWatch ? new Error('Lease acquired here').stack : undefined;
    // Fast path: nobody is queued ahead and a connection is ready now.
    if (this.waiters.size === 0 && (partition === undefined || partition.hasRoom)) {
      this.now = now;
      const record = this.findAvailable(node, affinityKey, undefined, now);
      if (record !== undefined && !this.needsValidation(record, now)) {
        return Promise.resolve(this.grant(record, partition, now, 0, stack));
      }
    }
    if (this.waiters.size >= this.options.maxWaiting) {
      return Promise.reject(new PoolError('QUEUE_FULL', `${this.waiters.size} acquires are already waiting (maxWaiting ${this.options.maxWaiting})`));
    }
    return new Promise<Lease<C, N>>((resolve, reject) => {
      const waiter = new Waiter<C, N>(resolve, reject, priority, now, this.waiters.nextSequence(), now + timeoutMs,
        node, affinityKey, partition, signal, stack);
      this.waiters.push(waiter);
      if (partition) partition.waiting++;
      if (node) node.waiting++;
      if (signal) {
        waiter.abortListener = () => this.abortWaiter(waiter);
        signal.addEventListener('abort', waiter.abortListener, { once: true });
      }
      if (waiter.deadline < this.deadlineAt) this.armDeadline(waiter.deadline, now);
      this.pump(now);
    });
  }

  async use<R>(fn: (connection: C, lease: Lease<C, N>) => Promise<R> | R, options?: AcquireOptions): Promise<R> {
    const lease = (await this.acquire(options)) as PoolLease<C, N>;
    let result: R;
    try {
      result = await fn(lease.connection, lease);
    } catch (error) {
      if (!lease.isEnded) {
        const ending = this.isBrokenBy(error, lease) ? lease.destroy(error) : lease.release();
        await ending.catch((endError: unknown) => this.emit('error', { error: endError, during: 'use', node: lease.record.node.id }));
      }
      throw error;
    }
    if (!lease.isEnded) await lease.release();
    return result;
  }

  private isBrokenBy(error: unknown, lease: PoolLease<C, N>): boolean {
    const { isBroken } = this.options.factory;
    if (!isBroken) return lease.record.isRetired || lease.record.state === 'closing';
    try {
      return isBroken.call(this.options.factory, error, lease.connection);
    } catch {
      return true;
    }
  }

  // ---- finding and granting connections ----

  /** A connection with spare capacity on the node chosen for this request, or undefined. */
  private findAvailable(
    node: NodeState<C, N> | undefined,
    affinityKey: string | undefined,
    failedNodes: string[] | undefined,
    now: number,
  ): PooledConnection<C, N> | undefined {
    if (node !== undefined) return node.isSelectable ? this.takeFrom(node, now) : undefined;
    if (this.available === 0) return undefined;
    if (affinityKey !== undefined) {
      const target = this.selector.pick(this.nodeList, this.isHealthy, affinityKey);
      return target ? this.takeFrom(target, now) : undefined;
    }
    const chosen = this.selector.pick(this.nodeList, failedNodes ? (candidate) => this.hasAvailable(candidate) && !failedNodes.includes(candidate.id) : this.hasAvailable);
    return chosen ? this.takeFrom(chosen, now) : undefined;
  }

  private readonly isHealthy: NodePredicate<C, N> = (node) => {
    node.refreshCircuit(this.now, this.options.circuitBreaker);
    return node.isSelectable;
  };

  private readonly hasAvailable: NodePredicate<C, N> = (node) => node.available.size > 0 && node.isSelectable;

  private takeFrom(node: NodeState<C, N>, now: number): PooledConnection<C, N> | undefined {
    const list = node.available;
    for (;;) {
      let record: PooledConnection<C, N> | undefined;
      if (this.options.maxLeasesPerConnection === 1) {
        record = this.options.idleOrder === 'lifo' ? list.tail : list.head;
      } else {
        // Multiplexed: the least-loaded connection with spare capacity.
        for (let candidate = list.head; candidate; candidate = candidate.next) {
          if (record === undefined || candidate.leases < record.leases || (candidate.leases === record.leases && this.options.idleOrder === 'lifo')) {
            record = candidate;
          }
        }
      }
      if (record === undefined) return undefined;
      if (record.expiresAt > now) return record;
      this.retire(record, 'lifetime', undefined);
    }
  }

  needsValidation(record: PooledConnection<C, N>, now: number): boolean {
    const idleForMs = this.options.validateIdleForMs;
    // A connection that never served a lease has just proven itself by connecting.
    return idleForMs >= 0 && record.leases === 0 && record.useCount > 0 && this.options.factory.validate !== undefined && now - record.idleSince >= idleForMs;
  }

  private grant(
    record: PooledConnection<C, N>,
    partition: PartitionState | undefined,
    now: number,
    waitMs: number,
    stack: string | undefined,
  ): PoolLease<C, N> {
    const node = record.node;
    if (record.leases === 0) this.setState(record, 'active');
    record.leases++;
    record.useCount++;
    if (record.leases >= record.maxLeases || record.useCount >= this.options.maxUses) this.removeAvailable(record);
    node.leases++;
    this.leases++;
    if (partition) partition.active++;
    this.counters.acquired++;
    this.waitMs.record(waitMs);
    const lease = new PoolLease(this, record, partition, now, stack);
    this.leakWatch?.add(lease);
    if (this.hasListeners('acquire')) {
      this.emit('acquire', partition ? { node: node.id, waitMs, partition: partition.name } : { node: node.id, waitMs });
    }
    return lease;
  }

  // ---- release ----

  endLease(lease: PoolLease<C, N>, destroyReason: unknown, isDestroy: boolean): Promise<void> {
    lease.isEnded = true;
    const record = lease.record;
    const node = record.node;
    record.leases--;
    node.leases--;
    this.leases--;
    if (lease.partition) lease.partition.active--;
    this.counters.released++;
    this.leakWatch?.delete(lease);
    const now = this.clock.now();
    if (this.hasListeners('release')) {
      const heldMs = now - lease.acquiredAt;
      this.emit('release', lease.partition ? { node: node.id, heldMs, partition: lease.partition.name } : { node: node.id, heldMs });
    }
    if (record.state === 'closing') {
      this.afterChange();
      return RESOLVED;
    }
    if (isDestroy) return this.retire(record, 'broken', destroyReason);
    if (record.leases > 0) {
      // A multiplexed connection still in use: it may take leases again.
      if (!record.isAvailable && !record.isRetired && record.useCount < this.options.maxUses && record.expiresAt > now && !this.isWindingDown(node)) {
        this.refreshMaxLeases(record);
        if (record.hasSpareCapacity) this.addAvailable(record);
      }
      this.afterChange();
      return RESOLVED;
    }
    const retirement = this.retirementReason(record, now);
    if (retirement !== undefined) return this.destroy(record, retirement, record.retiredBecause);
    const { factory } = this.options;
    if (factory.reset !== undefined || this.options.validateOnRelease) return this.recycle(record);
    this.makeIdle(record, now, true);
    this.afterChange(now);
    return RESOLVED;
  }

  private retirementReason(record: PooledConnection<C, N>, now: number): DestroyReason | undefined {
    const node = record.node;
    if (node.isRemoved) return 'node-removed';
    if (this.isClosed || node.isDraining) return 'drain';
    if (record.isRetired) return 'broken';
    if (record.useCount >= this.options.maxUses) return 'maxUses';
    if (record.expiresAt <= now) return 'lifetime';
    return undefined;
  }

  private isWindingDown(node: NodeState<C, N>): boolean {
    return this.isClosed || node.isRemoved || node.isDraining;
  }

  /** Reset and (optionally) validate a released connection before it goes back to idle. */
  private async recycle(record: PooledConnection<C, N>): Promise<void> {
    const { factory } = this.options;
    this.setState(record, 'validating');
    try {
      if (factory.reset) await factory.reset(record.connection as C, record.node.node);
    } catch (error) {
      this.emit('error', { error, during: 'reset', node: record.node.id });
      await this.destroy(record, 'broken', error);
      return;
    }
    if (this.options.validateOnRelease && !(await this.validate(record, 'release'))) {
      await this.destroy(record, 'invalid', undefined);
      return;
    }
    const now = this.clock.now();
    const retirement = this.retirementReason(record, now);
    if (retirement !== undefined) {
      await this.destroy(record, retirement, record.retiredBecause);
      return;
    }
    this.makeIdle(record, now, true);
    this.afterChange();
  }

  // ---- dispatch: capacity to waiters ----

  /** Hands freed capacity to waiters, in priority and arrival order, skipping those that cannot be served. */
  pump(now?: number): void {
    if (this.waiters.size === 0 || this.isSaturated()) return;
    if (this.isPumping) {
      this.isPumpRequested = true;
      return;
    }
    this.isPumping = true;
    try {
      do {
        this.isPumpRequested = false;
        this.serveWaiters(now ?? this.clock.now());
        now = undefined;
      } while (this.isPumpRequested && this.waiters.size > 0);
    } finally {
      this.isPumping = false;
    }
  }

  /** Nothing free, nothing to create, nothing failing: no waiter can be served now. */
  private isSaturated(): boolean {
    const nodeCount = this.nodeList.length;
    return this.available === 0 && this.openCircuits === 0 && nodeCount > 0 &&
      (this.total >= this.options.maxTotal || this.total >= this.options.maxPerNode * nodeCount);
  }

  private serveWaiters(now: number): void {
    this.now = now;
    const waiters = this.waiters;
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
      if (!waiter.hasPendingCreate) this.provideCapacity(waiter, now);
    }
  }

  private serve(waiter: Waiter<C, N>, record: PooledConnection<C, N>, now: number): void {
    this.settleWaiter(waiter);
    waiter.resolve(this.grant(record, waiter.partition, now, now - waiter.enqueuedAt, waiter.stack));
  }

  /** No connection is free for this waiter: start a create for it, or fail it when no node ever could. */
  private provideCapacity(waiter: Waiter<C, N>, now: number): void {
    let node = waiter.node;
    if (node === undefined) {
      const canCreate = waiter.failedNodes === undefined ? this.canCreateOn : (candidate: NodeState<C, N>) => this.canCreateOn(candidate) && !waiter.failedNodes!.includes(candidate.id);
      node = waiter.affinityKey !== undefined ? this.selector.pick(this.nodeList, this.isHealthy, waiter.affinityKey) : this.selector.pick(this.nodeList, canCreate);
      if (node === undefined) {
        if (!this.nodeList.some(this.isHealthy)) this.failWaiter(waiter, unavailableAll(waiter.lastCreateError));
        return;
      }
    } else {
      node.refreshCircuit(now, this.options.circuitBreaker);
      if (node.circuit === 'open') {
        this.failWaiter(waiter, unavailable(node));
        return;
      }
    }
    if (!node.isSelectable || !node.mayCreate || node.total >= this.options.maxPerNode) return;
    if (this.claimCreate(node, waiter)) return;
    if (this.total >= this.options.maxTotal) {
      this.evictIdleElsewhere(waiter, node);
      return;
    }
    this.startCreate(node, waiter);
  }

  /** A warm-up create already under way on the node serves the waiter instead of a new one. */
  private claimCreate(node: NodeState<C, N>, waiter: Waiter<C, N>): boolean {
    if (node.creating === 0) return false;
    for (const record of node.connections) {
      if (record.state === 'creating' && record.sponsor === undefined) {
        record.sponsor = waiter;
        waiter.hasPendingCreate = true;
        return true;
      }
    }
    return false;
  }

  private readonly canCreateOn: NodePredicate<C, N> = (node) => {
    node.refreshCircuit(this.now, this.options.circuitBreaker);
    return node.isSelectable && node.mayCreate && node.total < this.options.maxPerNode;
  };

  /** At maxTotal, an idle connection of another node makes room for a waiter of this one. */
  private evictIdleElsewhere(waiter: Waiter<C, N>, target: NodeState<C, N>): void {
    for (const node of this.nodeList) {
      if (node === target || node.idle === 0) continue;
      for (let record = node.available.head; record; record = record.next) {
        if (record.leases === 0 && record.state === 'idle') {
          waiter.hasPendingCreate = true;
          void this.destroy(record, 'idle', undefined).then(() => {
            waiter.hasPendingCreate = false;
            this.pump();
          });
          return;
        }
      }
    }
  }

  private validateFor(waiter: Waiter<C, N>, record: PooledConnection<C, N>): void {
    this.setState(record, 'validating');
    waiter.validating = record;
    void this.validate(record, 'acquire').then((isValid) => {
      waiter.validating = undefined;
      if (record.state !== 'validating') return; // destroyed meanwhile (drain, node removal)
      if (!isValid) {
        void this.destroy(record, 'invalid', undefined);
        return;
      }
      const now = this.clock.now();
      const retirement = this.retirementReason(record, now);
      if (retirement !== undefined) {
        void this.destroy(record, retirement, record.retiredBecause);
        return;
      }
      this.makeIdle(record, now, false);
      if (!waiter.isSettled && (waiter.partition === undefined || waiter.partition.hasRoom)) {
        this.serve(waiter, record, now);
      }
      this.afterChange();
    });
  }

  /** Runs the factory's validate, bounded by createTimeoutMs; a throw or timeout counts as invalid. */
  async validate(record: PooledConnection<C, N>, reason: 'acquire' | 'release' | 'idle'): Promise<boolean> {
    const { validate } = this.options.factory;
    if (validate === undefined) return true;
    const controller = new AbortController();
    const timer = this.startTimeout(controller, 'validate');
    let isValid: boolean;
    try {
      const check = validate.call(this.options.factory, record.connection as C, { signal: controller.signal, node: record.node.node, reason });
      isValid = (await raceAbort(Promise.resolve(check), controller.signal)) === true;
    } catch (error) {
      isValid = false;
      record.node.lastError = describeError(error);
    } finally {
      if (timer) this.clock.clearTimeout(timer);
    }
    record.lastValidatedAt = this.clock.now();
    if (!isValid) this.counters.validationFailures++;
    return isValid;
  }

  startTimeout(controller: AbortController, what: string): ClockTimer | undefined {
    const ms = this.options.createTimeoutMs;
    if (ms === Infinity) return undefined;
    return setUnrefTimeout(this.clock, () => controller.abort(new Error(`${what} timed out after ${ms} ms`)), ms);
  }

  // ---- creating ----

  startCreate(node: NodeState<C, N>, sponsor: Waiter<C, N> | undefined): void {
    const record = new PooledConnection<C, N>(node, this.options.maxLeasesPerConnection);
    node.connections.add(record);
    this.total++;
    node.creating++;
    this.creating++;
    if (node.circuit === 'half-open') node.isTrialInFlight = true;
    if (sponsor) sponsor.hasPendingCreate = true;
    record.sponsor = sponsor;
    void this.runCreate(record);
  }

  private async runCreate(record: PooledConnection<C, N>): Promise<void> {
    const node = record.node;
    const { factory, createRetry } = this.options;
    for (let attempt = 1; ; attempt++) {
      const started = this.clock.now();
      const controller = new AbortController();
      this.createControllers.set(record, controller);
      const timer = this.startTimeout(controller, 'create');
      let error: unknown;
      try {
        const context = { signal: controller.signal, invalidate: (reason?: unknown) => this.invalidate(record, reason) };
        const creating = Promise.resolve().then(() => factory.create(node.node, context));
        const connection = await raceAbort(creating, controller.signal, (late) => this.disposeStray(late, node));
        record.connection = connection;
        if (record.isRetired) throw record.retiredBecause ?? new Error('The connection was invalidated while it was created');
      } catch (caught) {
        error = caught;
        if (record.connection !== undefined) this.disposeStray(record.connection, node);
        record.connection = undefined;
        record.isRetired = false;
      } finally {
        if (timer) this.clock.clearTimeout(timer);
        this.createControllers.delete(record);
      }
      const now = this.clock.now();
      const sponsor = record.sponsor;
      if (error === undefined) {
        this.onCreated(record, sponsor, now, now - started);
        return;
      }
      if (this.isWindingDown(node)) {
        // Aborted by drain or node removal: not a failure of the node.
        this.forgetRecord(record);
        if (sponsor) sponsor.hasPendingCreate = false;
        this.afterChange();
        return;
      }
      this.counters.createFailures++;
      node.lastError = describeError(error);
      this.emit('createError', { node: node.id, error, attempt });
      this.recordFailure(node, now);
      const sponsorWaits = sponsor !== undefined && !sponsor.isSettled;
      if (attempt < createRetry.attempts && sponsorWaits && !this.isWindingDown(node) && node.circuit === 'closed') {
        const delay = Math.random() * Math.min(createRetry.maxDelayMs, createRetry.baseDelayMs * 2 ** (attempt - 1));
        if (now + delay < sponsor.deadline) {
          await this.backoff(record, delay);
          if (!sponsor.isSettled && !this.isWindingDown(node) && node.circuit === 'closed') continue;
        }
      }
      this.forgetRecord(record);
      record.sponsor = undefined;
      if (sponsor) {
        sponsor.hasPendingCreate = false;
        if (!sponsor.isSettled) this.onSponsorFailed(sponsor, node, error);
      }
      this.afterChange();
      return;
    }
  }

  private onCreated(record: PooledConnection<C, N>, sponsor: Waiter<C, N> | undefined, now: number, durationMs: number): void {
    const node = record.node;
    const { maxLifetimeMs, lifetimeJitterMs } = this.options;
    record.createdAt = now;
    record.lastValidatedAt = now;
    record.expiresAt = maxLifetimeMs > 0 ? now + maxLifetimeMs - Math.random() * lifetimeJitterMs : Infinity;
    this.counters.created++;
    this.createMs.record(durationMs);
    this.recordSuccess(node);
    this.emit('create', { node: node.id, durationMs });
    record.sponsor = undefined;
    if (sponsor) sponsor.hasPendingCreate = false;
    const retirement = this.retirementReason(record, now);
    if (retirement !== undefined) {
      void this.destroy(record, retirement, undefined);
      return;
    }
    this.refreshMaxLeases(record);
    this.makeIdle(record, now, true);
    this.afterChange();
  }

  private onSponsorFailed(waiter: Waiter<C, N>, node: NodeState<C, N>, error: unknown): void {
    waiter.lastCreateError = error;
    const mayFailOver = waiter.node === undefined && (waiter.affinityKey === undefined || node.circuit === 'open');
    if (mayFailOver && waiter.affinityKey === undefined) (waiter.failedNodes ??= []).push(node.id);
    const hasOtherNode = mayFailOver && this.nodeList.some((candidate) => candidate.isSelectable && !(waiter.failedNodes ?? []).includes(candidate.id));
    if (!hasOtherNode) {
      this.failWaiter(waiter, new PoolError('CREATE_FAILED', `Could not create a connection to node '${node.id}': ${describeError(error)}`, { cause: error }));
    }
  }

  private recordSuccess(node: NodeState<C, N>): void {
    node.consecutiveFailures = 0;
    node.lastError = undefined;
    node.isTrialInFlight = false;
    if (node.circuit !== 'closed') {
      node.circuit = 'closed';
      this.openCircuits--;
      this.emit('circuitClose', { node: node.id });
    }
  }

  private recordFailure(node: NodeState<C, N>, now: number): void {
    const breaker = this.options.circuitBreaker;
    node.isTrialInFlight = false;
    if (!breaker) return;
    node.consecutiveFailures++;
    if (node.circuit === 'half-open' || (node.circuit === 'closed' && node.consecutiveFailures >= breaker.failureThreshold)) {
      if (node.circuit === 'closed') this.openCircuits++;
      node.circuit = 'open';
      node.openedAt = now;
      this.emit('circuitOpen', { node: node.id, failures: node.consecutiveFailures });
    }
  }

  private refreshMaxLeases(record: PooledConnection<C, N>): void {
    const { maxLeases } = this.options.factory;
    if (maxLeases === undefined || record.connection === undefined) return;
    let cap: number;
    try {
      cap = Math.floor(maxLeases.call(this.options.factory, record.connection, record.node.node));
    } catch {
      return;
    }
    record.maxLeases = Number.isFinite(cap) ? Math.min(Math.max(cap, 1), this.options.maxLeasesPerConnection) : this.options.maxLeasesPerConnection;
  }

  /** Destroys a connection that arrived after its create was abandoned; it was never counted. */
  private disposeStray(connection: C, node: NodeState<C, N>): void {
    Promise.resolve()
      .then(() => this.options.factory.destroy(connection, node.node))
      .catch((error: unknown) => this.emit('error', { error, during: 'destroy', node: node.id }));
  }

  private backoff(record: PooledConnection<C, N>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.retrySleeps.delete(record);
        resolve();
      };
      this.retrySleeps.set(record, { timer: setUnrefTimeout(this.clock, wake, ms), wake });
    });
  }

  /** Ends a create under way: aborts the attempt in flight or cuts its backoff short. */
  private abortCreate(record: PooledConnection<C, N>): void {
    this.createControllers.get(record)?.abort(new PoolError('POOL_CLOSED', 'The pool closed while connecting'));
    const sleep = this.retrySleeps.get(record);
    if (sleep) {
      this.clock.clearTimeout(sleep.timer);
      sleep.wake();
    }
  }

  // ---- retiring and destroying ----

  invalidate(record: PooledConnection<C, N>, reason: unknown): void {
    if (record.isRetired || record.state === 'closing') return;
    record.isRetired = true;
    record.retiredBecause = reason;
    this.removeAvailable(record);
    if (record.state === 'idle') void this.destroy(record, 'broken', reason);
  }

  /** No new leases; destroyed now if nothing holds it, else when its last lease ends. */
  retire(record: PooledConnection<C, N>, reason: DestroyReason, error: unknown): Promise<void> {
    record.isRetired = true;
    record.retiredBecause ??= error;
    this.removeAvailable(record);
    if (record.leases === 0 && record.state !== 'validating') return this.destroy(record, reason, error);
    this.afterChange();
    return RESOLVED;
  }

  destroy(record: PooledConnection<C, N>, reason: DestroyReason, error: unknown): Promise<void> {
    if (record.state === 'closing' || record.state === 'creating') return RESOLVED;
    this.removeAvailable(record);
    this.setState(record, 'closing');
    const node = record.node;
    return this.destroyConnection(record)
      .catch((destroyError: unknown) => this.emit('error', { error: destroyError, during: 'destroy', node: node.id }))
      .then(() => {
        this.forgetRecord(record);
        this.counters.destroyed++;
        this.emit('destroy', error === undefined ? { node: node.id, reason } : { node: node.id, reason, error });
        this.afterChange();
      });
  }

  private async destroyConnection(record: PooledConnection<C, N>): Promise<void> {
    const controller = new AbortController();
    const timer = this.startTimeout(controller, 'destroy');
    try {
      const destroying = Promise.resolve().then(() => this.options.factory.destroy(record.connection as C, record.node.node));
      await raceAbort(destroying, controller.signal);
    } finally {
      if (timer) this.clock.clearTimeout(timer);
    }
  }

  /** Drops a record from the books once its create failed or its destroy settled. */
  private forgetRecord(record: PooledConnection<C, N>): void {
    const node = record.node;
    if (!node.connections.delete(record)) return;
    this.setState(record, 'closing');
    this.total--;
  }

  // ---- state bookkeeping ----

  setState(record: PooledConnection<C, N>, state: ConnectionState): void {
    const node = record.node;
    switch (record.state) {
      case 'idle': node.idle--; this.idle--; break;
      case 'active': node.active--; this.active--; break;
      case 'creating': node.creating--; this.creating--; break;
      default: break;
    }
    switch (state) {
      case 'idle': node.idle++; this.idle++; break;
      case 'active': node.active++; this.active++; break;
      case 'creating': node.creating++; this.creating++; break;
      default: break;
    }
    record.state = state;
    if (state === 'validating' || state === 'closing') this.removeAvailable(record);
  }

  makeIdle(record: PooledConnection<C, N>, now: number, isFreshIdle: boolean): void {
    this.setState(record, record.leases > 0 ? 'active' : 'idle');
    if (isFreshIdle && record.leases === 0) record.idleSince = now;
    if (!record.isAvailable && !record.isRetired && record.hasSpareCapacity) this.addAvailable(record);
  }

  private addAvailable(record: PooledConnection<C, N>): void {
    record.node.available.push(record);
    this.available++;
  }

  removeAvailable(record: PooledConnection<C, N>): void {
    if (!record.isAvailable) return;
    record.node.available.remove(record);
    this.available--;
  }

  /** After any change of capacity: serve waiters, then wake whoever waits for a quiet state. */
  afterChange(now?: number): void {
    this.pump(now);
    if (this.watchers.size > 0) for (const check of this.watchers) check();
  }

  /** Resolves once `isDone()` holds (checked after every change) or after `timeoutMs`; true if it held. */
  whenDone(isDone: () => boolean, timeoutMs = Infinity): Promise<boolean> {
    if (isDone()) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: ClockTimer | undefined;
      const check = (): void => {
        if (!isDone()) return;
        finish(true);
      };
      const finish = (result: boolean): void => {
        this.watchers.delete(check);
        if (timer) this.clock.clearTimeout(timer);
        resolve(result);
      };
      this.watchers.add(check);
      if (timeoutMs !== Infinity) timer = setUnrefTimeout(this.clock, () => finish(isDone()), timeoutMs);
    });
  }

  // ---- waiters leaving the queue ----

  settleWaiter(waiter: Waiter<C, N>): void {
    waiter.isSettled = true;
    this.waiters.remove(waiter);
    if (waiter.partition) waiter.partition.waiting--;
    if (waiter.node) waiter.node.waiting--;
    if (waiter.abortListener) waiter.signal?.removeEventListener('abort', waiter.abortListener);
  }

  failWaiter(waiter: Waiter<C, N>, error: PoolError): void {
    if (waiter.isSettled) return;
    this.settleWaiter(waiter);
    waiter.reject(error);
  }

  private abortWaiter(waiter: Waiter<C, N>): void {
    if (waiter.isSettled) return;
    const waitedMs = this.clock.now() - waiter.enqueuedAt;
    this.counters.aborted++;
    this.emit('abort', { waitedMs, reason: waiter.signal?.reason });
    this.failWaiter(waiter, new PoolError('ABORTED', `The acquire was aborted after ${Math.round(waitedMs)} ms`, { cause: waiter.signal?.reason }));
    this.pump();
  }

  private armDeadline(deadline: number, now: number): void {
    if (deadline === Infinity) return;
    if (this.deadlineTimer) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineAt = deadline;
    this.deadlineTimer = setUnrefTimeout(this.clock, () => this.expireWaiters(), Math.max(0, deadline - now));
  }

  /** One timer serves every waiter's deadline: it fires at the earliest and re-arms for the next. */
  private expireWaiters(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
    const now = this.clock.now();
    let next = Infinity;
    this.waiters.forEach((waiter) => {
      if (waiter.deadline <= now) this.timeOut(waiter, now);
      else if (waiter.deadline < next) next = waiter.deadline;
    });
    if (next !== Infinity) this.armDeadline(next, now);
    this.pump();
  }

  private timeOut(waiter: Waiter<C, N>, now: number): void {
    const waitedMs = now - waiter.enqueuedAt;
    this.counters.timeouts++;
    const payload: { waitedMs: number; node?: string; partition?: string } = { waitedMs };
    if (waiter.node) payload.node = waiter.node.id;
    if (waiter.partition) payload.partition = waiter.partition.name;
    this.emit('timeout', payload);
    const message = `Timed out after ${Math.round(waitedMs)} ms waiting for a connection: ${describeShortage(this, waiter)}`;
    this.failWaiter(waiter, new PoolError('ACQUIRE_TIMEOUT', message, waiter.lastCreateError === undefined ? undefined : { cause: waiter.lastCreateError }));
  }

  // ---- nodes ----

  private insertNode(node: N): NodeState<C, N> {
    const state = new NodeState<C, N>(node);
    state.index = this.nodeList.length;
    this.nodeList.push(state);
    this.nodeMap.set(node.id, state);
    this.nodesView = this.nodeList.map((entry) => entry.node);
    return state;
  }

  addNode(node: N): void {
    if (this.isClosed) throw new PoolError('POOL_CLOSED', 'The pool is closed');
    checkNode(node, 'node', new Set(this.nodeMap.keys()));
    this.insertNode(node);
    this.emit('nodeAdded', { node: node.id });
    this.maintainer.warm(this.clock.now());
    this.pump();
  }

  removeNode(id: string, options?: { drain?: boolean }): Promise<void> {
    const node = this.nodeMap.get(id);
    if (node === undefined) return Promise.reject(new PoolError('NODE_UNKNOWN', `No node '${id}' in this pool`));
    node.isRemoved = true;
    const last = this.nodeList.pop()!;
    if (last !== node) {
      this.nodeList[node.index] = last;
      last.index = node.index;
    }
    this.nodeMap.delete(id);
    this.nodesView = this.nodeList.map((entry) => entry.node);
    if (node.circuit !== 'closed') this.openCircuits--;
    this.waiters.forEach((waiter) => {
      if (waiter.node === node) this.failWaiter(waiter, new PoolError('NODE_UNKNOWN', `Node '${id}' was removed from the pool`));
    });
    this.emit('nodeRemoved', { node: id });
    return this.emptyNode(node, options?.drain === true ? Infinity : 0, 'node-removed');
  }

  async drainNode(id: string, options?: { timeoutMs?: number }): Promise<void> {
    const node = this.nodeMap.get(id);
    if (node === undefined) throw new PoolError('NODE_UNKNOWN', `No node '${id}' in this pool`);
    node.isDraining = true;
    try {
      await this.emptyNode(node, options?.timeoutMs ?? Infinity, 'drain');
    } finally {
      node.isDraining = false;
      this.maintainer.warm(this.clock.now());
      this.pump();
    }
  }

  /** Destroys a node's idle connections now, waits up to `leaseTimeoutMs` for its leases, then destroys the rest. */
  private async emptyNode(node: NodeState<C, N>, leaseTimeoutMs: number, reason: DestroyReason): Promise<void> {
    for (const record of node.connections) if (record.leases === 0) this.retireForShutdown(record, reason);
    await this.whenDone(() => node.leases === 0, leaseTimeoutMs);
    for (const record of node.connections) this.retireForShutdown(record, reason);
    await this.whenDone(() => node.total === 0);
    this.afterChange();
  }

  private retireForShutdown(record: PooledConnection<C, N>, reason: DestroyReason): void {
    if (record.state === 'creating') {
      this.abortCreate(record);
      return;
    }
    record.isRetired = true;
    this.removeAvailable(record);
    if (record.state !== 'validating') void this.destroy(record, reason, undefined);
  }

  // ---- drain / close ----

  drain(options?: { timeoutMs?: number }): Promise<void> {
    if (this.drainPromise) return this.drainPromise;
    this.isClosed = true;
    this.maintainer.stop();
    if (this.deadlineTimer) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.waiters.forEach((waiter) => this.failWaiter(waiter, new PoolError('POOL_CLOSED', 'The pool was drained while this acquire waited')));
    const timeoutMs = options?.timeoutMs ?? Infinity;
    this.drainPromise = (async () => {
      const nodes = new Set<NodeState<C, N>>();
      for (const node of this.nodeList) nodes.add(node);
      await Promise.all([...nodes].map((node) => this.emptyNode(node, timeoutMs, 'drain')));
      await this.whenDone(() => this.total === 0);
    })();
    return this.drainPromise;
  }

  async close(): Promise<void> {
    await this.drain({ timeoutMs: 0 });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.drain();
  }

  // ---- observing ----

  stats(): PoolStats {
    const nodes: PoolStats['nodes'] = {};
    for (const node of this.nodeList) {
      nodes[node.id] = {
        total: node.total, idle: node.idle, active: node.active, creating: node.creating,
        waiting: node.waiting, healthy: node.circuit !== 'open', circuit: node.circuit,
      };
    }
    const partitions: PoolStats['partitions'] = {};
    for (const partition of this.partitions.values()) {
      partitions[partition.name] = { active: partition.active, waiting: partition.waiting, max: partition.max };
    }
    return {
      total: this.total, idle: this.idle, active: this.active, creating: this.creating,
      waiting: this.waiters.size, leases: this.leases, ...this.counters,
      waitMs: this.waitMs.summary(), createMs: this.createMs.summary(), nodes, partitions,
    };
  }

  health(): Promise<PoolHealthReport> {
    return this.maintainer.checkHealth();
  }
}

function unavailable<C, N extends PoolNode>(node: NodeState<C, N>): PoolError {
  return new PoolError('NODE_UNAVAILABLE', `Node '${node.id}' is unavailable: its circuit is open after ${node.consecutiveFailures} failed creates${node.lastError ? ` (last: ${node.lastError})` : ''}`);
}

function unavailableAll(cause: unknown): PoolError {
  return new PoolError('NODE_UNAVAILABLE', 'No node can serve: every circuit is open', cause === undefined ? undefined : { cause });
}

/**
 * Settles with the promise, or rejects with the signal's reason once it aborts, whichever is
 * first, so a factory that ignores its signal cannot hang the pool. A value that arrives after
 * the abort goes to `onLate` for disposal.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onLate?: (value: T) => void): Promise<T> {
  if (signal.aborted) {
    promise.then(onLate, () => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    let isDone = false;
    const onAbort = (): void => {
      isDone = true;
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (isDone) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!isDone) reject(error);
      },
    );
  });
}
