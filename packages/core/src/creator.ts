import type { PermitPolicy } from './permits.js';
import { abortAfter, raceAbort } from './abort.js';
import { type Clock, type ClockTimer, setUnrefTimeout } from './clock.js';
import { PoolError, describeError } from './errors.js';
import type { PoolEmitter } from './events.js';
import type { PoolLedger } from './ledger.js';
import type { ConnectionLifecycle } from './lifecycle.js';
import { expiresAt } from './lifetime.js';
import type { ConnectionFactory, PoolNode, ResolvedOptions } from './options.js';
import { PooledConnection, type NodeState, type Waiter } from './records.js';
import { createChannel } from './diagnostics.js';
import { retryDelayMs } from './retry.js';

/**
 * What creating connections touches: the factory and its bounds, the books a new record enters
 * (the counts it raises, the circuit count it moves), the lifecycle's rules for a connection
 * that arrives while its node winds down, and the one way a sponsor fails.
 */
export interface CreatorPool<C, N extends PoolNode>
  extends Pick<PoolLedger<C, N>, 'setState' | 'makeIdle' | 'forgetRecord' | 'afterChange' | 'counters' | 'createMs' | 'nodeList' | 'name'>,
    Pick<PoolEmitter, 'emit'> {
  readonly options: Pick<
    ResolvedOptions<C, N>,
    'factory' | 'maxLeasesPerConnection' | 'createRetry' | 'createTimeoutMs' | 'maxLifetimeMs' | 'lifetimeJitterMs' | 'circuitBreaker'
  >;
  readonly clock: Clock;
  readonly lifecycle: Pick<ConnectionLifecycle<C, N>, 'isWindingDown' | 'invalidate' | 'retirementReason' | 'destroy' | 'refreshMaxLeases'>;
  total: number;
  creating: number;
  openCircuits: number;
  /** `options.permits` as the engine consults it; undefined without one. */
  readonly permits: Pick<PermitPolicy<C, N>, 'obtain' | 'release'> | undefined;
  failWaiter(waiter: Waiter<C, N>, error: PoolError): void;
}

/**
 * Creates connections: create timeouts, retries with full-jitter backoff, the circuit breaker's
 * bookkeeping, and failover or CREATE_FAILED for the waiter a create was started for.
 */
export class ConnectionCreator<C, N extends PoolNode> {
  private readonly attempts = new Map<PooledConnection<C, N>, AbortController>();
  private readonly backoffs = new Map<PooledConnection<C, N>, { timer: ClockTimer; wake: () => void }>();

  constructor(private readonly pool: CreatorPool<C, N>) {}

  /** Starts a create on `node`, counted against its limits from now on; `sponsor` is the waiter it is for. */
  start(node: NodeState<C, N>, sponsor: Waiter<C, N> | undefined): void {
    const pool = this.pool;
    const record = new PooledConnection<C, N>(node, pool.options.maxLeasesPerConnection);
    node.connections.add(record);
    pool.total++;
    node.creating++;
    pool.creating++;
    if (node.circuit === 'half-open') node.isTrialInFlight = true;
    if (sponsor) sponsor.hasPendingCreate = true;
    record.sponsor = sponsor;
    void this.run(record);
  }

  /** Ends a create under way: aborts the attempt in flight or cuts its backoff short. */
  abort(record: PooledConnection<C, N>): void {
    this.attempts.get(record)?.abort(new PoolError('POOL_CLOSED', 'The pool closed while connecting'));
    const backoff = this.backoffs.get(record);
    if (backoff) {
      this.pool.clock.clearTimeout(backoff.timer);
      backoff.wake();
    }
  }

  private async run(record: PooledConnection<C, N>): Promise<void> {
    const pool = this.pool;
    const node = record.node;
    const { createRetry } = pool.options;
    if (pool.permits !== undefined) {
      const refusal = await pool.permits.obtain(record, this.attempts);
      if (refusal !== undefined) return this.onPermitRefused(record, refusal);
    }
    for (let attempt = 1; ; attempt++) {
      const started = pool.clock.now();
      const error = await this.attempt(record);
      const now = pool.clock.now();
      const sponsor = record.sponsor;
      if (error === undefined) {
        this.onCreated(record, now, now - started);
        return;
      }
      if (pool.lifecycle.isWindingDown(node)) {
        // Aborted by drain or node removal: not a failure of the node.
        this.abandon(record);
        pool.afterChange();
        return;
      }
      pool.counters.createFailures++;
      node.createFailures++;
      node.lastError = describeError(error);
      pool.emit('createError', { node: node.id, error, attempt });
      this.recordFailure(node, now);
      if (attempt < createRetry.attempts && sponsor !== undefined && this.mayRetry(sponsor, node) && record.permit?.lost.aborted !== true && isRetryable(pool.options.factory, error, node.node)) {
        const delay = retryDelayMs(createRetry, attempt);
        if (now + delay < sponsor.deadline) {
          await this.backoff(record, delay);
          if (this.mayRetry(sponsor, node)) continue;
        }
      }
      this.abandon(record);
      if (sponsor !== undefined && !sponsor.isSettled) this.onSponsorFailed(sponsor, node, error);
      pool.afterChange();
      return;
    }
  }

  /** One call of factory.create, bounded by createTimeoutMs; resolves with the error, if any. */
  private async attempt(record: PooledConnection<C, N>): Promise<unknown> {
    const pool = this.pool;
    const node = record.node;
    const { factory } = pool.options;
    const controller = new AbortController();
    this.attempts.set(record, controller);
    const timer = abortAfter(pool.clock, controller, pool.options.createTimeoutMs, 'create');
    try {
      const context = { signal: controller.signal, invalidate: (reason?: unknown) => pool.lifecycle.invalidate(record, reason) };
      const bounded = (): Promise<C> => {
        const creating = Promise.resolve().then(() => factory.create(node.node, context));
        return raceAbort(creating, controller.signal, (late) => this.disposeStray(late, node));
      };
      record.connection = await (createChannel.hasSubscribers
        ? createChannel.tracePromise(bounded, { pool: pool.name, node: node.id })
        : bounded());
      if (record.isRetired) throw record.retiredBecause ?? new Error('The connection was invalidated while it was created');
      return undefined;
    } catch (error) {
      if (record.connection !== undefined) this.disposeStray(record.connection, node);
      record.connection = undefined;
      record.isRetired = false;
      return error;
    } finally {
      if (timer) pool.clock.clearTimeout(timer);
      this.attempts.delete(record);
    }
  }

  private mayRetry(sponsor: Waiter<C, N>, node: NodeState<C, N>): boolean {
    return !sponsor.isSettled && !this.pool.lifecycle.isWindingDown(node) && node.circuit === 'closed';
  }

  private onCreated(record: PooledConnection<C, N>, now: number, durationMs: number): void {
    const pool = this.pool;
    const node = record.node;
    const { maxLifetimeMs, lifetimeJitterMs } = pool.options;
    record.createdAt = now;
    record.lastValidatedAt = now;
    record.expiresAt = expiresAt(now, maxLifetimeMs, lifetimeJitterMs);
    pool.counters.created++;
    node.created++;
    pool.createMs.record(durationMs);
    if (node.recordSuccess()) {
      pool.openCircuits--;
      pool.emit('circuitClose', { node: node.id });
    }
    pool.emit('create', { node: node.id, durationMs });
    this.freeWaiters(record);
    const retirement = pool.lifecycle.retirementReason(record, now);
    if (retirement !== undefined) {
      // Created while the pool or its node winds down: out of 'creating' so destroy takes it.
      pool.setState(record, 'idle');
      void pool.lifecycle.destroy(record, retirement, undefined);
      return;
    }
    pool.lifecycle.refreshMaxLeases(record);
    pool.makeIdle(record, now, true);
    pool.afterChange();
  }

  /**
   * No permit came for this create. Past the sponsor's deadline the deadline timer fails it
   * (ACQUIRE_TIMEOUT, the wait counted like any other); when winding down, drain says so; else
   * the source failed, and the sponsor gets CREATE_FAILED with its error. Not a node failure.
   */
  private onPermitRefused(record: PooledConnection<C, N>, refusal: unknown): void {
    const pool = this.pool;
    const sponsor = record.sponsor;
    this.abandon(record);
    if (sponsor === undefined || sponsor.isSettled || pool.lifecycle.isWindingDown(record.node)) return pool.afterChange();
    // At the deadline: left to the deadline timer, without a pump that would start another wait.
    if (sponsor.deadline <= pool.clock.now()) return;
    sponsor.lastCreateError = refusal;
    pool.failWaiter(sponsor, new PoolError('CREATE_FAILED', `Could not get a permit for node '${record.node.id}': ${describeError(refusal)}`, { cause: refusal }));
    pool.afterChange();
  }

  /** Drops a create that will not be retried; its sponsor may start another. */
  private abandon(record: PooledConnection<C, N>): void {
    this.pool.forgetRecord(record);
    this.freeWaiters(record);
  }

  /** The waiters counting on this create may start or claim another. */
  private freeWaiters(record: PooledConnection<C, N>): void {
    if (record.sponsor) record.sponsor.hasPendingCreate = false;
    record.sponsor = undefined;
    if (record.riders) for (const rider of record.riders) rider.hasPendingCreate = false;
    record.riders = undefined;
  }

  private recordFailure(node: NodeState<C, N>, now: number): void {
    const transition = node.recordFailure(now, this.pool.options.circuitBreaker);
    if (transition === undefined) return;
    if (transition === 'opened') this.pool.openCircuits++;
    this.pool.emit('circuitOpen', { node: node.id, failures: node.consecutiveFailures });
  }

  /** The create started for this waiter failed for good: fail over to another node, or fail it. */
  private onSponsorFailed(waiter: Waiter<C, N>, node: NodeState<C, N>, error: unknown): void {
    waiter.lastCreateError = error;
    const mayFailOver = waiter.node === undefined && (waiter.affinityKey === undefined || node.circuit === 'open');
    if (mayFailOver && waiter.affinityKey === undefined) (waiter.failedNodes ??= []).push(node.id);
    const failed = waiter.failedNodes ?? [];
    const hasOtherNode = mayFailOver && this.pool.nodeList.some((candidate) => candidate.isSelectable && !failed.includes(candidate.id));
    if (!hasOtherNode) {
      this.pool.failWaiter(waiter, new PoolError('CREATE_FAILED', `Could not create a connection to node '${node.id}': ${describeError(error)}`, { cause: error }));
    }
  }

  /** Destroys a connection that arrived after its create was abandoned; it was never counted. */
  private disposeStray(connection: C, node: NodeState<C, N>): void {
    const pool = this.pool;
    Promise.resolve()
      .then(() => pool.options.factory.destroy(connection, node.node))
      .catch((error: unknown) => pool.emit('error', { error, during: 'destroy', node: node.id }));
  }

  private backoff(record: PooledConnection<C, N>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.backoffs.delete(record);
        resolve();
      };
      this.backoffs.set(record, { timer: setUnrefTimeout(this.pool.clock, wake, ms), wake });
    });
  }
}

/** A factory's own word on whether a failed create may be tried again (default: yes); a throw in it counts as yes. */
function isRetryable<C, N extends PoolNode>(factory: ConnectionFactory<C, N>, error: unknown, node: N): boolean {
  if (factory.isRetryable === undefined) return true;
  try {
    return factory.isRetryable(error, node) !== false;
  } catch {
    return true;
  }
}
