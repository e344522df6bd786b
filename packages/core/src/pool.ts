import { acquireChannel, publishImmediateAcquire, type AcquireChannelContext } from './diagnostics.js';
import { ConnectionPool } from './engine.js';
import type { PoolEventName, PoolListener } from './events.js';
import type { Lease, PoolLease } from './lease.js';
import type { AcquireOptions, PoolNode, PoolOptions } from './options.js';

export type { AcquireOptions } from './options.js';
import { checkCallTimeout, resolveOptions } from './resolve-options.js';
import type { PoolHealthReport, PoolStats } from './stats.js';
import { holdWhile } from './keep-alive.js';

/**
 * Acquire options as a transport's per-call options carry them: the wait is `acquireTimeoutMs`,
 * because the transport's own `timeoutMs` (if it has one) bounds the whole operation.
 */
export interface CallAcquireOptions extends Omit<AcquireOptions, 'timeoutMs'> {
  /** Overrides acquireTimeoutMs for this call. */
  acquireTimeoutMs?: number;
}

/**
 * The acquire options in a transport's per-call options, and nothing else of them.
 *
 * @throws PoolError `INVALID_OPTIONS` naming `acquireTimeoutMs` unless it is undefined or a
 *   number >= 0 (finite or Infinity).
 */
export function acquireOptionsOf(options: CallAcquireOptions): AcquireOptions {
  const acquire: AcquireOptions = {};
  if (options.node !== undefined) acquire.node = options.node;
  if (options.affinityKey !== undefined) acquire.affinityKey = options.affinityKey;
  if (options.partition !== undefined) acquire.partition = options.partition;
  if (options.priority !== undefined) acquire.priority = options.priority;
  if (options.signal !== undefined) acquire.signal = options.signal;
  if (options.acquireTimeoutMs !== undefined) acquire.timeoutMs = checkCallTimeout('acquireTimeoutMs', options.acquireTimeoutMs)!;
  return acquire;
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
    if (acquireChannel.hasSubscribers) return acquireChannel.tracePromise(this.#acquire, this.#traceContext(options), this, options);
    const engine = this.#engine;
    const lease = engine.tryAcquire(options);
    return lease === undefined ? engine.acquireQueued(options) : Promise.resolve(lease);
  }

  readonly #acquire = (options: AcquireOptions | undefined): Promise<Lease<C, N>> => {
    const engine = this.#engine;
    const lease = engine.tryAcquire(options);
    return lease === undefined ? engine.acquireQueued(options) : Promise.resolve(lease);
  };

  tryAcquire(options?: AcquireOptions): Lease<C, N> | undefined {
    const lease = this.#engine.tryAcquire(options);
    if (lease !== undefined && acquireChannel.hasSubscribers) publishImmediateAcquire(this.#traceContext(options), lease);
    return lease;
  }

  /** The `@pool/core:acquire` context of a call: the pool, and what the call asked for. */
  #traceContext(options: AcquireOptions | undefined): AcquireChannelContext {
    const engine = this.#engine;
    const context: AcquireChannelContext = { pool: engine.name, priority: 0 };
    if (options === undefined) return context;
    if (options.node !== undefined) context.node = options.node;
    if (options.partition !== undefined) {
      context.partition = options.partition;
      context.priority = engine.partitions.get(options.partition)?.priority ?? 0;
    }
    if (options.priority !== undefined) context.priority = options.priority;
    return context;
  }

  async use<R>(fn: (connection: C, lease: Lease<C, N>) => Promise<R> | R, options?: AcquireOptions): Promise<R> {
    const lease = (await this.acquire(options)) as PoolLease<C, N>;
    let result: R;
    try {
      result = await fn(lease.connection, lease);
    } catch (error) {
      if (!lease.isEnded) {
        const ending = this.#isBrokenBy(error, lease) ? lease.destroy(error) : lease.release();
        await ending.catch((endError: unknown) => this.reportError(endError, 'use', lease.record.node.id));
      }
      throw error;
    }
    if (!lease.isEnded) await lease.release();
    return result;
  }

  #isBrokenBy(error: unknown, lease: PoolLease<C, N>): boolean {
    const { factory } = this.#engine.options;
    if (!factory.isBroken) return lease.record.isRetired || lease.record.state === 'closing';
    try {
      return factory.isBroken(error, lease.connection);
    } catch {
      return true;
    }
  }

  addNode(node: N): void {
    this.#engine.addNode(node);
  }

  removeNode(id: string, options?: { drain?: boolean }): Promise<void> {
    return holdWhile(this.#engine.removeNode(id, options));
  }

  drainNode(id: string, options?: { timeoutMs?: number }): Promise<void> {
    return holdWhile(this.#engine.drainNode(id, options));
  }

  drain(options?: { timeoutMs?: number }): Promise<void> {
    // Held until it settles, like an acquire: a destroy over a socket the driver unrefs must
    // not let a plain script end before the drain it awaits (DESIGN "Process lifetime").
    return holdWhile(this.#engine.drain(options));
  }

  close(): Promise<void> {
    return holdWhile(this.#engine.close());
  }

  stats(): PoolStats {
    return this.#engine.stats();
  }

  health(): Promise<PoolHealthReport> {
    return holdWhile(this.#engine.health());
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

