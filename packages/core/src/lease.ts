import type { PooledConnection } from './connection.js';
import { PoolError } from './errors.js';
import { invalidOption, rejectUnknownOptions } from './resolve-options.js';
import type { PoolNode } from './options.js';
import type { PartitionState } from './partitions.js';

/** One user's hold on a connection, from acquire to release or destroy. */
export interface Lease<C, N extends PoolNode = PoolNode> extends AsyncDisposable {
  readonly connection: C;
  readonly node: N;
  /** ms epoch when the connection was created. */
  readonly createdAt: number;
  /** ms epoch of this lease. */
  readonly acquiredAt: number;
  /** Leases this connection has served, this one included. */
  readonly useCount: number;
  /**
   * Gives the connection back. A second call rejects LEASE_RELEASED. With `adaptiveLimit` on,
   * `outcome` tells the node's limit what the operation cost (see {@link LeaseOutcome}); without
   * it the sample is acquire-to-release, not dropped.
   */
  release(outcome?: LeaseOutcome): Promise<void>;
  /** The connection is broken: close it, never reuse it. */
  destroy(reason?: unknown): Promise<void>;
}

/** What the operation done on a lease cost, for the node's adaptive limit. */
export interface LeaseOutcome {
  /** The operation's own latency (send to reply), ms; default acquire-to-release. */
  latencyMs?: number;
  /** The operation failed as an overloaded backend fails (timeout, 503/429, RESOURCE_EXHAUSTED); default false. */
  dropped?: boolean;
}

/** What a lease needs from its pool. */
export interface LeaseOwner<C, N extends PoolNode> {
  endLease(lease: PoolLease<C, N>, destroyReason: unknown, isDestroy: boolean, outcome?: LeaseOutcome): Promise<void>;
}

export class PoolLease<C, N extends PoolNode> implements Lease<C, N> {
  isEnded = false;
  isLeakReported = false;
  readonly useCount: number;

  constructor(
    private readonly owner: LeaseOwner<C, N>,
    readonly record: PooledConnection<C, N>,
    readonly partition: PartitionState | undefined,
    readonly acquiredAt: number,
    readonly stack: string | undefined,
  ) {
    this.useCount = record.useCount;
  }

  get connection(): C {
    return this.record.connection as C;
  }

  get node(): N {
    return this.record.node.node;
  }

  get createdAt(): number {
    return this.record.createdAt;
  }

  release(outcome?: LeaseOutcome): Promise<void> {
    if (this.isEnded) return Promise.reject(alreadyEnded());
    if (outcome !== undefined) {
      // Refused before the lease ends, so a bad call can be corrected and nothing is half done.
      const error = checkOutcome(outcome);
      if (error !== undefined) return Promise.reject(error);
    }
    return this.owner.endLease(this, undefined, false, outcome);
  }

  destroy(reason?: unknown): Promise<void> {
    if (this.isEnded) return Promise.reject(alreadyEnded());
    return this.owner.endLease(this, reason, true);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.isEnded ? Promise.resolve() : this.release();
  }
}

function checkOutcome(outcome: LeaseOutcome): PoolError | undefined {
  if (outcome === null || typeof outcome !== 'object') return invalidOption('release', outcome, 'must be { latencyMs?, dropped? }');
  try {
    rejectUnknownOptions(outcome, OUTCOME_NAMES, 'release.');
  } catch (error) {
    return error as PoolError;
  }
  const { latencyMs, dropped } = outcome;
  if (latencyMs !== undefined && !(typeof latencyMs === 'number' && latencyMs >= 0 && latencyMs !== Infinity)) {
    return invalidOption('release.latencyMs', latencyMs, 'must be a finite number >= 0');
  }
  if (dropped !== undefined && typeof dropped !== 'boolean') return invalidOption('release.dropped', dropped, 'must be true or false');
  return undefined;
}

const OUTCOME_NAMES = ['latencyMs', 'dropped'] as const;

function alreadyEnded(): PoolError {
  return new PoolError('LEASE_RELEASED', 'This lease was already released or destroyed');
}
