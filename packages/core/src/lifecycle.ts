import type { PermitPolicy } from './permits.js';
import { abortAfter, raceAbort } from './abort.js';
import { describeError } from './errors.js';
import type { Clock } from './clock.js';
import type { DestroyReason, PoolEmitter } from './events.js';
import type { PoolLedger } from './ledger.js';
import type { NodeState, PooledConnection } from './records.js';
import type { PoolNode, ResolvedOptions } from './options.js';
import { destroyChannel } from './diagnostics.js';

/**
 * What a connection's lifecycle touches: the factory and the options that bound its calls, the
 * books it moves records through, and the engine's rule for a connection back in service.
 */
export interface LifecyclePool<C, N extends PoolNode>
  extends Pick<PoolLedger<C, N>, 'setState' | 'removeAvailable' | 'forgetRecord' | 'afterChange' | 'counters' | 'name'>,
    Pick<PoolEmitter, 'emit'> {
  readonly options: Pick<ResolvedOptions<C, N>, 'factory' | 'validateOnRelease' | 'maxUses' | 'createTimeoutMs' | 'maxLeasesPerConnection'>;
  readonly clock: Clock;
  readonly isClosed: boolean;
  /** Back into service: straight to the first waiter when possible, else idle. */
  reuse(record: PooledConnection<C, N>, now: number): void;
  /** `options.permits` as the engine consults it; undefined without one. */
  readonly permits: Pick<PermitPolicy<C, N>, 'shouldReturn'> | undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A connection's way back into service after a lease (reset, validation, lease cap) and its way
 * out (retired, destroyed, forgotten): everything that calls the factory on an existing connection.
 */
export class ConnectionLifecycle<C, N extends PoolNode> {
  constructor(private readonly pool: LifecyclePool<C, N>) {}

  /**
   * Runs factory.reset, synchronously when it returns no promise, so the connection is reused
   * at once; returns a promise only when the rest (an async reset, validateOnRelease) must wait.
   */
  resetNow(record: PooledConnection<C, N>): Promise<void> | undefined {
    const { factory } = this.pool.options;
    let result: unknown;
    try {
      result = factory.reset?.(record.connection as C, record.node.node);
    } catch (error) {
      return this.failReset(record, error);
    }
    if (!isPromiseLike(result) && !this.pool.options.validateOnRelease) return undefined;
    this.pool.setState(record, 'validating');
    return this.finishRecycle(record, result);
  }

  private failReset(record: PooledConnection<C, N>, error: unknown): Promise<void> {
    this.pool.emit('error', { error, during: 'reset', node: record.node.id });
    return this.destroy(record, 'broken', error);
  }

  retirementReason(record: PooledConnection<C, N>, now: number): DestroyReason | undefined {
    const node = record.node;
    if (node.isRemoved) return 'node-removed';
    if (this.pool.isClosed || node.isDraining) return 'drain';
    if (record.isRetired) return 'broken';
    if (record.useCount >= this.pool.options.maxUses) return 'maxUses';
    if (record.expiresAt <= now) return 'lifetime';
    // Only once it served a lease: a fresh connection is not handed back before its first use.
    if (record.permit !== undefined && record.useCount > 0 && this.pool.permits?.shouldReturn(record) === true) return 'lifetime';
    return undefined;
  }

  isWindingDown(node: NodeState<C, N>): boolean {
    return this.pool.isClosed || node.isRemoved || node.isDraining;
  }

  /** The asynchronous rest of a recycle: await the reset, validate on release, then reuse. */
  private async finishRecycle(record: PooledConnection<C, N>, reset: unknown): Promise<void> {
    try {
      await reset;
    } catch (error) {
      await this.failReset(record, error);
      return;
    }
    if (this.pool.options.validateOnRelease && !(await this.validate(record, 'release'))) {
      await this.destroy(record, 'invalid', undefined);
      return;
    }
    if (record.state !== 'validating') return; // destroyed meanwhile (drain, node removal)
    const now = this.pool.clock.now();
    const retirement = this.retirementReason(record, now);
    if (retirement !== undefined) {
      await this.destroy(record, retirement, record.retiredBecause);
      return;
    }
    this.pool.reuse(record, now);
  }

  /** Runs the factory's validate, bounded by createTimeoutMs; a throw or timeout counts as invalid. */
  async validate(record: PooledConnection<C, N>, reason: 'acquire' | 'release' | 'idle'): Promise<boolean> {
    const { validate } = this.pool.options.factory;
    if (validate === undefined) return true;
    const controller = new AbortController();
    const timer = abortAfter(this.pool.clock, controller, this.pool.options.createTimeoutMs, 'validate');
    let isValid: boolean;
    try {
      const check = validate.call(this.pool.options.factory, record.connection as C, { signal: controller.signal, node: record.node.node, reason });
      isValid = (await raceAbort(Promise.resolve(check), controller.signal)) === true;
    } catch (error) {
      isValid = false;
      record.node.lastError = describeError(error);
    } finally {
      if (timer) this.pool.clock.clearTimeout(timer);
    }
    record.lastValidatedAt = this.pool.clock.now();
    if (!isValid) {
      this.pool.counters.validationFailures++;
      record.node.validationFailures++;
    }
    return isValid;
  }

  /** Asks the factory for a connection's current lease cap (HTTP/2 SETTINGS, SSH MaxSessions). */
  refreshMaxLeases(record: PooledConnection<C, N>): void {
    const { factory, maxLeasesPerConnection } = this.pool.options;
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

  /** For ctx.invalidate: never handed out again; destroyed at once when idle, else when its leases end. */
  invalidate(record: PooledConnection<C, N>, reason: unknown): void {
    if (record.isRetired || record.state === 'closing') return;
    record.isRetired = true;
    record.retiredBecause = reason;
    this.pool.removeAvailable(record);
    if (record.state === 'idle') void this.destroy(record, 'broken', reason);
  }

  /** No new leases; destroyed now if nothing holds it, else when its last lease ends. */
  retire(record: PooledConnection<C, N>, reason: DestroyReason, error: unknown): Promise<void> {
    record.isRetired = true;
    record.retiredBecause ??= error;
    this.pool.removeAvailable(record);
    if (record.leases === 0 && record.state !== 'validating') return this.destroy(record, reason, error);
    this.pool.afterChange();
    return RESOLVED;
  }

  destroy(record: PooledConnection<C, N>, reason: DestroyReason, error: unknown): Promise<void> {
    if (record.state === 'closing' || record.state === 'creating') return RESOLVED;
    this.pool.removeAvailable(record);
    this.pool.setState(record, 'closing');
    const node = record.node;
    return this.destroyConnection(record)
      .catch((destroyError: unknown) => this.pool.emit('error', { error: destroyError, during: 'destroy', node: node.id }))
      .then(() => {
        this.pool.forgetRecord(record);
        this.pool.counters.destroyed++;
        node.destroyed++;
        this.pool.emit('destroy', error === undefined ? { node: node.id, reason } : { node: node.id, reason, error });
        if (destroyChannel.hasSubscribers) destroyChannel.publish({ pool: this.pool.name, node: node.id, reason });
        this.pool.afterChange();
      });
  }

  private async destroyConnection(record: PooledConnection<C, N>): Promise<void> {
    const controller = new AbortController();
    const timer = abortAfter(this.pool.clock, controller, this.pool.options.createTimeoutMs, 'destroy');
    try {
      const destroying = Promise.resolve().then(() => this.pool.options.factory.destroy(record.connection as C, record.node.node));
      await raceAbort(destroying, controller.signal);
    } finally {
      if (timer) this.pool.clock.clearTimeout(timer);
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
