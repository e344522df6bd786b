import { abortAfter, raceAbort } from './abort.js';
import { type Clock, type ClockTimer, setUnrefTimeout } from './clock.js';
import type { ConnectionState, PooledConnection } from './connection.js';
import { ConnectionCreator } from './creator.js';
import { WaiterDeadlines } from './deadlines.js';
import { Dispatcher, unavailable } from './dispatch.js';
import { PoolError, describeError } from './errors.js';
import { PoolEmitter, type DestroyReason, type PoolEventName, type PoolListener } from './events.js';
import { Histogram } from './histogram.js';
import { PoolLease, type Lease, type LeaseOwner } from './lease.js';
import { NodeState } from './node.js';
import { type PoolNode, type PoolOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { createPartitions, type PartitionState } from './partitions.js';
import type { PoolHealthReport, PoolStats } from './stats.js';
import { Waiter, WaiterQueue } from './waiters.js';
import { Maintainer } from './maintenance.js';
import { NodeMembership } from './membership.js';

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
  /** A lease now if a connection is free and nobody waits ahead; else undefined (never waits, never throws). */
  tryAcquire(options?: AcquireOptions): Lease<C, N> | undefined;
  use<R>(fn: (connection: C, lease: Lease<C, N>) => Promise<R> | R, options?: AcquireOptions): Promise<R>;
  addNode(node: N): void;
  removeNode(id: string, options?: { drain?: boolean }): Promise<void>;
  drainNode(id: string, options?: { timeoutMs?: number }): Promise<void>;
  drain(options?: { timeoutMs?: number }): Promise<void>;
  close(): Promise<void>;
  stats(): PoolStats;
  health(): Promise<PoolHealthReport>;
  readonly nodes: readonly N[];
  /** For transports: reports a background failure (a failed reset, a cancel gone wrong) on 'error'. */
  reportError(error: unknown, during: string, node?: string): void;
  on<E extends PoolEventName>(event: E, listener: PoolListener<E>): this;
  off<E extends PoolEventName>(event: E, listener: PoolListener<E>): this;
  once<E extends PoolEventName>(event: E, listener: PoolListener<E>): this;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Creates a pool; validates the options first (PoolError INVALID_OPTIONS). */
export function createPool<C, N extends PoolNode = PoolNode>(options: PoolOptions<C, N>): Pool<C, N> {
  return new PoolHandle(new ConnectionPool(resolveOptions(options)));
}

/**
 * What users and transports hold: the public API and nothing else, the engine behind a private
 * field, so a transport can add its helpers (`request`, `query`, `dispatcher`...) to this object
 * without ever shadowing the engine's internals.
 */
class PoolHandle<C, N extends PoolNode> implements Pool<C, N> {
  readonly #engine: ConnectionPool<C, N>;

  constructor(engine: ConnectionPool<C, N>) {
    this.#engine = engine;
  }

  get nodes(): readonly N[] {
    return this.#engine.nodes;
  }

  acquire(options?: AcquireOptions): Promise<Lease<C, N>> {
    const engine = this.#engine;
    const lease = engine.tryAcquire(options);
    return lease === undefined ? engine.acquireQueued(options) : Promise.resolve(lease);
  }

  tryAcquire(options?: AcquireOptions): Lease<C, N> | undefined {
    return this.#engine.tryAcquire(options);
  }

  use<R>(fn: (connection: C, lease: Lease<C, N>) => Promise<R> | R, options?: AcquireOptions): Promise<R> {
    return this.#engine.use(fn, options);
  }

  addNode(node: N): void {
    this.#engine.addNode(node);
  }

  removeNode(id: string, options?: { drain?: boolean }): Promise<void> {
    return this.#engine.removeNode(id, options);
  }

  drainNode(id: string, options?: { timeoutMs?: number }): Promise<void> {
    return this.#engine.drainNode(id, options);
  }

  drain(options?: { timeoutMs?: number }): Promise<void> {
    return this.#engine.drain(options);
  }

  close(): Promise<void> {
    return this.#engine.close();
  }

  stats(): PoolStats {
    return this.#engine.stats();
  }

  health(): Promise<PoolHealthReport> {
    return this.#engine.health();
  }

  reportError(error: unknown, during: string, node?: string): void {
    this.#engine.reportError(error, during, node);
  }

  on<E extends PoolEventName>(event: E, listener: PoolListener<E>): this {
    this.#engine.on(event, listener);
    return this;
  }

  off<E extends PoolEventName>(event: E, listener: PoolListener<E>): this {
    this.#engine.off(event, listener);
    return this;
  }

  once<E extends PoolEventName>(event: E, listener: PoolListener<E>): this {
    this.#engine.once(event, listener);
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#engine.drain();
  }
}

/** The engine: every counter, list and rule of one pool. Internal; users hold a PoolHandle. */
export class ConnectionPool<C, N extends PoolNode> extends PoolEmitter implements LeaseOwner<C, N> {
  readonly options: ResolvedOptions<C, N>;
  readonly clock: Clock;
  readonly nodeList: NodeState<C, N>[] = [];
  readonly nodeMap = new Map<string, NodeState<C, N>>();
  /** Nodes with at least one connection that can take a lease now: selection looks here first. */
  readonly availableNodes: NodeState<C, N>[] = [];
  readonly partitions: Map<string, PartitionState>;
  readonly waiters: WaiterQueue<C, N>;
  readonly leakWatch: Set<PoolLease<C, N>> | undefined;
  private readonly dispatcher: Dispatcher<C, N>;
  private readonly maintainer: Maintainer<C, N>;
  private readonly membership: NodeMembership<C, N>;

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
  /** The pool's latest reading of its clock. */
  lastNow: number;
  /** Released connections go through reset and/or validation before idle. */
  private readonly needsRecycle: boolean;
  /** Validation on acquire depends on how long a connection was idle, to the ms. */
  private readonly needsPreciseIdleTime: boolean;
  private drainPromise: Promise<void> | undefined;
  private readonly watchers = new Set<() => void>();
  readonly creator: ConnectionCreator<C, N>;
  private readonly deadlines: WaiterDeadlines<C, N>;

  constructor(options: ResolvedOptions<C, N>) {
    super();
    this.options = options;
    this.clock = options.clock;
    this.partitions = createPartitions(options.partitions);
    this.waiters = new WaiterQueue(options.priorityAgingMs);
    this.leakWatch = options.leakDetectionMs > 0 ? new Set() : undefined;
    this.lastNow = this.clock.now();
    this.needsRecycle = options.factory.reset !== undefined || options.validateOnRelease;
    this.needsPreciseIdleTime = options.factory.validate !== undefined && options.validateIdleForMs > 0;
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

  /** Hands freed capacity to waiters. */
  pump(now?: number): void {
    this.dispatcher.pump(now);
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
    // The idle timeout and lifetime checks are fine with the pool's last reading of the clock
    // (at most one maintenance interval old); a waiter, a listener or a validation window is not.
    const now = this.waiters.size > 0 || this.hasReleaseListeners || this.needsPreciseIdleTime ? this.clock.now() : this.lastNow;
    if (this.hasReleaseListeners) {
      const heldMs = now - lease.acquiredAt;
      this.emit('release', lease.partition ? { node: node.id, heldMs, partition: lease.partition.name } : { node: node.id, heldMs });
    }
    if (record.state === 'closing') {
      this.afterChange();
      return RESOLVED;
    }
    if (isDestroy) return this.retire(record, 'broken', destroyReason);
    if (record.leases > 0) {
      // A multiplexed connection still in use: it may take leases again, up to its current cap.
      if (!record.isRetired && record.useCount < this.options.maxUses && record.expiresAt > now && !this.isWindingDown(node)) {
        this.refreshMaxLeases(record);
        if (!record.hasSpareCapacity) this.removeAvailable(record);
        else if (!record.isAvailable) this.addAvailable(record);
      }
      this.afterChange();
      return RESOLVED;
    }
    const retirement = this.retirementReason(record, now);
    if (retirement !== undefined) return this.destroy(record, retirement, record.retiredBecause);
    if (this.needsRecycle) {
      const pending = this.resetNow(record);
      if (pending !== undefined) return pending;
      // The reset may have retired it (a transport that found the connection unusable).
      if (record.isRetired) return this.destroy(record, 'broken', record.retiredBecause);
    }
    this.reuse(record, now);
    return RESOLVED;
  }

  /** Back into service: straight to the first waiter when possible, else idle. */
  private reuse(record: PooledConnection<C, N>, now: number): void {
    this.refreshMaxLeases(record);
    if (this.waiters.size > 0 && this.dispatcher.handOff(record, now)) return;
    this.makeIdle(record, now, true);
    this.afterChange(now);
  }

  /**
   * Runs factory.reset, synchronously when it returns no promise, so the connection is reused
   * at once; returns a promise only when the rest (an async reset, validateOnRelease) must wait.
   */
  private resetNow(record: PooledConnection<C, N>): Promise<void> | undefined {
    const { factory } = this.options;
    let result: unknown;
    try {
      result = factory.reset?.(record.connection as C, record.node.node);
    } catch (error) {
      return this.failReset(record, error);
    }
    if (!isPromiseLike(result) && !this.options.validateOnRelease) return undefined;
    this.setState(record, 'validating');
    return this.finishRecycle(record, result);
  }

  private failReset(record: PooledConnection<C, N>, error: unknown): Promise<void> {
    this.emit('error', { error, during: 'reset', node: record.node.id });
    return this.destroy(record, 'broken', error);
  }

  retirementReason(record: PooledConnection<C, N>, now: number): DestroyReason | undefined {
    const node = record.node;
    if (node.isRemoved) return 'node-removed';
    if (this.isClosed || node.isDraining) return 'drain';
    if (record.isRetired) return 'broken';
    if (record.useCount >= this.options.maxUses) return 'maxUses';
    if (record.expiresAt <= now) return 'lifetime';
    return undefined;
  }

  isWindingDown(node: NodeState<C, N>): boolean {
    return this.isClosed || node.isRemoved || node.isDraining;
  }

  /** Reset and (optionally) validate a released connection before it goes back to idle. */
  /** The asynchronous rest of a recycle: await the reset, validate on release, then reuse. */
  private async finishRecycle(record: PooledConnection<C, N>, reset: unknown): Promise<void> {
    try {
      await reset;
    } catch (error) {
      await this.failReset(record, error);
      return;
    }
    if (this.options.validateOnRelease && !(await this.validate(record, 'release'))) {
      await this.destroy(record, 'invalid', undefined);
      return;
    }
    if (record.state !== 'validating') return; // destroyed meanwhile (drain, node removal)
    const now = this.clock.now();
    const retirement = this.retirementReason(record, now);
    if (retirement !== undefined) {
      await this.destroy(record, retirement, record.retiredBecause);
      return;
    }
    this.reuse(record, now);
  }

  /** Runs the factory's validate, bounded by createTimeoutMs; a throw or timeout counts as invalid. */
  async validate(record: PooledConnection<C, N>, reason: 'acquire' | 'release' | 'idle'): Promise<boolean> {
    const { validate } = this.options.factory;
    if (validate === undefined) return true;
    const controller = new AbortController();
    const timer = abortAfter(this.clock, controller, this.options.createTimeoutMs, 'validate');
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

  /** Asks the factory for a connection's current lease cap (HTTP/2 SETTINGS, SSH MaxSessions). */
  refreshMaxLeases(record: PooledConnection<C, N>): void {
    const { factory, maxLeasesPerConnection } = this.options;
    if (maxLeasesPerConnection === 1 || factory.maxLeases === undefined || record.connection === undefined) return;
    let cap: number;
    try {
      cap = Math.floor(factory.maxLeases(record.connection, record.node.node));
    } catch {
      return;
    }
    record.maxLeases = Number.isFinite(cap) ? Math.min(Math.max(cap, 1), maxLeasesPerConnection) : maxLeasesPerConnection;
    record.node.leaseCapHint = record.maxLeases;
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
    const timer = abortAfter(this.clock, controller, this.options.createTimeoutMs, 'destroy');
    try {
      const destroying = Promise.resolve().then(() => this.options.factory.destroy(record.connection as C, record.node.node));
      await raceAbort(destroying, controller.signal);
    } finally {
      if (timer) this.clock.clearTimeout(timer);
    }
  }

  /** Drops a record from the books once its create failed or its destroy settled. */
  forgetRecord(record: PooledConnection<C, N>): void {
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
    const node = record.node;
    node.available.push(record);
    this.available++;
    if (node.availableIndex < 0) {
      node.availableIndex = this.availableNodes.length;
      this.availableNodes.push(node);
    }
  }

  removeAvailable(record: PooledConnection<C, N>): void {
    if (!record.isAvailable) return;
    const node = record.node;
    node.available.remove(record);
    this.available--;
    if (node.available.size === 0 && node.availableIndex >= 0) {
      const last = this.availableNodes.pop()!;
      if (last !== node) {
        this.availableNodes[node.availableIndex] = last;
        last.availableIndex = node.availableIndex;
      }
      node.availableIndex = -1;
    }
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

  reportError(error: unknown, during: string, node?: string): void {
    this.emit('error', node === undefined ? { error, during } : { error, during, node });
  }

  health(): Promise<PoolHealthReport> {
    return this.maintainer.checkHealth();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
