import { EventEmitter } from 'node:events';
import {
  createPool as createCorePool,
  holdProcess,
  type AcquireOptions,
  type Lease,
  type Pool as CorePool,
  type PoolHealthReport,
  type PoolNode,
  type PoolStats,
} from '@pool/core';
import { acquireError, draining, notInPool, queueFull } from './errors.js';
import { FactoryAdapter, checkFactory } from './factory-adapter.js';
import { PrioritySlots } from './priorities.js';
import { DefaultEvictor, IdleEviction, type Evictor } from './evictor.js';
import { coreOptionsOf, resolveConfig, type Factory, type Options, type ResolvedConfig } from './options.js';

/** Per-call @pool/core acquire options (partition, signal, timeoutMs...); the priority comes from generic-pool's argument. */
export type CoreAcquireOptions = Omit<AcquireOptions, 'priority' | 'node'>;

const FACTORY_CREATE_ERROR = 'factoryCreateError';
const FACTORY_DESTROY_ERROR = 'factoryDestroyError';
const READY_POLL_MS = 10;

function noop(): void {}

/**
 * generic-pool v3's Pool on @pool/core's engine. Borrowed resources are keyed to their core
 * leases; queueing, limits, retries, validation and eviction are core's.
 */
export class Pool<T> extends EventEmitter {
  readonly #factory: Factory<T>;
  readonly #config: ResolvedConfig;
  readonly #evictor: Evictor;
  readonly #promise: ResolvedConfig['Promise'];
  readonly #isNativePromise: boolean;
  readonly #loans = new Map<T, Lease<T, PoolNode>>();
  readonly #priorities: PrioritySlots;
  #core: CorePool<T, PoolNode> | undefined;
  #adapter: FactoryAdapter<T> | undefined;
  #eviction: IdleEviction<T> | undefined;
  #isStarted = false;
  #isDraining = false;
  #drained: Promise<void> | undefined;
  #drainWaiters: (() => void)[] = [];
  /** Acquires waiting in core, as generic-pool counts them in `pending`. */
  #pending = 0;
  #releaseHold: (() => void) | undefined;
  #lastCreateError: unknown;
  #createFailuresInARow = 0;

  /**
   * generic-pool's constructor signature. `Deque` and `PriorityQueue` are accepted and unused
   * (core's queues serve); `Evictor` is a class whose instances judge idle resources.
   */
  constructor(Evictor: (new () => Evictor) | undefined, _Deque: unknown, _PriorityQueue: unknown, factory: Factory<T>, options?: Options) {
    super();
    checkFactory(factory);
    this.#factory = factory;
    this.#config = resolveConfig(options);
    this.#priorities = new PrioritySlots(this.#config.priorityRange);
    this.#evictor = new (Evictor ?? DefaultEvictor)();
    this.#promise = this.#config.Promise;
    this.#isNativePromise = (this.#promise as unknown) === Promise;
    if (this.#config.autostart) this.start();
  }

  // ---- lifecycle ----

  /** Creates `min` resources and starts eviction; acquire() calls it when autostart is false. No-op once started or draining. */
  start(): void {
    if (this.#isDraining || this.#isStarted) return;
    this.#isStarted = true;
    this.#core = this.#createCore(this.#config.min);
  }

  #createCore(minIdlePerNode: number): CorePool<T, PoolNode> {
    const config = this.#config;
    if (config.evictionRunIntervalMillis > 0) this.#eviction = new IdleEviction<T>(this.#evictor, config, () => this.available);
    const owner = { onDestroyError: (error: unknown) => this.#emitSafely(FACTORY_DESTROY_ERROR, error) };
    const factory = new FactoryAdapter<T>(this.#factory, owner, this.#eviction, config.destroyTimeoutMillis);
    this.#adapter = factory;
    const core = createCorePool<T>(coreOptionsOf(config, factory, minIdlePerNode, this.#factory.validate !== undefined));
    core.on('createError', ({ error }) => {
      this.#lastCreateError = error;
      this.#createFailuresInARow++;
      this.#emitSafely(FACTORY_CREATE_ERROR, error);
    });
    core.on('create', () => {
      this.#createFailuresInARow = 0;
    });
    return core;
  }

  /**
   * Resolves once `available >= min`. Rejects with the factory's error when as many creates in a
   * row failed as one acquire may try (`core.createRetry.attempts`), and when the pool drains.
   */
  ready(): Promise<void> {
    const attempts = this.#config.core.createRetry.attempts;
    return this.#wrap(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (this.available >= this.min) resolve();
          else if (this.#isDraining) reject(draining());
          else if (this.#createFailuresInARow >= attempts) reject(this.#lastCreateError);
          // A ref'd timer like generic-pool's poll: a script awaiting ready() stays alive.
          else setTimeout(check, READY_POLL_MS);
        };
        check();
      }),
    );
  }

  // ---- acquire / release ----

  /**
   * A resource. `priority` 0 is the highest, up to `priorityRange - 1`; out of range means the
   * lowest. `options` (an extension) passes @pool/core acquire options: partition, signal, timeoutMs.
   */
  acquire(priority?: number, options?: CoreAcquireOptions): Promise<T> {
    if (!this.#isStarted) this.start();
    if (this.#isDraining) return this.#reject(draining());
    const core = this.#core!;
    const acquireOptions = options === undefined ? this.#priorities.optionsFor(priority) : this.#priorities.withOptions(priority, options);
    const lease = core.tryAcquire(acquireOptions);
    if (lease !== undefined) return this.#resolve(this.#lend(lease));
    if (this.#config.maxWaitingClients !== undefined && this.#isQueueFull(this.#config.maxWaitingClients)) return this.#reject(queueFull());
    // One hold while any acquire waits (DESIGN "Process lifetime"); the engine's timers are unref'd.
    if (this.#pending++ === 0) this.#releaseHold = holdProcess();
    const waiting = core.acquire(acquireOptions).then(this.#onLease, this.#onAcquireFailed);
    return this.#isNativePromise ? waiting : this.#wrap(waiting);
  }

  /** Acquires, runs fn, releases when its promise resolves and destroys when it rejects (or throws). */
  use<R>(fn: (resource: T) => PromiseLike<R> | R, priority?: number, options?: CoreAcquireOptions): Promise<R> {
    return this.#wrap(
      this.acquire(priority, options).then((resource) => {
        let result: PromiseLike<R> | R;
        try {
          result = fn(resource);
        } catch (error) {
          this.#end(resource, true);
          throw error;
        }
        return Promise.resolve(result).then(
          (value) => {
            this.#end(resource, false);
            return value;
          },
          (error: unknown) => {
            this.#end(resource, true);
            throw error;
          },
        );
      }),
    );
  }

  /** True while `resource` is borrowed from this pool. */
  isBorrowedResource(resource: T): boolean {
    return this.#loans.has(resource);
  }

  /** Returns a borrowed resource; rejects 'Resource not currently part of this pool' for anything else. */
  release(resource: T): Promise<void> {
    const lease = this.#loans.get(resource);
    if (lease === undefined) return this.#rejectIgnorable(notInPool());
    this.#loans.delete(resource);
    this.#eviction?.returned(resource);
    const releasing = lease.release();
    if (this.#isDraining) this.#checkDrained();
    return this.#isNativePromise ? releasing : this.#wrap(releasing);
  }

  /** Destroys a borrowed resource instead of returning it; resolves at once, like generic-pool. */
  destroy(resource: T): Promise<void> {
    const lease = this.#loans.get(resource);
    if (lease === undefined) return this.#rejectIgnorable(notInPool());
    this.#loans.delete(resource);
    void lease.destroy();
    if (this.#isDraining) this.#checkDrained();
    return this.#resolve(undefined);
  }

  // ---- shutdown ----

  /**
   * Refuses new acquires, lets the waiting ones be served, waits for every borrowed resource to
   * come back, then stops the engine: nothing is created after that, idle resources are destroyed.
   */
  drain(): Promise<void> {
    this.#isDraining = true;
    this.#eviction?.stop();
    return this.#wrap(
      new Promise<void>((resolve) => {
        this.#drainWaiters.push(resolve);
        this.#checkDrained();
      }),
    );
  }

  /**
   * Waits for creates in flight, then destroys every idle resource. After drain() everything is
   * gone; without drain() the pool carries on and tops `min` up again, as generic-pool does.
   */
  clear(): Promise<void> {
    return this.#wrap(this.#clear());
  }

  async #clear(): Promise<void> {
    const adapter = this.#adapter;
    if (adapter === undefined) return;
    await Promise.allSettled([...adapter.creates]);
    // Creates that just settled are filed by the engine in the next microtasks: let them land.
    await new Promise((resolve) => setImmediate(resolve));
    const core = this.#core;
    if (core !== undefined) {
      if (this.#drained !== undefined) await this.#drained;
      else await this.#destroyIdle(core);
    }
    await Promise.allSettled([...adapter.destroys]);
  }

  #destroyIdle(core: CorePool<T, PoolNode>): Promise<unknown> {
    const destroying: Promise<void>[] = [];
    for (let idle = core.stats().idle; idle > 0; idle--) {
      const lease = core.tryAcquire();
      if (lease === undefined) break;
      destroying.push(lease.destroy());
    }
    return Promise.all(destroying);
  }

  #checkDrained(): void {
    if (!this.#isDraining || this.#pending > 0 || this.#loans.size > 0 || this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    this.#drained ??= this.#core === undefined ? Promise.resolve() : this.#core.drain();
    void this.#drained.then(() => {
      for (const resolve of waiters) resolve();
    });
  }

  // ---- pool info (generic-pool's getters) ----

  /** Resources in the pool, creating and being destroyed included. */
  get size(): number {
    return this.#core === undefined ? 0 : this.#core.stats().total;
  }

  /** Idle resources. */
  get available(): number {
    return this.#core === undefined ? 0 : this.#core.stats().idle;
  }

  /** Borrowed resources. */
  get borrowed(): number {
    return this.#loans.size;
  }

  /** Acquires waiting. */
  get pending(): number {
    return this.#pending;
  }

  get max(): number {
    return this.#config.max;
  }

  get min(): number {
    return this.#config.min;
  }

  /** Resources the pool may still create before it reaches max. */
  get spareResourceCapacity(): number {
    return this.#config.max - this.size;
  }

  /**
   * generic-pool's handle of the next eviction run, which its own test suite peeks at: non-null
   * while eviction is scheduled (started, evictionRunIntervalMillis > 0, not drained). Here core's
   * maintenance timer runs it; do not rely on this in new code.
   */
  get _scheduledEviction(): object | null {
    return this.#eviction !== undefined && this.#drained === undefined ? this.#eviction : null;
  }

  // ---- @pool/core, reachable ----

  /** The @pool/core pool underneath (events, partitions, tryAcquire...); undefined until started. */
  get core(): CorePool<T, PoolNode> | undefined {
    return this.#core;
  }

  /** @pool/core's stats snapshot; starts the pool first if it is not started. */
  stats(): PoolStats {
    if (!this.#isStarted) this.start();
    return (this.#core ?? this.#startedCore()).stats();
  }

  /** @pool/core's health report (validates idle resources now); starts the pool first if it is not started. */
  health(): Promise<PoolHealthReport> {
    if (!this.#isStarted) this.start();
    return this.#core === undefined ? this.#reject(draining()) : this.#core.health();
  }

  #startedCore(): CorePool<T, PoolNode> {
    // Drained before it ever started: an engine that creates nothing, drained at once, for a zero snapshot.
    const core = this.#createCore(0);
    this.#core = core;
    this.#drained ??= core.drain();
    return core;
  }

  // ---- internals ----

  readonly #onLease = (lease: Lease<T, PoolNode>): T => {
    this.#settledOne();
    return this.#lend(lease);
  };

  readonly #onAcquireFailed = (error: unknown): never => {
    this.#settledOne();
    throw acquireError(error, this.#lastCreateError);
  };

  #settledOne(): void {
    if (--this.#pending === 0) {
      this.#releaseHold?.();
      this.#releaseHold = undefined;
    }
    if (this.#isDraining) queueMicrotask(() => this.#checkDrained());
  }

  #lend(lease: Lease<T, PoolNode>): T {
    const resource = lease.connection;
    this.#loans.set(resource, lease);
    this.#eviction?.borrowed(resource, lease.acquiredAt);
    return resource;
  }

  /** Ends a loan from use(), unless fn already released or destroyed it. */
  #end(resource: T, isBroken: boolean): void {
    if (!this.#loans.has(resource)) return;
    void (isBroken ? this.destroy(resource) : this.release(resource));
  }

  /** generic-pool's test: full, nothing idle, and maxWaitingClients already waiting. */
  #isQueueFull(maxWaitingClients: number): boolean {
    const stats = this.#core!.stats();
    return this.#config.max - stats.total < 1 && stats.idle < 1 && this.#pending >= maxWaitingClients;
  }

  /** generic-pool events without breaking the pool when a listener throws. */
  #emitSafely(event: string, error: unknown): void {
    try {
      this.emit(event, error);
    } catch (listenerError) {
      this.#core?.reportError(listenerError, `${event} listener`);
    }
  }

  #resolve<V>(value: V): Promise<V> {
    return this.#promise.resolve(value) as Promise<V>;
  }

  #reject(error: unknown): Promise<never> {
    return this.#promise.reject(error) as Promise<never>;
  }

  /**
   * A rejection that a caller may ignore, as generic-pool's README says of release and destroy:
   * awaiting it still throws, but leaving it alone is no unhandled rejection.
   */
  #rejectIgnorable(error: unknown): Promise<never> {
    const rejected = this.#reject(error);
    rejected.then(undefined, noop);
    return rejected;
  }

  #wrap<V>(promise: Promise<V>): Promise<V> {
    return this.#isNativePromise ? promise : (this.#promise.resolve(promise) as Promise<V>);
  }
}
